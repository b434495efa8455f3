/**
 * The benchmark suite's smoke mode, run as a test (figures are never asserted: only that
 * every section ran, every byte of the many-channel run came back, and the cells are filled),
 * and `tunnel bench --via` through a real OpenSSH sshd to a bench target.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { startTarget } from "@tunnel/core/bench";
import type { Listener } from "@tunnel/ssh";
import { runtime } from "@tunnel/ssh/runtime";
import { makeKey, type Sshd, startSshd, type UserKey } from "@tunnel/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, RUNTIME, runCli } from "./harness/cli.ts";

const execFileP = promisify(execFile);

describe("pnpm bench --smoke", () => {
  // The bench runner is Node tooling; the tunnel it measures runs under the runtime this
  // suite runs under (scripts/test.sh runs the suite under Node 20, Node 24, Bun and Deno).
  const runner = RUNTIME === "node" ? process.execPath : "node";
  it(`measures direct TCP, ssh -L and tunnel open under ${RUNTIME}, and prints every section`, async () => {
    const args = ["--import", "tsx", "bench/run.ts", "--smoke", "--runtimes", RUNTIME];
    const { stdout } = await execFileP(runner, args, {
      cwd: REPO_ROOT,
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const section of [
      "## Throughput and round trip",
      "## Pure-noble mode",
      "## Connect to authenticated",
      "## 50 concurrent channels through one connection",
      "## Socket adapters",
      "## Crypto primitives",
    ])
      expect(stdout).toContain(section);
    for (const via of ["ssh -L", `tunnel (${RUNTIME})`]) {
      // A throughput row with a ratio in each ratio column.
      expect(stdout).toMatch(
        new RegExp(
          `\\| aes128-gcm@openssh.com \\| ${via.replace(/[()]/g, "\\$&")} \\| \\d+ MB/s \\| \\d+\\.\\d\\d \\|`,
        ),
      );
    }
    // Each socket adapter of this runtime measured (its own, and Bun's or Deno's node:net layer).
    expect(stdout).toMatch(new RegExp(`\\| ${RUNTIME} \\| ${RUNTIME}'s own \\| \\d+ MB/s \\| \\d+ MB/s \\|`));
    if (RUNTIME !== "node")
      expect(stdout).toMatch(new RegExp(`\\| ${RUNTIME} \\| node:net compatibility \\| \\d+ MB/s`));
    // Every channel of the tunnel intact.
    expect(stdout).toMatch(new RegExp(`\\| tunnel \\(${RUNTIME}\\) \\| 50/50 \\|`));
    // Crypto primitives measured under this runtime.
    expect(stdout).toContain(`### ${RUNTIME === "node" ? "node v" : `${RUNTIME} `}`);
  }, 300_000);
});

describe("tunnel bench --via", () => {
  let sshd: Sshd;
  let key: UserKey;
  let dir: string;
  let target: Listener;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-bench-"));
    key = await makeKey(dir, "id_ed25519", { type: "ed25519" });
    sshd = await startSshd({ authorizedKeys: [key.pubLine] });
    target = await startTarget(runtime);
  });

  afterAll(async () => {
    await target?.close();
    await sshd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("measures through a real OpenSSH bastion to a bench target behind it", async () => {
    const r = await runCli(
      [
        "bench",
        "--via",
        `${sshd.user}@127.0.0.1:${sshd.port}`,
        "--target",
        `127.0.0.1:${target.port}`,
        "--identity",
        key.path,
        "--known-hosts",
        sshd.knownHostsFile,
        "--host-key-check",
        "yes",
        "--megabytes",
        "2",
        "--json",
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const row = JSON.parse(r.stdout.trim());
    expect(row.through).toBe(`tunnel via ${sshd.user}@127.0.0.1:${sshd.port}`);
    expect(row.cipher).toMatch(/gcm|chacha|ctr/);
    expect(row.up).toBeGreaterThan(0);
    expect(row.down).toBeGreaterThan(0);
    expect(row.rtt).toBeGreaterThan(0);
    expect(row.connectMs).toBeGreaterThan(0);
  });
});
