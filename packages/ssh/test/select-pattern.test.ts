/**
 * OpenSSH patterns (ssh_config(5) PATTERNS: `*` any run, `?` one character), as known_hosts
 * host patterns and algorithm-list options use them. Found by the fuzzer (test/fuzz/, issue
 * 12): a pattern turned into a regular expression backtracks exponentially in its stars, so
 * one known_hosts line froze the client for a long host name.
 */
import { describe, expect, it } from "vitest";
import { matchesPattern } from "../src/algorithms/select.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import { lookupHostKey, parseKnownHosts } from "../src/keys/known-hosts.ts";

/** The meaning, written the obvious way (fine for short strings): the reference to agree with. */
function reference(pattern: string, name: string): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`).test(name);
}

describe("OpenSSH pattern matching (ssh_config(5) PATTERNS)", () => {
  it("TestPatternManyStarsIsLinear: a known_hosts pattern with many stars against a long host name answers at once", () => {
    const host = "a".repeat(50);
    const pattern = `${"*a".repeat(8)}*b`;
    const { entries } = parseKnownHosts(
      `${pattern} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEeyExBfYfaMhY0nDhMHTv9zmEY2AbH7y0U5r+4cNduG`,
    );
    const key = (entries[0] as (typeof entries)[number]).key;
    // The regular expression took C(50, 8) ≈ 5·10^8 backtracking steps here: 30 s on a loaded
    // 2-core machine, several seconds anywhere. The walk takes 50·17 steps. The bound is 1000×
    // what the walk needs, and far under what the expression needed.
    const t0 = performance.now();
    expect(lookupHostKey(entries, host, 22, key, nobleProvider).status).toBe("unknown");
    expect(matchesPattern(pattern, host)).toBe(false);
    expect(matchesPattern(`${"*a".repeat(8)}*a`, host)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it("TestPatternMeaningUnchanged: agrees with the plain reading on every short pattern and name", () => {
    const alphabet = ["a", "b", "*", "?", "."];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const word = (max: number, chars: string[]) =>
      Array.from({ length: rand(max + 1) }, () => chars[rand(chars.length)] as string).join("");
    for (let i = 0; i < 20_000; i++) {
      const pattern = word(7, alphabet);
      const name = word(7, ["a", "b", "."]);
      expect([pattern, name, matchesPattern(pattern, name)]).toEqual([pattern, name, reference(pattern, name)]);
    }
  });

  it("TestPatternCaseInsensitive: host names compare without regard to case", () => {
    expect(matchesPattern("*.Example.COM", "db.example.com", true)).toBe(true);
    expect(matchesPattern("*.Example.COM", "db.example.com")).toBe(false);
    expect(matchesPattern("[db.example.com]:2222", "[DB.example.com]:2222", true)).toBe(true);
  });
});
