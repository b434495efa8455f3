/**
 * Soak run for issue 13 (not CI): `--gigabytes` (default 10) carried by `tunnel open` over
 * `--lanes` (default 64) concurrent channels, with a key re-exchange forced every `--rekey-mb`
 * MiB (TUNNEL_REKEY_BYTES; RFC 4253 §9) and the link to a real sshd cut at random moments —
 * through the test harness's fault relay (RST, FIN, or frozen until keepalive gives up) or by
 * killing sshd's session — while the tunnel reconnects. Each connection carries its own
 * deterministic streams both ways; every byte either end read is checked against its stream by
 * SHA-256, and a clean close with bytes missing counts as a silent truncation. File descriptors
 * (/proc/PID/fd) and RSS of the tunnel process are sampled every second and compared from the
 * start to the end of the run.
 *
 *   node scripts/build.mjs
 *   node --import tsx bench/soak.ts [--gigabytes 10] [--lanes 64] [--per-connection-mb 32]
 *        [--rekey-mb 16] [--cut-min 15] [--cut-max 45] [--runtime node|bun|deno]
 *
 * Exit status 0 when no byte was wrong, nothing was truncated silently, no transfer hung, and
 * descriptors and memory stayed flat. Heavy: do not run it next to other work on a small machine.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  freePort,
  knownHostsFor,
  makeKey,
  sleep,
  startFaultRelay,
  startSshd,
  startStreamTarget,
  streamTransfer,
  transferProblems,
} from "@tunnel/testkit";
import { parseArgs } from "./lib/args.ts";
import { type JsRuntime, ROOT, tunnelCommand } from "./lib/forwarders.ts";

const MiB = 1024 * 1024;

const positive = (fallback: number, description: string) =>
  ({ type: "number", above: 0, default: fallback, description }) as const;
const args = parseArgs({
  name: "bench/soak.ts",
  summary: "Gigabytes through tunnel open over many channels while the link is cut and keys re-exchanged.",
  options: {
    gigabytes: positive(10, "GB read at the two ends together"),
    lanes: positive(64, "concurrent channels"),
    "per-connection-mb": positive(32, "MiB per connection (at most a quarter of a lane's share)"),
    "rekey-mb": positive(16, "MiB between forced key re-exchanges"),
    "cut-min": positive(15, "least seconds between cuts"),
    "cut-max": positive(45, "most seconds between cuts"),
    runtime: {
      type: "string",
      choices: ["node", "bun", "deno"],
      default: "node",
      description: "runtime of tunnel open",
    },
  },
});
const gigabytes = args.gigabytes;
const lanes = Math.round(args.lanes);
const rekeyMb = args["rekey-mb"];
const cutMin = args["cut-min"];
const cutMax = Math.max(cutMin, args["cut-max"]);
const rt: JsRuntime = args.runtime;
const budget = gigabytes * 1e9; // bytes read at the two ends together
// at least four connections per lane over the run, so connections come and go
const perConnection = Math.max(
  64 * 1024,
  Math.min(args["per-connection-mb"] * MiB, Math.floor(budget / (lanes * 2 * 4))),
);

// ---------------------------------------------------------------- set-up

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-soak-"));
const key = await makeKey(dir, "id", { type: "ed25519" });
const sshd = await startSshd({
  hostKeys: ["ed25519"],
  authorizedKeys: [key.pubLine],
  config: ["MaxStartups 2000"],
});
const relay = await startFaultRelay(sshd.port);
const target = await startStreamTarget(perConnection);

const cmd = tunnelCommand(rt);
if (!cmd) throw new Error(`${rt} is not installed`);
const localPort = await freePort();
const child: ChildProcess = spawn(
  cmd[0] as string,
  [
    ...cmd.slice(1),
    "open",
    `127.0.0.1:${target.port}`,
    "--port",
    String(localPort),
    "--via",
    `${sshd.user}@127.0.0.1:${relay.port}`,
    "--identity",
    key.path,
    "--known-hosts",
    knownHostsFor(sshd, relay.port, dir),
    "--host-key-check=yes",
    "--keepalive=2",
    "--keepalive-count=2",
    "--grace=3",
  ],
  {
    cwd: ROOT,
    env: { ...process.env, TUNNEL_REKEY_BYTES: String(Math.round(rekeyMb * MiB)) },
    stdio: ["ignore", "pipe", "pipe"],
  },
);
const stderr: { text: string; at: number }[] = [];
let partial = "";
child.stderr?.on("data", (d) => {
  const parts = (partial + String(d)).split("\n");
  partial = parts.pop() ?? "";
  for (const text of parts) stderr.push({ text, at: Date.now() });
});
const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
await new Promise<void>((resolve, reject) => {
  const t = setTimeout(() => reject(new Error(`tunnel open not ready in 20 s:\n${stderrText()}`)), 20_000);
  child.stdout?.once("data", () => {
    clearTimeout(t);
    resolve();
  });
  void exited.then((code) => reject(new Error(`tunnel open exited with ${code}:\n${stderrText()}`)));
});
const pid = child.pid!;

function stderrText(): string {
  return stderr.map((l) => l.text).join("\n");
}

console.log(
  `soak: ${gigabytes} GB through tunnel open (${rt}), ${lanes} channels, ${(perConnection / MiB).toFixed(2)} MiB each way per connection, rekey every ${rekeyMb} MiB, a cut every ${cutMin}-${cutMax} s`,
);

// ---------------------------------------------------------------- sampling

interface Sample {
  at: number;
  fds: number;
  rss: number;
}
/** Samples taken while traffic flows (after the first transfer, before the lanes stop). */
const samples: Sample[] = [];
function measure(): Sample | undefined {
  try {
    const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    return { at: Date.now(), fds, rss };
  } catch {
    return undefined; // the process is gone
  }
}
function sample(): void {
  const s = measure();
  if (s && transfers > 0 && !stopping) samples.push(s);
}
await sleep(1000);
/** Idle, before any traffic: what the process holds with only its listener and SSH connection. */
const idleBefore = measure()!;
const sampler = setInterval(sample, 1000);

// ---------------------------------------------------------------- traffic

const start = Date.now();
let read = 0; // bytes read at both ends, counted at the local end as they come and at the target per transfer
let transfers = 0;
let cutTransfers = 0;
let hung = 0;
const problems: string[] = [];
let seq = 0;
let stopping = false;

async function lane(n: number): Promise<void> {
  while (!stopping && read < budget) {
    const id = `s${n.toString(36)}-${(++seq).toString(36)}`.padEnd(16, "_").slice(0, 16);
    let x: Awaited<ReturnType<typeof streamTransfer>>;
    try {
      x = await streamTransfer(localPort, target, id, perConnection, 180_000, (k) => {
        read += k;
      });
    } catch (err) {
      if (/still open|not closed/.test(String(err))) {
        hung++;
        problems.push(`${id}: hung: ${(err as Error).message}`);
      }
      await sleep(200); // refused: the tunnel is gone, or the port is busy
      continue;
    }
    transfers++;
    read += x.upload?.bytes ?? 0;
    if (x.local.error !== undefined) cutTransfers++;
    problems.push(...transferProblems(x, perConnection));
  }
}

// ---------------------------------------------------------------- cuts

const cuts: string[] = [];
async function cutter(): Promise<void> {
  const kinds = ["reset", "close", "freeze", "kill"] as const;
  while (!stopping && read < budget) {
    const wait = (cutMin + Math.random() * (cutMax - cutMin)) * 1000;
    const until = Date.now() + wait;
    while (!stopping && read < budget && Date.now() < until) await sleep(100);
    if (stopping || read >= budget) return;
    const kind = kinds[Math.floor(Math.random() * kinds.length)]!;
    cuts.push(kind);
    if (kind === "reset" || kind === "close") await relay.set(kind, "existing");
    else if (kind === "kill") await sshd.killConnections("SIGKILL");
    else {
      // a black hole: the tunnel's keepalive (2 s × 2) must notice; then free the relay's buffers
      const links = relay.links();
      for (const l of links) l.set("freeze");
      await sleep(8000);
      for (const l of links) l.set("reset");
    }
  }
}

const progress = setInterval(() => {
  const s = samples.at(-1);
  const secs = (Date.now() - start) / 1000;
  console.log(
    `  ${(read / 1e9).toFixed(2)} GB in ${secs.toFixed(0)} s (${(read / 1e6 / secs).toFixed(0)} MB/s), ${transfers} transfers (${cutTransfers} cut), cuts: ${cuts.length}, reconnects: ${count(/^Reconnected after/)}, fds ${s?.fds ?? "?"}, rss ${s ? (s.rss / MiB).toFixed(0) : "?"} MiB, problems ${problems.length}`,
  );
}, 10_000);

function count(re: RegExp): number {
  return stderr.filter((l) => re.test(l.text)).length;
}

await Promise.all([...Array.from({ length: lanes }, (_, i) => lane(i)), cutter()]);
sample();
stopping = true;
clearInterval(progress);
clearInterval(sampler);
const seconds = (Date.now() - start) / 1000;
// Idle again: every connection closed; give lingering sockets (a clean close lingers a few
// seconds over its last bytes) time to go, and the SSH connection time to be back.
await sleep(7000);
const idleAfter = measure()!;

// ---------------------------------------------------------------- stop and report

const signalled = Date.now();
process.kill(pid, "SIGINT");
const code = await Promise.race([exited, sleep(10_000).then(() => "still running" as const)]);
const stopMs = Date.now() - signalled;
if (code === "still running") child.kill("SIGKILL");
await relay.stop();
await sshd.stop();
target.close();
fs.rmSync(dir, { recursive: true, force: true });

/** Median of a list. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor(s.length / 2)] as number);
}

// Flat: descriptors idle after the run against idle before it (a leak grows with the number
// of connections made, hundreds over a full run), and the most either held while busy, first
// fifth against last; memory while busy, first fifth against last.
const n = samples.length;
const early = samples.slice(0, Math.max(1, Math.floor(n / 5)));
const late = samples.slice(Math.floor((4 * n) / 5));
const fdEarly = Math.max(...early.map((s) => s.fds));
const fdLate = Math.max(...late.map((s) => s.fds));
const rssEarly = median(early.map((s) => s.rss));
const rssLate = median(late.map((s) => s.rss));
const fdFlat = idleAfter !== undefined && idleAfter.fds <= idleBefore.fds + 4 && fdLate <= fdEarly + lanes / 4;
const rssFlat = rssLate <= rssEarly * 1.5 + 32 * MiB;
const wrong = problems.filter((p) => /not the stream's/.test(p));
const truncated = problems.filter((p) => /silent truncation/.test(p));

console.log("");
console.log(
  `carried ${(read / 1e9).toFixed(2)} GB in ${seconds.toFixed(0)} s (${(read / 1e6 / seconds).toFixed(0)} MB/s) over ${transfers} connections, ${cutTransfers} cut by ${cuts.length} link failures (${cuts.join(", ") || "none"}); ${count(/^Reconnected after/)} reconnects`,
);
console.log(`wrong bytes: ${wrong.length === 0 ? "none" : `${wrong.length} connection(s)`}`);
console.log(`silent truncations: ${truncated.length === 0 ? "none" : `${truncated.length} connection(s)`}`);
console.log(`hung transfers: ${hung}`);
for (const p of problems.slice(0, 20)) console.log(`  ${p}`);
console.log(
  `file descriptors: ${idleBefore.fds} idle before, ${idleAfter?.fds ?? "?"} idle after; busy ${fdEarly} at the start, ${fdLate} at the end (max): ${fdFlat ? "flat" : "GROWING"}`,
);
console.log(
  `RSS: ${(rssEarly / MiB).toFixed(0)} MiB at the start (median), ${(rssLate / MiB).toFixed(0)} MiB at the end: ${rssFlat ? "flat" : "GROWING"}`,
);
const deciles = Array.from({ length: 10 }, (_, i) => samples[Math.min(n - 1, Math.floor((i * n) / 10))]).filter(
  (s): s is Sample => s !== undefined,
);
console.log(
  `  samples (deciles): fds ${deciles.map((s) => s.fds).join(" ")}; RSS MiB ${deciles.map((s) => (s.rss / MiB).toFixed(0)).join(" ")}`,
);
console.log(`SIGINT: exit ${code} after ${stopMs} ms`);
const ok = wrong.length === 0 && truncated.length === 0 && hung === 0 && fdFlat && rssFlat && code === 0;
console.log(ok ? "PASS" : "FAIL");
if (stderr.some((l) => /TypeError|^\s+at\s/.test(l.text))) console.log(`tunnel stderr:\n${stderrText()}`);
process.exit(ok ? 0 : 1);
