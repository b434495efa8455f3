/**
 * `tunnel bench --rtt MS`: the loopback bench through a delay relay (packages/tunnel/src/bench/
 * delay-relay.ts) in front of the server and of the target. The relay never delivers early, so
 * every round trip is at least MS — whatever the machine's speed.
 */
import { describe, expect, it } from "vitest";
import { runCli } from "../../../test/harness/cli.ts";

describe("tunnel bench --rtt", () => {
  it("measures direct TCP and the tunnel through a relay holding each chunk half the round trip each way", async () => {
    const r = await runCli(
      ["bench", "--rtt", "20", "--megabytes", "1", "--ciphers", "aes128-gcm@openssh.com", "--json"],
      { timeoutMs: 90_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("through a delay relay of 20 ms round trip");
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => [x.through, x.cipher])).toEqual([
      ["direct TCP", "-"],
      ["tunnel (20 ms)", "aes128-gcm@openssh.com"],
    ]);
    for (const row of rows) {
      expect(row.up).toBeGreaterThan(0);
      expect(row.down).toBeGreaterThan(0);
      expect(row.rtt).toBeGreaterThanOrEqual(20_000); // µs
    }
  });

  it("--max-window takes a size; a bad --rtt or --rtt with --via is one line (a failed exit)", async () => {
    const ok = await runCli(
      [
        "bench",
        "--rtt",
        "0",
        "--max-window",
        "2M",
        "--megabytes",
        "1",
        "--ciphers",
        "aes128-gcm@openssh.com",
        "--json",
      ],
      { timeoutMs: 60_000 },
    );
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await runCli(["bench", "--rtt", "fast"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toBe(
      'tunnel: --rtt: "fast" is not a round-trip time; expected milliseconds from 0 to 10000',
    );
    const size = await runCli(["bench", "--max-window", "lots"]);
    expect(size.code).not.toBe(0);
    expect(size.stderr.trim()).toMatch(/^tunnel: --max-window: "lots" is not a size/);
    const via = await runCli(["bench", "--rtt", "50", "--via", "bastion.example", "--target", "10.0.0.1:9000"]);
    expect(via.code).not.toBe(0);
    expect(via.stderr.trim()).toBe("tunnel: --rtt: is for the loopback bench; with --via the link is yours");
  });
});
