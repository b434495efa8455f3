/**
 * TARGET as `host:port` (packages/tunnel/src/target.ts): found by the fuzzer (test/fuzz/,
 * issue 12), a lone bracket was stripped from the host, so "]:0080" was a target with an empty
 * host. A host is a name or address without brackets, or an IPv6 address inside them.
 */
import { describe, expect, it } from "vitest";
import { resolveTarget } from "../src/target.ts";

describe("TARGET host:port", () => {
  it("TestHostPortTargetNeedsAHost: a lone bracket is not a host", () => {
    for (const spec of ["]:0080", "[:80", "]]:80", "[x:80", "x]:80", "a[b]:80"]) {
      expect(() => resolveTarget(spec, {}), spec).toThrow(/is not a URL or host:port/);
    }
  });

  it("TestHostPortTargetForms: names, IPv4 and bracketed IPv6 (with a zone) still resolve", () => {
    expect(resolveTarget("db.internal:5432", {})).toMatchObject({ host: "db.internal", port: 5432 });
    expect(resolveTarget("10.0.0.12:6379", {})).toMatchObject({ host: "10.0.0.12", port: 6379 });
    expect(resolveTarget("[::1]:8080", {})).toMatchObject({ host: "::1", port: 8080 });
    expect(resolveTarget("[fe80::1%eth0]:22", {})).toMatchObject({ host: "fe80::1%eth0", port: 22 });
    expect(resolveTarget("DB", { DB: "cache:6380" })).toMatchObject({ host: "cache", port: 6380, variable: "DB" });
  });
});
