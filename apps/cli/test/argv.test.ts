/**
 * The command line as a real command reads it (issue 16, item 1): every token checked against
 * the verb's own definitions, a wrong one a one-line usage error naming the nearest valid
 * option (exit status 2); help with examples and the environment it reads, in colour only on
 * a terminal without NO_COLOR; completion scripts written from the same definitions.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ArgsDef } from "citty";
import { beforeAll, describe, expect, it } from "vitest";
import { checkArgs, levenshtein } from "../src/argv.ts";
import { completionScript } from "../src/completion.ts";
import { EXIT_USAGE, exitCodeFor, UsageError } from "../src/errors.ts";
import { renderMainHelp, renderVerbHelp, useColor, VERB_HELP } from "../src/help.ts";
import { VERB_LOADERS, type Verb } from "../src/verbs.ts";

let defs: Record<Verb, ArgsDef>;

beforeAll(async () => {
  const verbs = Object.keys(VERB_LOADERS) as Verb[];
  const loaded = await Promise.all(verbs.map(async (v) => (await VERB_LOADERS[v]()).args as ArgsDef));
  defs = Object.fromEntries(verbs.map((v, i) => [v, loaded[i]])) as Record<Verb, ArgsDef>;
});

function check(verb: Verb, raw: string[]): string | undefined {
  try {
    checkArgs(defs[verb], raw, {
      verb,
      positionals: VERB_HELP[verb].positionals,
      command: VERB_HELP[verb].command ?? false,
    });
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect(exitCodeFor(err)).toBe(EXIT_USAGE);
    return (err as Error).message;
  }
}

describe("UnknownOptionRefused: a wrong token is a usage error naming the nearest option", () => {
  it("a typo of a long option", () => {
    expect(check("open", ["DB", "--prot", "5"])).toBe("unknown option --prot for tunnel open; did you mean --port?");
    expect(check("open", ["DB", "--know-hosts", "f"])).toMatch(/did you mean --known-hosts\?$/);
    expect(check("check", ["h", "--jsn"])).toMatch(/did you mean --json\?$/);
  });

  it("a flag of another tool says what we have instead", () => {
    expect(check("run", ["DB", "-D", "1080", "--", "x"])).toMatch(
      /unknown option -D for tunnel run; try `tunnel socks`/,
    );
    expect(check("socks", ["--daemon"])).toMatch(/background/);
  });

  it("an option far from every valid one still names the nearest", () => {
    expect(check("demo", ["--zzzzzzzzzz"])).toMatch(/unknown option --zzzzzzzzzz for tunnel demo; the nearest is --/);
  });

  it("--no- only for booleans; a one-letter long name is refused", () => {
    expect(check("open", ["DB", "--no-reconnect", "--no-json"])).toBeUndefined();
    expect(check("open", ["DB", "--no-port"])).toMatch(/unknown option --no-port/);
    expect(check("open", ["DB", "--p", "5"])).toMatch(/unknown option --p for tunnel open; did you mean -p\?/);
    expect(check("open", ["DB", "--no-reconnect=1"])).toBe("--no-reconnect takes no value");
    expect(check("open", ["DB", "--json=yes"])).toMatch(/--json takes no value/);
    expect(check("open", ["DB", "--json=false"])).toBeUndefined();
  });

  it("stray and missing arguments", () => {
    expect(check("check", ["host", "extra"])).toBe('unexpected argument "extra": tunnel check takes DESTINATION only');
    expect(check("socks", ["oops"])).toBe('unexpected argument "oops": tunnel socks takes no arguments');
    expect(check("check", [])).toBe("missing DESTINATION; see tunnel check --help");
    expect(check("demo", ["--", "x"])).toMatch(/unexpected argument "x"/);
  });

  it("run: targets, then -- and a command, which must be there", () => {
    expect(check("run", ["DB", "--", "psql", "-c", "select 1", "--no-such-psql-flag"])).toBeUndefined();
    expect(check("run", ["DB"])).toMatch(/^no command given; expected tunnel run TARGET… -- COMMAND/);
    expect(check("run", ["DB", "--"])).toBe("nothing after --: expected the command to run");
    expect(check("run", ["--", "psql"])).toBe("missing TARGET; see tunnel run --help");
  });

  it("values: attached, after =, grouped short options, and values starting with '-'", () => {
    expect(check("open", ["DB", "-p5432", "--via=h", "-vp", "5", "-i", "k"])).toBeUndefined();
    expect(check("open", ["DB", "--kex-algorithms", "-diffie-hellman*", "--via", "h"])).toBeUndefined();
    expect(check("open", ["DB", "--via"])).toMatch(/^--via needs a value/);
    expect(check("open", ["DB", "--via", "--port", "5"])).toMatch(/^--via needs a value/);
    expect(check("open", ["DB", "-p"])).toMatch(/^-p needs a value/);
    expect(check("open", ["DB", "-vx"])).toMatch(/unknown option -x/);
  });

  it("a flag's bad value names the flag: usage (2); other failures are 1", () => {
    expect(exitCodeFor(new TypeError('--grace: "x" is not a number of seconds'))).toBe(2);
    expect(exitCodeFor(new TypeError("port 5432 on 127.0.0.1 is already in use; choose another with --port"))).toBe(1);
    expect(exitCodeFor(new Error("connection refused"))).toBe(1);
  });

  it("edit distance counts a swap as one", () => {
    expect(levenshtein("prot", "port")).toBe(1);
    expect(levenshtein("via", "via")).toBe(0);
    expect(levenshtein("", "abc")).toBe(3);
    expect(levenshtein("kitten", "sitting")).toBe(3);
  });
});

describe("HelpPerVerb: examples, environment, colour only on a terminal", () => {
  it("every verb's help has its options, the environment it reads and examples", () => {
    for (const verb of Object.keys(defs) as Verb[]) {
      const text = renderVerbHelp(verb, defs[verb], false);
      expect(text, verb).toMatch(/^Usage: tunnel /m);
      expect(text, verb).toMatch(/^Environment:\n(?: {2}\S.*\n)+/m);
      expect(text, verb).toContain("NO_COLOR");
      expect(text, verb).toMatch(/^Examples:\n {2}# .+\n {2}tunnel /m);
      for (const name of Object.keys(defs[verb])) {
        const def = defs[verb][name];
        if (def?.type === "positional") continue;
        const shown = def?.type === "boolean" && def.default === true ? `--[no-]${name}` : `--${name}`;
        expect(text, `${verb} --${name}`).toContain(shown);
      }
    }
    expect(renderVerbHelp("open", defs.open, false)).toContain("TUNNEL_VIA");
    expect(renderVerbHelp("run", defs.run, false)).toContain("--[no-]reconnect");
  });

  it("no escape codes unless colour is asked for", () => {
    expect(renderVerbHelp("open", defs.open, false)).not.toContain("\x1b");
    expect(renderMainHelp(false)).not.toContain("\x1b");
    expect(renderVerbHelp("open", defs.open, true)).toContain("\x1b[1mUsage:\x1b[22m");
  });

  it("colour: a terminal, NO_COLOR unset or empty, TERM not dumb", () => {
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({}, {})).toBe(false);
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(useColor({ isTTY: true }, { TERM: "dumb" })).toBe(false);
  });
});

describe("Completion: scripts from the verbs' own definitions", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-completion-"));
    fs.writeFileSync(path.join(dir, "tunnel.bash"), completionScript("bash", defs));
  });

  /** Runs the bash completion for a command line; the cursor is on the last word. */
  function complete(...words: string[]): string[] {
    const script = `source ${JSON.stringify(path.join(dir, "tunnel.bash"))}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_tunnel; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, DATABASE_URL: "x" } })
      .split("\n")
      .filter(Boolean);
  }

  it("bash: verbs, a verb's options, choices, variables as targets", () => {
    expect(complete("tunnel", "ex")).toEqual(["expose"]);
    expect(complete("tunnel", "open", "--vi")).toEqual(["--via"]);
    expect(complete("tunnel", "socks", "--no-re")).toEqual(["--no-reconnect"]);
    expect(complete("tunnel", "check", "h", "--host-key-check", "a")).toEqual(["accept-new"]);
    expect(complete("tunnel", "run", "DATABASE_")).toContain("DATABASE_URL");
    expect(complete("tunnel", "completion", "z")).toEqual(["zsh"]);
    expect(complete("tunnel", "run", "X", "--", "bas")).toContain("bash");
  });

  it("bash: the manager verbs complete the names of recorded tunnels", () => {
    const state = path.join(dir, "state");
    fs.mkdirSync(path.join(state, "tunnel"), { recursive: true });
    for (const n of ["db", "cache"]) fs.writeFileSync(path.join(state, "tunnel", `${n}.json`), "{}");
    const script = `source ${JSON.stringify(path.join(dir, "tunnel.bash"))}
COMP_WORDS=(tunnel close ''); COMP_CWORD=2; _tunnel; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const out = execFileSync("bash", ["-c", script], {
      encoding: "utf8",
      env: { ...process.env, XDG_STATE_HOME: state },
    });
    expect(out.split("\n").filter(Boolean).sort()).toEqual(["cache", "db"]);
  });

  it("zsh and fish: every verb and option is offered", () => {
    const zsh = completionScript("zsh", defs);
    const fish = completionScript("fish", defs);
    expect(zsh.split("\n")[0]).toBe("#compdef tunnel tunnel-bun tunnel-deno");
    for (const verb of Object.keys(defs)) {
      expect(zsh).toContain(`'${verb}:`);
      expect(fish).toContain(`-a ${verb} -d`);
    }
    expect(zsh).toContain("'--remote-port=[");
    expect(zsh).toMatch(/'-i\+\[private key file[^\]]*\]:path:_files'/);
    expect(fish).toContain("-n '__fish_seen_subcommand_from socks' -s p -l port -x");
    expect(fish).toContain("complete -c tunnel-bun -w tunnel");
  });
});
