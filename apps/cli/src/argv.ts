/**
 * Strict reading of a verb's command line, before citty parses it: citty (node:util's
 * parseArgs with `strict: false`) takes an unknown option or an extra argument without a
 * word, so a typo (`--prot 5`) or a flag from another tool (`-L`) would silently do nothing.
 * Here every token is checked against the verb's own argument definitions — long names,
 * one-letter aliases (also grouped, `-vp 5`, and with the value attached, `-p5`), `--name=value`,
 * and `--no-name` for booleans — and the first that is wrong becomes a one-line `UsageError`
 * naming the nearest valid option. Values may start with "-" (`--kex-algorithms -diffie*` is
 * OpenSSH's syntax), but an option's value is never `--` or another of its options. An enum
 * option's value must be one of its `options`: `--NAME: "VALUE" is not a HINT; expected A, B or C`,
 * HINT its `valueHint` in lower case.
 */
import type { ArgDef, ArgsDef } from "citty";
import { UsageError } from "./errors.ts";

export interface Positionals {
  /** Upper-case names for messages, e.g. ["TARGET"]. */
  names: readonly string[];
  min: number;
  /** Infinity for "several allowed". */
  max: number;
}

export interface CheckOptions {
  verb: string;
  positionals: Positionals;
  /** `--` ends the options and starts a command to run (`tunnel run … -- cmd`), which must be there. */
  command?: boolean;
}

interface Flag {
  name: string;
  type: "string" | "boolean";
  /** An enum's values, and what one is called in messages. */
  choices?: { values: readonly string[]; noun: string } | undefined;
}

/** Flags of other tools that people type out of habit, and what we have instead. */
const HABITS: Record<string, string> = {
  "-L": "`tunnel open` (local forwarding is what it does)",
  "-R": "`tunnel expose` (remote forwarding)",
  "-D": "`tunnel socks` (a SOCKS proxy)",
  "-N": "nothing: tunnel never runs a remote command",
  "-f": "`tunnel open --detach` (a background tunnel: tunnel list, tunnel close)",
  "-d": "`tunnel open --detach` (a background tunnel: tunnel list, tunnel close)",
  "--daemon": "`tunnel open --detach` (a background tunnel: tunnel list, tunnel close)",
};

/** Checks `raw` (the arguments after the verb); throws `UsageError` at the first wrong one. */
export function checkArgs(args: ArgsDef, raw: readonly string[], o: CheckOptions): void {
  const long = new Map<string, Flag>();
  const short = new Map<string, Flag>();
  for (const [name, def] of Object.entries(args) as [string, ArgDef][]) {
    if (def.type === "positional") continue;
    const flag: Flag = {
      name,
      type: def.type === "boolean" ? "boolean" : "string",
      choices:
        def.type === "enum" && def.options
          ? { values: def.options, noun: (def.valueHint ?? "value").toLowerCase() }
          : undefined,
    };
    long.set(name, flag);
    const aliases = def.type === undefined || !("alias" in def) ? [] : [def.alias ?? []].flat();
    for (const a of aliases) (a.length === 1 ? short : long).set(a, flag);
  }
  const suggest = (wrong: string) => nearestOption(wrong, long, short);
  const flagAt = (token: string) => {
    if (!token.startsWith("--")) return undefined;
    const name = token.slice(2).split("=")[0] as string;
    return long.get(name) ?? (name.startsWith("no-") ? long.get(name.slice(3)) : undefined);
  };
  const needsValue = (shown: string, next: string | undefined) => {
    if (next === undefined || next === "--" || flagAt(next) !== undefined) {
      throw new UsageError(`${shown} needs a value (tunnel ${o.verb} --help says what it takes)`);
    }
  };
  const checkChoice = (flag: Flag, value: string) => {
    const c = flag.choices;
    if (!c || c.values.includes(value)) return;
    const list = c.values.length > 1 ? `${c.values.slice(0, -1).join(", ")} or ${c.values.at(-1)}` : c.values[0];
    throw new UsageError(`--${flag.name}: "${value}" is not a ${c.noun}; expected ${list}`);
  };

  let positional = 0;
  const addPositional = (token: string) => {
    positional++;
    if (positional > o.positionals.max) {
      const what =
        o.positionals.max === 0
          ? `tunnel ${o.verb} takes no arguments`
          : `tunnel ${o.verb} takes ${o.positionals.names.join(" ")} only`;
      const hint = o.command ? "; a command to run goes after --" : "";
      throw new UsageError(`unexpected argument "${token}": ${what}${hint}`);
    }
  };

  let i = 0;
  let sawCommand = false;
  for (; i < raw.length; i++) {
    const token = raw[i] as string;
    if (token === "--") {
      if (o.command) {
        sawCommand = true;
        if (i + 1 >= raw.length) throw new UsageError(`nothing after --: expected the command to run`);
        break;
      }
      for (const rest of raw.slice(i + 1)) addPositional(rest);
      break;
    }
    if (token.startsWith("--")) {
      const eq = token.indexOf("=");
      const name = token.slice(2, eq < 0 ? undefined : eq);
      const value = eq < 0 ? undefined : token.slice(eq + 1);
      // `--p` is refused too: citty would take it for `-p`, but people mean a long name.
      const flag = name.length > 1 ? long.get(name) : undefined;
      if (!flag && name.startsWith("no-") && long.get(name.slice(3))?.type === "boolean") {
        if (value !== undefined) throw new UsageError(`--${name} takes no value`);
        continue;
      }
      if (!flag) throw new UsageError(`unknown option --${name} for tunnel ${o.verb}; ${suggest(`--${name}`)}`);
      if (flag.type === "boolean") {
        if (value !== undefined && value !== "true" && value !== "false") {
          throw new UsageError(`--${name} takes no value (or =true, =false), got "${value}"`);
        }
        continue;
      }
      if (value === undefined) {
        needsValue(`--${name}`, raw[i + 1]);
        i++;
      }
      checkChoice(flag, value ?? (raw[i] as string));
      continue;
    }
    if (token.startsWith("-") && token.length > 1) {
      // One or more one-letter options; a string option takes the rest of the token or the next one.
      for (let j = 1; j < token.length; j++) {
        const c = token[j] as string;
        const flag = short.get(c);
        if (!flag) throw new UsageError(`unknown option -${c} for tunnel ${o.verb}; ${suggest(`-${c}`)}`);
        if (flag.type === "boolean") continue;
        if (j === token.length - 1) {
          needsValue(`-${c}`, raw[i + 1]);
          checkChoice(flag, raw[++i] as string);
        } else checkChoice(flag, token.slice(j + 1));
        break;
      }
      continue;
    }
    addPositional(token);
  }
  if (o.command && !sawCommand && positional >= o.positionals.min) {
    throw new UsageError(
      `no command given; expected tunnel ${o.verb} ${o.positionals.names.join(" ")}… -- COMMAND [ARGS…]`,
    );
  }
  if (positional < o.positionals.min) {
    const missing = o.positionals.names[positional] ?? o.positionals.names.at(-1) ?? "ARGUMENT";
    throw new UsageError(`missing ${missing}; see tunnel ${o.verb} --help`);
  }
}

/** "did you mean --port?" for a near miss; otherwise the nearest option, and where the list is. */
function nearestOption(wrong: string, long: Map<string, Flag>, short: Map<string, Flag>): string {
  const habit = HABITS[wrong];
  const candidates: string[] = [];
  for (const [name, flag] of long) {
    if (name.length === 1) continue;
    candidates.push(`--${name}`);
    if (flag.type === "boolean") candidates.push(`--no-${name}`);
  }
  for (const c of short.keys()) candidates.push(`-${c}`);
  if (candidates.length === 0) return habit ? `try ${habit}; it takes no options` : "it takes no options";
  // A one-letter option is compared with the one-letter ones and with long names starting with it.
  const scored = candidates.map((c) => ({ c, d: optionDistance(wrong, c) }));
  scored.sort((a, b) => a.d - b.d || a.c.length - b.c.length);
  const best = scored[0] as { c: string; d: number };
  if (habit) return `try ${habit}`;
  const close = best.d <= Math.max(2, Math.floor(wrong.replace(/^-+/, "").length / 3));
  return close ? `did you mean ${best.c}?` : `the nearest is ${best.c} (--help lists them all)`;
}

function optionDistance(wrong: string, candidate: string): number {
  const a = wrong.replace(/^-+/, "").toLowerCase();
  const b = candidate.replace(/^-+/, "").toLowerCase();
  if (a.length === 1) {
    if (b === a) return 0;
    return b.startsWith(a) || b.startsWith(`no-${a}`) ? 1 : 3;
  }
  // A prefix of a long name (`--known` for `--known-hosts`) is as good as one typo.
  if (b.startsWith(a) && a.length >= 3) return 1;
  return levenshtein(a, b);
}

/** Edit distance with transpositions (optimal string alignment), for typos such as `--prot`. */
export function levenshtein(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    const prev = d[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}
