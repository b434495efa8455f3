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
import { makeKey, startSshd } from "@tunnel/testkit";
import { CIPHER_NAME } from "../packages/ssh/src/algorithms/cipher-names.ts";
import { parseArgs } from "./lib/args.ts";
import { cpuSeconds, type JsRuntime, startSshL, startTunnelOpen } from "./lib/forwarders.ts";

const args = parseArgs({
  name: "bench/profile.ts",
  summary: "One forwarder through the harness sshd: a download and an upload, CPU seconds per GB.",
  options: {
    megabytes: { type: "number", above: 0, default: 512, description: "MiB each way" },
    cipher: { type: "string", default: CIPHER_NAME.AES128_GCM, description: "the cipher to negotiate" },
    runtime: {
      type: "string",
      choices: ["node", "bun", "deno"],
      default: "node",
      description: "runtime of tunnel open",
    },
    direction: { type: "string", choices: ["down", "up", "both"], default: "both", description: "which transfers" },
    ssh: { type: "boolean", description: "measure ssh -L instead of tunnel open" },
    noble: { type: "boolean", description: "tunnel open in the pure-noble mode (--crypto noble)" },
  },
});
const bytes = args.megabytes * 2 ** 20;
const cipher = args.cipher;
const rt: JsRuntime = args.runtime;
const sshd = await startSshd({ hostKeys: ["ed25519"] });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-prof-"));
const key = await makeKey(dir, "id", { type: "ed25519" });
await sshd.addAuthorizedKey(key.pubLine);
const target = await startTarget(runtime);
const t = { sshd, identity: key.path, targetPort: target.port };
const direction = args.direction;
const f = args.ssh
  ? await startSshL(t, cipher)
  : await startTunnelOpen(t, rt, cipher, args.noble ? ["--crypto", "noble"] : []);
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
