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
    // No clock here: a backtracking matcher needs about C(200, 12) ≈ 10^20 steps for this pair
    // and never answers, so the test's own timeout fails it; the walk takes 200·25 steps.
    const host = "a".repeat(200);
    const pattern = `${"*a".repeat(12)}*b`;
    const { entries } = parseKnownHosts(
      `${pattern} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEeyExBfYfaMhY0nDhMHTv9zmEY2AbH7y0U5r+4cNduG`,
    );
    const key = (entries[0] as (typeof entries)[number]).key;
    expect(lookupHostKey(entries, host, 22, key, nobleProvider).status).toBe("unknown");
    expect(matchesPattern(pattern, host)).toBe(false);
    expect(matchesPattern(`${"*a".repeat(12)}*a`, host)).toBe(true);
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
