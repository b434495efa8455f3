/**
 * The bench scripts' argument parser (bench/lib/args.ts): typed values and defaults, and the
 * one-line errors for a command line that does not fit.
 */
import { describe, expect, it } from "vitest";
import { HelpRequested, helpText, parseArgsOrThrow, UsageError } from "../bench/lib/args.ts";

const program = {
  name: "bench/example.ts",
  summary: "An example.",
  options: {
    megabytes: { type: "number", above: 0, default: 64, description: "MiB to move" },
    repeat: { type: "number", integer: true, min: 1, max: 9, description: "rounds" },
    runtime: { type: "string", choices: ["node", "bun", "deno"], default: "node", description: "runtime" },
    to: { type: "string", description: "where to" },
    runtimes: { type: "list", choices: ["node", "bun", "deno"], default: ["node", "bun"], description: "runtimes" },
    rtts: { type: "numbers", min: 0, description: "round trips" },
    smoke: { type: "boolean", description: "tiny" },
  },
} as const;

const parse = (...argv: string[]) => parseArgsOrThrow(program, argv);
const usageError = (...argv: string[]) => {
  try {
    parse(...argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`no error for ${argv.join(" ")}`);
};

describe("bench argument parser", () => {
  it("gives the defaults when nothing is given", () => {
    expect(parse()).toEqual({
      megabytes: 64,
      repeat: undefined,
      runtime: "node",
      to: undefined,
      runtimes: ["node", "bun"],
      rtts: undefined,
      smoke: false,
      positionals: [],
    });
  });

  it("reads every type, as --name value and --name=value", () => {
    const a = parse("--megabytes", "0.5", "--repeat=3", "--runtime", "deno", "--to", "h:1", "--smoke");
    expect([a.megabytes, a.repeat, a.runtime, a.to, a.smoke]).toEqual([0.5, 3, "deno", "h:1", true]);
    const b = parse("--runtimes", "bun, deno", "--rtts=0,20,50");
    expect([b.runtimes, b.rtts]).toEqual([
      ["bun", "deno"],
      [0, 20, 50],
    ]);
  });

  it("names an unknown option and lists the known ones", () => {
    expect(usageError("--megabyte", "3")).toBe(
      "unknown option --megabyte; known: --megabytes, --repeat, --runtime, --to, --runtimes, --rtts, --smoke, --help",
    );
    expect(usageError("--constructor")).toMatch(/^unknown option --constructor;/);
  });

  it("refuses values out of range or outside the choices", () => {
    expect(usageError("--megabytes", "0")).toBe('--megabytes: expected > 0, got "0"');
    expect(usageError("--megabytes", "lots")).toBe('--megabytes: expected > 0, got "lots"');
    expect(usageError("--repeat", "2.5")).toBe('--repeat: expected a whole number ≥ 1 ≤ 9, got "2.5"');
    expect(usageError("--repeat", "10")).toMatch(/^--repeat: expected/);
    expect(usageError("--runtime", "python")).toBe('--runtime: expected one of node, bun, deno, got "python"');
    expect(usageError("--runtimes", "node,perl")).toMatch(/^--runtimes: expected one of/);
    expect(usageError("--rtts", "20,-1")).toBe('--rtts: expected ≥ 0, got "-1"');
  });

  it("refuses a missing value, a value for a flag and a stray argument", () => {
    expect(usageError("--megabytes")).toBe("--megabytes needs a value (N)");
    expect(usageError("--to", "--smoke")).toBe("--to needs a value (VALUE)");
    expect(usageError("--smoke=yes")).toBe("--smoke takes no value");
    expect(usageError("extra")).toBe('unexpected argument "extra"');
  });

  it("takes the positionals a program declares, and requires them", () => {
    const withFile = { ...program, options: {}, positionals: ["FILE"] };
    expect(parseArgsOrThrow(withFile, ["a.cpuprofile"]).positionals).toEqual(["a.cpuprofile"]);
    expect(() => parseArgsOrThrow(withFile, [])).toThrow("missing FILE");
    const required = { ...program, options: { to: { type: "string", required: true, description: "to" } } } as const;
    expect(() => parseArgsOrThrow(required, [])).toThrow("--to is required");
  });

  it("answers --help with every option, its range and its default", () => {
    expect(() => parse("--megabytes", "1", "--help")).toThrow(HelpRequested);
    const help = helpText(program);
    expect(help).toContain("usage: bench/example.ts [options]");
    expect(help).toMatch(/--megabytes N +MiB to move \(> 0; default 64\)/);
    expect(help).toMatch(/--runtime node\|bun\|deno +runtime \(default node\)/);
    expect(help).toMatch(/--help +print this text/);
  });
});
