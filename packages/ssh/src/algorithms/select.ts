/**
 * Algorithm list options in OpenSSH's syntax (ssh_config(5) `Ciphers`, `KexAlgorithms`, …):
 * a comma list replaces the defaults; a leading `+` appends to them, `-` removes from them
 * (patterns with `*` and `?` allowed), `^` puts the list at their head.
 */

/**
 * OpenSSH's pattern syntax (ssh_config(5) PATTERNS): `*` any run, `?` one character; the whole
 * name must match. Matched by walking both strings with one backtrack point (the latest `*`),
 * as OpenSSH's match_pattern does without its recursion: at worst the product of the lengths,
 * never exponential. (A regular expression built from the pattern backtracks exponentially in
 * the number of stars: a known_hosts line `*a*a*a*a*a*a*b` and a long host name froze the
 * client, found by the fuzzer in test/fuzz/.)
 */
export function matchesPattern(pattern: string, name: string, caseInsensitive = false): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const s = caseInsensitive ? name.toLowerCase() : name;
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (j < s.length) {
    const c = p[i];
    if (c === "?" || (c !== undefined && c !== "*" && c === s[j])) {
      i++;
      j++;
    } else if (c === "*") {
      star = i++;
      mark = j;
    } else if (star >= 0) {
      // Let the latest star take one more character and try again from there.
      i = star + 1;
      j = ++mark;
    } else return false;
  }
  while (p[i] === "*") i++;
  return i === p.length;
}

const matches = (pattern: string, name: string) => matchesPattern(pattern, name);

/**
 * Returns the resulting preference list. Throws `TypeError` naming an unknown algorithm
 * (`what` says which option), listing the supported ones.
 */
export function selectAlgorithms(
  what: string,
  spec: string | undefined,
  defaults: readonly string[],
  supported: readonly string[],
): string[] {
  if (spec === undefined || spec.trim() === "") return [...defaults];
  const s = spec.trim();
  const op = s[0] === "+" || s[0] === "-" || s[0] === "^" ? s[0] : "";
  const names = (op ? s.slice(1) : s)
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  if (names.length === 0) throw new TypeError(`${what}: empty algorithm list "${spec}"`);
  if (op === "-") {
    const out = defaults.filter((d) => !names.some((p) => matches(p, d)));
    if (out.length === 0) throw new TypeError(`${what}: "${spec}" removes every algorithm`);
    return out;
  }
  const expanded: string[] = [];
  for (const n of names) {
    const hits = /[*?]/.test(n) ? supported.filter((a) => matches(n, a)) : supported.includes(n) ? [n] : [];
    if (hits.length === 0) {
      throw new TypeError(`${what}: unsupported algorithm "${n}"; expected one of ${supported.join(",")}`);
    }
    for (const h of hits) if (!expanded.includes(h)) expanded.push(h);
  }
  if (op === "+") return [...defaults, ...expanded.filter((n) => !defaults.includes(n))];
  if (op === "^") return [...expanded, ...defaults.filter((n) => !expanded.includes(n))];
  return expanded;
}
