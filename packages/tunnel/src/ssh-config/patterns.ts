/**
 * ssh_config(5)'s PATTERNS, as OpenSSH's match.c implements them: `*` and `?` wildcards
 * (case-sensitive), comma-separated pattern lists where a `!pattern` that matches vetoes the
 * whole list, and `Host` lines, whose whitespace-separated patterns work the same way.
 */

const compiled = new Map<string, RegExp>();

/** One wildcard pattern against a whole string (match.c's match_pattern). */
export function matchPattern(s: string, pattern: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === "*" ? ".*" : c === "?" ? "." : `\\${c}`));
    re = new RegExp(`^${body}$`, "s");
    if (compiled.size > 1000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re.test(s);
}

/**
 * A comma-separated list (match.c's match_pattern_list): 1 when a plain pattern matches and
 * no negated one does, -1 when a negated one does, 0 otherwise. `lowerPatterns` lower-cases
 * the patterns (for host names, which the caller lower-cases too).
 */
export function matchPatternList(s: string, list: string, lowerPatterns = false): -1 | 0 | 1 {
  let positive = false;
  for (const raw of list.split(",")) {
    const negated = raw.startsWith("!");
    let pattern = negated ? raw.slice(1) : raw;
    if (lowerPatterns) pattern = pattern.toLowerCase();
    if (!matchPattern(s, pattern)) continue;
    if (negated) return -1;
    positive = true;
  }
  return positive ? 1 : 0;
}

/** A host name against a pattern list, both compared in lower case (match.c's match_hostname). */
export function matchHostList(host: string, list: string): boolean {
  return matchPatternList(host.toLowerCase(), list, true) === 1;
}

/**
 * A `Host` line's patterns against the host: active when one matches and no `!pattern`
 * matches (readconf.c). Case-sensitive, against the host as typed.
 */
export function hostLineMatches(host: string, patterns: readonly string[]): boolean {
  let positive = false;
  for (const arg of patterns) {
    const negated = arg.startsWith("!");
    if (!matchPattern(host, negated ? arg.slice(1) : arg)) continue;
    if (negated) return false;
    positive = true;
  }
  return positive;
}
