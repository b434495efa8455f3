/**
 * The one command-line parser of the bench scripts (benchmark tooling, not part of the product).
 * Each script declares its options once — a number within a range, a string (optionally one of
 * a set), a boolean flag, a comma-separated list — and gets them back typed. `--name value` and
 * `--name=value` both work. An unknown option, a missing or bad value, or a stray argument is one
 * line on stderr naming it (and, for an unknown option, the known ones) and exit status 2;
 * `--help` prints the options and exits 0. Pure TypeScript over `process.argv`, so it runs under
 * Node, Bun and Deno alike (the scripts run under all three).
 */

interface Described {
  /** One line for `--help`. */
  description: string;
  /** The placeholder shown in `--help` after the option (default: by type). */
  value?: string;
  /** The default as `--help` shows it, where printing the value itself would not help. */
  shownDefault?: string;
}

export interface NumberOption extends Described {
  type: "number";
  default?: number;
  /** Smallest value allowed (inclusive). */
  min?: number;
  /** Values must be greater than this (exclusive lower bound). */
  above?: number;
  /** Largest value allowed (inclusive). */
  max?: number;
  integer?: boolean;
}

export interface StringOption extends Described {
  type: "string";
  default?: string;
  /** The only values accepted. */
  choices?: readonly string[];
  required?: boolean;
}

export interface FlagOption extends Described {
  type: "boolean";
}

export interface ListOption extends Described {
  type: "list";
  default?: readonly string[];
  /** The only items accepted. */
  choices?: readonly string[];
}

export interface NumberListOption extends Described {
  type: "numbers";
  default?: readonly number[];
  /** Smallest item allowed (inclusive). */
  min?: number;
}

export type OptionSpec = NumberOption | StringOption | FlagOption | ListOption | NumberListOption;
export type OptionSpecs = Record<string, OptionSpec>;

type Choice<O> = O extends { choices: readonly (infer C)[] } ? C : string;

/** What parsing gives for one option: `undefined` only where there is no default and it was not given. */
export type OptionValue<O> = O extends FlagOption
  ? boolean
  : O extends NumberOption
    ? O extends { default: number }
      ? number
      : number | undefined
    : O extends StringOption
      ? O extends { default: string } | { required: true }
        ? Choice<O>
        : Choice<O> | undefined
      : O extends ListOption
        ? O extends { default: readonly string[] }
          ? Choice<O>[]
          : Choice<O>[] | undefined
        : O extends NumberListOption
          ? O extends { default: readonly number[] }
            ? number[]
            : number[] | undefined
          : never;

export type ParsedArgs<S extends OptionSpecs> = { -readonly [K in keyof S]: OptionValue<S[K]> } & {
  /** The arguments that are not options (only when the program declares `positionals`). */
  positionals: string[];
};

export interface Program<S extends OptionSpecs> {
  /** How the script is run, for messages and `--help`: `bench/fuzz.ts`. */
  name: string;
  /** What the script does, for `--help`. */
  summary: string;
  options: S;
  /** Names of required positional arguments (`["FILE"]`); none when absent. */
  positionals?: readonly string[];
}

/** A command line that does not fit the program's options; `parseArgs` prints it and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Thrown by `parseArgsOrThrow` for `--help`: its message is the help text. */
export class HelpRequested extends Error {
  override name = "HelpRequested";
}

function placeholder(spec: OptionSpec): string {
  if (spec.value) return spec.value;
  switch (spec.type) {
    case "boolean":
      return "";
    case "number":
      return "N";
    case "numbers":
      return "N,…";
    case "string":
      return spec.choices ? spec.choices.join("|") : "VALUE";
    case "list":
      return spec.choices ? `${spec.choices.join("|")},…` : "A,B,…";
  }
}

function rangeText(spec: NumberOption): string {
  const parts: string[] = [];
  if (spec.integer) parts.push("a whole number");
  if (spec.min !== undefined) parts.push(`≥ ${spec.min}`);
  if (spec.above !== undefined) parts.push(`> ${spec.above}`);
  if (spec.max !== undefined) parts.push(`≤ ${spec.max}`);
  return parts.length ? parts.join(" ") : "a number";
}

function defaultText(spec: OptionSpec): string | undefined {
  if (spec.shownDefault !== undefined) return `default ${spec.shownDefault}`;
  if (spec.type === "boolean" || spec.default === undefined) return undefined;
  const d = spec.default;
  return `default ${Array.isArray(d) ? d.join(",") : String(d)}`;
}

/** The `--help` text of `program`. */
export function helpText<S extends OptionSpecs>(program: Program<S>): string {
  const rows: [string, string][] = Object.entries(program.options).map(([name, spec]) => {
    const value = placeholder(spec);
    const notes = [
      spec.type === "number" && rangeText(spec) !== "a number" ? rangeText(spec) : undefined,
      spec.type === "string" && spec.required ? "required" : undefined,
      defaultText(spec),
    ].filter((n) => n !== undefined);
    const about = notes.length ? `${spec.description} (${notes.join("; ")})` : spec.description;
    return [`--${name}${value ? ` ${value}` : ""}`, about];
  });
  rows.push(["--help", "print this text"]);
  const width = Math.min(40, Math.max(...rows.map(([left]) => left.length)));
  const positionals = (program.positionals ?? []).map((p) => ` ${p}`).join("");
  return [
    `usage: ${program.name} [options]${positionals}`,
    "",
    program.summary,
    "",
    "options:",
    ...rows.map(([left, right]) =>
      left.length > width ? `  ${left}\n  ${" ".repeat(width)}  ${right}` : `  ${left.padEnd(width)}  ${right}`,
    ),
  ].join("\n");
}

function parseNumber(name: string, raw: string, spec: NumberOption): number {
  const n = raw.trim() === "" ? Number.NaN : Number(raw);
  const ok =
    Number.isFinite(n) &&
    (!spec.integer || Number.isInteger(n)) &&
    (spec.min === undefined || n >= spec.min) &&
    (spec.above === undefined || n > spec.above) &&
    (spec.max === undefined || n <= spec.max);
  if (!ok) throw new UsageError(`--${name}: expected ${rangeText(spec)}, got "${raw}"`);
  return n;
}

function checkChoice(name: string, value: string, choices: readonly string[] | undefined): string {
  if (choices && !choices.includes(value))
    throw new UsageError(`--${name}: expected one of ${choices.join(", ")}, got "${value}"`);
  return value;
}

function parseValue(name: string, raw: string, spec: Exclude<OptionSpec, FlagOption>): unknown {
  switch (spec.type) {
    case "number":
      return parseNumber(name, raw, spec);
    case "string":
      return checkChoice(name, raw, spec.choices);
    case "list":
      return raw.split(",").map((item) => checkChoice(name, item.trim(), spec.choices));
    case "numbers":
      return raw.split(",").map((item) => parseNumber(name, item, { type: "number", description: "", min: spec.min }));
  }
}

/**
 * Parses `argv` (the arguments after the script) against `program`, throwing `UsageError` for a
 * command line that does not fit and `HelpRequested` for `--help`. Scripts call `parseArgs`.
 */
export function parseArgsOrThrow<const S extends OptionSpecs>(
  program: Program<S>,
  argv: readonly string[],
): ParsedArgs<S> {
  const specs = program.options;
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--") || arg === "--") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (name === "help") throw new HelpRequested(helpText(program));
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) {
      const known = [...Object.keys(specs), "help"].map((k) => `--${k}`).join(", ");
      throw new UsageError(`unknown option ${arg.slice(0, eq < 0 ? undefined : eq)}; known: ${known}`);
    }
    if (spec.type === "boolean") {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      values[name] = true;
      continue;
    }
    let raw: string | undefined;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else {
      raw = argv[i + 1];
      if (raw === undefined || raw.startsWith("--"))
        throw new UsageError(`--${name} needs a value (${placeholder(spec)})`);
      i++;
    }
    values[name] = parseValue(name, raw, spec);
  }
  const wanted = program.positionals ?? [];
  if (positionals.length > wanted.length) throw new UsageError(`unexpected argument "${positionals[wanted.length]}"`);
  if (positionals.length < wanted.length) throw new UsageError(`missing ${wanted[positionals.length]}`);
  for (const [name, spec] of Object.entries(specs)) {
    if (name in values) continue;
    if (spec.type === "boolean") values[name] = false;
    else if (spec.type === "string" && spec.required) throw new UsageError(`--${name} is required`);
    else values[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  }
  return { ...values, positionals } as ParsedArgs<S>;
}

interface ProcessLike {
  argv: string[];
  exit(code: number): never;
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

/**
 * Parses this process's arguments against `program`: on `--help` prints the options and exits
 * 0; on a command line that does not fit prints one line and exits 2.
 */
export function parseArgs<const S extends OptionSpecs>(program: Program<S>, argv?: readonly string[]): ParsedArgs<S> {
  const proc = (globalThis as { process?: ProcessLike }).process as ProcessLike;
  try {
    return parseArgsOrThrow(program, argv ?? proc.argv.slice(2));
  } catch (err) {
    if (err instanceof HelpRequested) {
      proc.stdout.write(`${err.message}\n`);
      return proc.exit(0);
    }
    if (err instanceof UsageError) {
      proc.stderr.write(`${program.name}: ${err.message}\n`);
      return proc.exit(2);
    }
    throw err;
  }
}
