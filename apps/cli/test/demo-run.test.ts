import { DEFAULT_KEX } from "@tunnel/ssh";
import { describe, expect, it } from "vitest";
import { runCli } from "../../../test/harness/cli.ts";

describe("tunnel demo", () => {
  it("runs server, target and tunnel in one process, verifies the data and reports speed (--json)", async () => {
    const r = await runCli(["demo", "--megabytes", "8", "--json"], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.verified).toBe(true);
    expect(j.bytes).toBe(8 * 1024 * 1024);
    expect(j.kex).toBe(DEFAULT_KEX[0]); // both ends are ours: our first choice
    expect(j.strictKex).toBe(true);
    expect(j.cipher).toMatch(/gcm|chacha/);
    expect(j.mbPerSecond).toBeGreaterThan(0);
    expect(j.rttMicros).toBeGreaterThan(0);
  });

  it("prints a human summary", async () => {
    const r = await runCli(["demo", "--megabytes", "2"], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/verified byte for byte/);
    expect(r.stdout).toMatch(/throughput: +[\d.]+ MiB\/s/);
    expect(r.stdout).toMatch(/round trip: +\d+ µs/);
  });

  it("rejects a bad --megabytes with one line", async () => {
    const r = await runCli(["demo", "--megabytes", "lots"]);
    expect(r.code).toBe(2); // a flag's value: a usage error
    expect(r.stderr.trim()).toBe('tunnel: --megabytes: "lots" is not a positive number');
  });
});
