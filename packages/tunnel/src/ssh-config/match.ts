/**
 * `Match` lines (ssh_config(5), readconf.c's match_cfg_line): criteria read word by word from
 * the raw line, all of which must hold; `!` negates one. Supported: `all` (alone, or after
 * `canonical`/`final`), `canonical` and `final` (true only in the second reading, which
 * `final` asks for), `host` (the name after HostName, case-insensitive), `originalhost` (as
 * typed, case-insensitive), `user` (the remote user) and `localuser`. `exec` is not run: we
 * never run commands from a configuration file, so it counts as not matching and the caller
 * is told (ssh skips it too when an earlier criterion already failed).
 */
import { nextWord } from "./lexer.ts";
import { matchHostList, matchPatternList } from "./patterns.ts";

export interface MatchSubject {
  /** The host name after HostName (with %h expanded) or as typed when there is none yet. */
  host: string;
  originalHost: string;
  /** The remote user: given, configured so far, or the local user. */
  user: string;
  localUser: string;
  /** True in the second reading (after `Match final` asked for it). */
  final: boolean;
}

export interface MatchOutcome {
  matched: boolean;
  /** The line contains `final`: the configuration must be read a second time. */
  wantsFinal: boolean;
  /** The `exec` command we declined to run, when the line got that far. */
  execDeclined?: string | undefined;
}

/** Evaluates the criteria after `Match`. Throws `RangeError` for a malformed line. */
export function evaluateMatch(criteria: string, subject: MatchSubject): MatchOutcome {
  let rest: string | undefined = criteria;
  let result = true;
  let attributes = 0;
  let wantsFinal = false;
  let execDeclined: string | undefined;
  const next = (): string | undefined => {
    if (rest === undefined) return undefined;
    const w = nextWord(rest);
    if (w === undefined) {
      rest = undefined;
      return undefined;
    }
    rest = w.rest;
    return w.word;
  };
  for (;;) {
    const word = next();
    if (word === undefined || word === "" || word.startsWith("#")) break;
    const negate = word.startsWith("!");
    const attr = (negate ? word.slice(1) : word).toLowerCase();
    if (attr === "all") {
      const after = attributes > 1 ? "" : next();
      if (attributes > 1 || (after !== undefined && after !== "" && !after.startsWith("#")))
        throw new RangeError(`Match "${word}" cannot be combined with other criteria (only after canonical or final)`);
      if (result) result = !negate;
      return { matched: result, wantsFinal, execDeclined };
    }
    attributes++;
    if (attr === "canonical" || attr === "final") {
      if (attr === "final") wantsFinal = true;
      if (subject.final === negate) result = false;
      continue;
    }
    const arg = next();
    if (arg === undefined || arg === "" || arg.startsWith("#"))
      throw new RangeError(`Match ${word} needs an argument (a pattern list)`);
    let r: boolean;
    switch (attr) {
      case "host":
        r = matchHostList(subject.host, arg);
        break;
      case "originalhost":
        r = matchHostList(subject.originalHost, arg);
        break;
      case "user":
        r = matchPatternList(subject.user, arg) === 1;
        break;
      case "localuser":
        r = matchPatternList(subject.localUser, arg) === 1;
        break;
      case "exec":
        // Skipped, as ssh skips it, when an earlier criterion already failed.
        if (result) {
          execDeclined = arg;
          result = false;
        }
        continue;
      default:
        throw new RangeError(
          `unsupported Match criterion "${word}"; expected all, canonical, final, host, originalhost, user, localuser or exec`,
        );
    }
    if (r === negate) result = false;
  }
  if (attributes === 0) throw new RangeError("Match needs one or more criteria");
  return { matched: result, wantsFinal, execDeclined };
}
