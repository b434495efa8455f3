/**
 * `pnpm bench --wan --smoke` (bench/lib/wan.ts) run as a test: every path through the delay
 * relay — direct TCP, ssh -L and tunnel open through OpenSSH's sshd, tunnel open through
 * tunnel serve — measured at 0 and 20 ms, with the parallel transfers complete and the
 * defaults line filled. Figures are never asserted, only that every cell is.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, RUNTIME } from "./harness/cli.ts";

const execFileP = promisify(execFile);

describe("pnpm bench --wan --smoke", () => {
  const runner = RUNTIME === "node" ? process.execPath : "node";
  it(`measures every path over a delayed link with tunnel open under ${RUNTIME}`, async () => {
    const args = ["--import", "tsx", "bench/run.ts", "--wan", "--smoke", "--runtimes", RUNTIME];
    const { stdout } = await execFileP(runner, args, {
      cwd: REPO_ROOT,
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const section of [
      "## WAN: throughput and round trip over a delayed link",
      "### Goals (issue 14)",
      "### 4 transfers at once through one connection",
      "### Defaults against defaults (through sshd)",
      "## Cipher order",
    ])
      expect(stdout).toContain(section);
    const tunnel = `tunnel \\(${RUNTIME}\\)`;
    for (const rtt of [0, 20]) {
      // Every path has both figures and a round trip near the relay's delay (never below it).
      for (const [through, server] of [
        ["direct TCP", "-"],
        ["ssh -L", "sshd"],
        [tunnel, "sshd"],
        [tunnel, "tunnel serve"],
        ["ssh -L", "tunnel serve"],
      ]) {
        const row = new RegExp(
          `\\| ${rtt} ms \\| ${through} \\| ${server} \\| (\\d+) MB/s \\|[^\\n]*\\| (\\d+) MB/s \\|[^\\n]*\\| ([\\d.]+) ms \\|`,
        ).exec(stdout);
        expect(row, `${rtt} ms ${through} ${server}`).not.toBeNull();
        expect(Number(row?.[3])).toBeGreaterThanOrEqual(rtt);
      }
      // Every parallel transfer complete, through each forwarder.
      for (const [through, server] of [
        ["ssh -L", "sshd"],
        [tunnel, "sshd"],
        [tunnel, "tunnel serve"],
      ])
        expect(stdout).toMatch(new RegExp(`\\| ${rtt} ms \\| ${through} \\| ${server} \\|[^\\n]*\\| 8/8 \\|`));
      // Defaults: OpenSSH's client negotiates its first cipher; ours its runtime's.
      expect(stdout).toMatch(new RegExp(`\\| ${rtt} ms \\| ssh -L \\| chacha20-poly1305@openssh.com \\|`));
      const ours = RUNTIME === "deno" ? "chacha20-poly1305@openssh.com" : "aes128-gcm@openssh.com";
      expect(stdout).toMatch(new RegExp(`\\| ${rtt} ms \\| ${tunnel} \\| ${ours} \\|`));
    }
  }, 300_000);
});
