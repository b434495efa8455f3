/**
 * Profiling aid: one `tunnel open` (Node, or `--runtime bun|deno`) through the harness sshd, a download and an upload
 * of `--megabytes` each, then a clean stop. Run it with
 *   BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" node --import tsx bench/profile.ts
 * (`--direction down|up` for one of the two, `--noble` for the pure-noble mode), and open the .cpuprofile, or summarise it with `node bench/lib/hot.ts FILE`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { download, startTarget, upload } from "@tunnel/core/bench";
import { runtime } from "@tunnel/ssh/runtime";
import { makeKey } from "../test/harness/keys.ts";
import { startSshd } from "../test/harness/sshd.ts";
import { cpuSeconds, type RuntimeName, startSshL, startTunnelOpen } from "./lib/forwarders.ts";

const i = process.argv.indexOf("--megabytes");
const bytes = Number(i >= 0 ? process.argv[i + 1] : 512) * 2 ** 20;
const ci = process.argv.indexOf("--cipher");
const cipher = ci >= 0 ? (process.argv[ci + 1] as string) : "aes128-gcm@openssh.com";
const ri = process.argv.indexOf("--runtime");
const rt = (ri >= 0 ? process.argv[ri + 1] : "node") as RuntimeName;
const sshd = await startSshd({ hostKeys: ["ed25519"] });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-prof-"));
const key = await makeKey(dir, "id", { type: "ed25519" });
await sshd.addAuthorizedKey(key.pubLine);
const target = await startTarget(runtime);
const t = { sshd, identity: key.path, targetPort: target.port };
const di = process.argv.indexOf("--direction");
const direction = di >= 0 ? process.argv[di + 1] : "both";
const f = process.argv.includes("--ssh")
  ? await startSshL(t, cipher)
  : await startTunnelOpen(t, rt, cipher, process.argv.includes("--noble") ? ["--crypto", "noble"] : []);
const env = { runtime: runtime, now: () => performance.now(), host: "127.0.0.1", port: f.port };
try {
  const c0 = cpuSeconds(f.pid) ?? 0;
  const d = direction === "up" ? { rate: 0 } : await download(env, bytes);
  const c1 = cpuSeconds(f.pid) ?? 0;
  const u = direction === "down" ? { rate: 0 } : await upload(env, bytes);
  const c2 = cpuSeconds(f.pid) ?? 0;
  const perGB = (c: number, b: number) => ((c / b) * 1e9).toFixed(2);
  console.log(
    `${f.label} ${cipher}: down ${(d.rate / 1e6).toFixed(0)} MB/s (${perGB(c1 - c0, bytes)} CPU s/GB), up ${(u.rate / 1e6).toFixed(0)} MB/s (${perGB(c2 - c1, bytes)} CPU s/GB)`,
  );
} finally {
  await f.stop();
  await target.close();
  await sshd.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
