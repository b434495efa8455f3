/**
 * `pnpm bench --wan`: the forwarding path over a long link (issue 14). A delay relay
 * (bench/lib/delay-relay.ts, a process of its own) sits where the internet would: between the
 * load generator and the target for direct TCP, and between each forwarder and its SSH server
 * (OpenSSH's sshd, or `tunnel serve`) for the tunnels. At each round-trip time it measures
 * throughput both ways and the round trip; at one of them, 64 transfers at once; and the
 * defaults each tool negotiates when told nothing.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { download, type LoadEnv, parallelTransfers, roundTrip, upload } from "@tunnel/core/bench";
import { freePort, makeKey } from "@tunnel/testkit";
import {
  cpuSeconds,
  type Forwarder,
  type JsRuntime,
  peakRss,
  ROOT,
  runtimeCommand,
  type SshTarget,
  startSshL,
  startTunnelOpen,
  stopper,
  tunnelCommand,
} from "./forwarders.ts";
import { markdownTable, mb, ratio } from "./report.ts";

const execFileP = promisify(execFile);

export interface WanOptions {
  /** Round-trip times in ms; 0 is the same relay with no delay (the baseline). */
  rtts: readonly number[];
  runtimes: readonly JsRuntime[];
  /** Bytes per transfer. */
  bytes: number;
  /** Round trips timed per path (after `rttWarmup`). */
  rttCount: number;
  rttWarmup: number;
  /** Rounds, interleaved across the paths of one RTT; each path keeps its best. */
  repeat: number;
  /** The cipher every tool is told to use in the comparison table. */
  cipher: string;
  relayRuntime: JsRuntime;
  serveRuntime: JsRuntime;
  /** The relay's cap on bytes in flight per direction. */
  capBytes: number;
  /** Parallel transfers: how many, how large each, at which RTT (compared with RTT 0). */
  channels: number;
  channelBytes: number;
  channelsRtt: number;
  /** The RTT of the defaults-against-defaults line (besides 0). */
  defaultsRtt: number;
  /** Seconds a single transfer may take before it counts as stalled. */
  stallSeconds: number;
  log(line: string): void;
}

export interface Proc {
  child: ChildProcess;
  /** The first line it printed on stdout. */
  line: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Spawns `cmd` and waits for its first stdout line (an address: it is ready). */
async function spawnReady(cmd: string[], cwd: string, what: string): Promise<Proc> {
  const child = spawn(cmd[0] as string, cmd.slice(1), { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr?.on("data", (d) => {
    err += String(d);
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready in 20 s: ${err}`)), 20_000);
    let out = "";
    child.stdout?.on("data", (d) => {
      out += String(d);
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${err}`));
    });
  });
  return { child, line, pid: child.pid, stop: stopper(child) };
}

const portOf = (line: string) => Number(line.slice(line.lastIndexOf(":") + 1));

/** The delay relay as a process under `rt`, in front of `127.0.0.1:toPort`. */
export function startRelayProcess(rt: JsRuntime, toPort: number, rttMs: number, capBytes: number): Promise<Proc> {
  const cmd = runtimeCommand(rt, path.join(ROOT, "bench/lib/delay-relay.ts"));
  if (!cmd) throw new Error(`${rt} is not installed`);
  const args = ["--to", `127.0.0.1:${toPort}`, "--rtt", String(rttMs), "--cap-mib", String(capBytes / 2 ** 20)];
  // From bench/, whose node_modules resolve @tunnel/core for Bun and Deno as for Node.
  return spawnReady([...cmd, ...args], path.join(ROOT, "bench"), `delay relay (${rt})`);
}

/** A known_hosts file naming `port` with `pubLines` (the host keys of what is behind the relay). */
function knownHostsFor(dir: string, name: string, port: number, pubLines: readonly string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, pubLines.map((l) => `[127.0.0.1]:${port} ${l}\n`).join(""));
  return file;
}

/** The public key lines in a known_hosts file (the host patterns dropped). */
function pubLinesOf(knownHostsFile: string): string[] {
  return fs
    .readFileSync(knownHostsFile, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.slice(l.indexOf(" ") + 1));
}

export interface WanRow {
  rtt: number;
  through: string;
  server: string;
  up: number;
  down: number;
  /** Milliseconds, median. */
  rttMs: number;
  note: string;
  /** Share of the machine's cores busy during the best upload / download. */
  busyUp?: number | undefined;
  busyDown?: number | undefined;
  /** CPU seconds per GB of the path's process (forwarder; relay for direct TCP), up / down. */
  cpuUp?: number | undefined;
  cpuDown?: number | undefined;
}

interface Path {
  through: string;
  server: string;
  port: number;
  pid?: number | undefined;
}

/** One transfer with a deadline: a stall counts as 0 and a note, not a hung benchmark. */
async function timed<T extends { rate: number }>(
  f: () => Promise<T>,
  seconds: number,
): Promise<{ rate: number; note: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const r = await Promise.race([
      f(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`stalled (${seconds} s)`)), seconds * 1000);
      }),
    ]);
    return { rate: r.rate, note: "" };
  } catch (err) {
    return { rate: 0, note: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

interface Setup {
  t: SshTarget;
  dir: string;
  envFor(port: number): LoadEnv;
  /** The bench target's port (direct TCP goes to it). */
  targetPort: number;
}

/**
 * `tunnel serve` under `rt` with its own host key (made once per `dir`), the key `identity`
 * (its .pub beside it) authorized, and the target allowed.
 */
export async function startServeProcess(
  dir: string,
  identity: string,
  targetPort: number,
  rt: JsRuntime,
): Promise<Proc & { port: number; hostPub: string }> {
  const keyFile = path.join(dir, "serve_host");
  const hostPub = fs.existsSync(keyFile)
    ? fs.readFileSync(`${keyFile}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ")
    : (await makeKey(dir, "serve_host", { type: "ed25519" })).pubLine;
  const ak = path.join(dir, "serve_authorized_keys");
  fs.writeFileSync(ak, fs.readFileSync(`${identity}.pub`));
  const cmd = tunnelCommand(rt);
  if (!cmd) throw new Error(`${rt} is not installed`);
  const p = await spawnReady(
    [
      ...cmd,
      "serve",
      "--listen",
      // serve takes no port 0: a free one, found a moment before.
      `127.0.0.1:${await freePort()}`,
      "--host-key",
      keyFile,
      "--authorized-keys",
      ak,
      "--allow",
      `127.0.0.1:${targetPort}`,
    ],
    ROOT,
    `tunnel serve (${rt})`,
  );
  return { ...p, port: portOf(p.line), hostPub };
}

interface Rig {
  relays: Proc[];
  serve: Proc & { port: number; hostPub: string };
  viaSshd: SshTarget;
  viaServe: SshTarget;
  directPort: number;
  directRelayPid: number | undefined;
}

/** Relays for one RTT: to the target, to sshd, to a fresh `tunnel serve`. */
async function rigFor(s: Setup, o: WanOptions, rtt: number): Promise<Rig> {
  const serve = await startServeProcess(s.dir, s.t.identity, s.targetPort, o.serveRuntime);
  const relays: Proc[] = [];
  try {
    const direct = await startRelayProcess(o.relayRuntime, s.targetPort, rtt, o.capBytes);
    relays.push(direct);
    const toSshd = await startRelayProcess(o.relayRuntime, s.t.sshd.port, rtt, o.capBytes);
    relays.push(toSshd);
    const toServe = await startRelayProcess(o.relayRuntime, serve.port, rtt, o.capBytes);
    relays.push(toServe);
    const sshdPort = portOf(toSshd.line);
    const servePort = portOf(toServe.line);
    return {
      relays,
      serve,
      directPort: portOf(direct.line),
      directRelayPid: direct.pid,
      viaSshd: {
        ...s.t,
        via: {
          port: sshdPort,
          knownHostsFile: knownHostsFor(s.dir, `kh-sshd-${rtt}`, sshdPort, pubLinesOf(s.t.sshd.knownHostsFile)),
        },
      },
      viaServe: {
        ...s.t,
        via: { port: servePort, knownHostsFile: knownHostsFor(s.dir, `kh-serve-${rtt}`, servePort, [serve.hostPub]) },
      },
    };
  } catch (err) {
    for (const r of relays) await r.stop();
    await serve.stop();
    throw err;
  }
}

async function stopRig(r: Rig): Promise<void> {
  for (const p of r.relays) await p.stop();
  await r.serve.stop();
}

/** Jiffies the whole machine spent busy and in all, so far (Linux /proc/stat), or undefined. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0] as string;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

interface Sample {
  rate: number;
  note: string;
  /** Share of all cores busy during the transfer (this benchmark and everything else), 0-1. */
  busy: number | undefined;
  /** CPU seconds per GB of the path's own process (the forwarder, or the relay for direct TCP). */
  cpuPerGb: number | undefined;
}

/** One transfer, with what the machine and the path's process spent on it. */
async function sampled(
  f: () => Promise<{ rate: number }>,
  bytes: number,
  pid: number | undefined,
  stallSeconds: number,
): Promise<Sample> {
  const m0 = machineTicks();
  const c0 = cpuSeconds(pid);
  const r = await timed(f, stallSeconds);
  const m1 = machineTicks();
  const c1 = cpuSeconds(pid);
  return {
    ...r,
    busy: m0 && m1 && m1.total > m0.total ? (m1.busy - m0.busy) / (m1.total - m0.total) : undefined,
    cpuPerGb: c0 !== undefined && c1 !== undefined && r.rate > 0 ? (c1 - c0) / (bytes / 1e9) : undefined,
  };
}

/** Throughput both ways and the round trip through each path, best of `repeat` interleaved rounds. */
async function measurePaths(s: Setup, o: WanOptions, rtt: number, paths: Path[]): Promise<WanRow[]> {
  const rows: WanRow[] = paths.map((p) => ({
    rtt,
    through: p.through,
    server: p.server,
    up: 0,
    down: 0,
    rttMs: Number.POSITIVE_INFINITY,
    note: "",
  }));
  const best: { up?: Sample; down?: Sample }[] = paths.map(() => ({}));
  for (let round = 0; round < o.repeat; round++) {
    for (const [i, p] of paths.entries()) {
      const row = rows[i] as WanRow;
      const b = best[i] as { up?: Sample; down?: Sample };
      const env = s.envFor(p.port);
      const up = await sampled(() => upload(env, o.bytes), o.bytes, p.pid, o.stallSeconds);
      const down = await sampled(() => download(env, o.bytes), o.bytes, p.pid, o.stallSeconds);
      if (!b.up || up.rate > b.up.rate) b.up = up;
      if (!b.down || down.rate > b.down.rate) b.down = down;
      row.up = b.up.rate;
      row.down = b.down.rate;
      row.busyUp = b.up.busy;
      row.busyDown = b.down.busy;
      row.cpuUp = b.up.cpuPerGb;
      row.cpuDown = b.down.cpuPerGb;
      const notes = [b.up.note && `up ${b.up.note}`, b.down.note && `down ${b.down.note}`].filter(Boolean);
      try {
        const r = await roundTrip(env, o.rttCount, 64, o.rttWarmup);
        row.rttMs = Math.min(row.rttMs, r.median / 1000);
      } catch (err) {
        notes.push(`round trip failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      row.note = notes.join("; ");
      o.log(
        `  rtt ${String(rtt).padStart(3)} ms ${p.through.padEnd(14)} → ${p.server.padEnd(12)} up ${mb(up.rate)} down ${mb(down.rate)} rtt ${row.rttMs.toFixed(1)} ms busy ${pct(up.busy)}/${pct(down.busy)} cpu ${perGb(up.cpuPerGb)}/${perGb(down.cpuPerGb)} s/GB ${row.note}`,
      );
    }
  }
  return rows;
}

const pct = (x: number | undefined) => (x === undefined ? "?" : `${(100 * x).toFixed(0)}%`);
const perGb = (x: number | undefined) => (x === undefined ? "?" : x.toFixed(2));

export interface AggregateRow {
  rtt: number;
  through: string;
  server: string;
  down: number;
  up: number;
  complete: string;
  /** Peak RSS of the forwarder (a fresh process for this test), bytes. */
  rss: number | undefined;
  serveRss: number | undefined;
}

export interface WanResult {
  rows: WanRow[];
  aggregate: AggregateRow[];
  defaults: (WanRow & { cipher: string })[];
  relayRuntime: JsRuntime;
  serveRuntime: JsRuntime;
}

/** The cipher `tunnel check` negotiates with no --ciphers, through `t` (what `tunnel open` gets too). */
async function negotiatedCipher(t: SshTarget, rt: JsRuntime): Promise<string> {
  const cmd = tunnelCommand(rt) as string[];
  try {
    const { stdout } = await execFileP(
      cmd[0] as string,
      [
        ...cmd.slice(1),
        "check",
        `${t.sshd.user}@127.0.0.1:${t.via?.port ?? t.sshd.port}`,
        "--identity",
        t.identity,
        "--known-hosts",
        t.via?.knownHostsFile ?? t.sshd.knownHostsFile,
        "--json",
      ],
      { cwd: ROOT, timeout: 30_000 },
    );
    const report = JSON.parse(stdout) as { cipher?: { clientToServer?: string } | string };
    const c = report.cipher;
    return typeof c === "string" ? c : (c?.clientToServer ?? "?");
  } catch {
    return "?";
  }
}

/** OpenSSH's client's first cipher when told nothing (`ssh -G`): what it negotiates with sshd. */
async function sshDefaultCipher(): Promise<string> {
  const { stdout } = await execFileP("ssh", ["-F", "/dev/null", "-G", "127.0.0.1"]);
  const line = stdout.split("\n").find((l) => l.startsWith("ciphers "));
  return line?.split(" ")[1]?.split(",")[0] ?? "?";
}

export async function runWan(
  t: SshTarget,
  envFor: (port: number) => LoadEnv,
  dir: string,
  o: WanOptions,
): Promise<WanResult> {
  const s: Setup = { t, dir, envFor, targetPort: t.targetPort };
  const rows: WanRow[] = [];
  const aggregate: AggregateRow[] = [];
  const defaults: (WanRow & { cipher: string })[] = [];
  const sshCipher = await sshDefaultCipher();
  for (const rtt of o.rtts) {
    o.log(`round-trip time ${rtt} ms (relays under ${o.relayRuntime}, tunnel serve under ${o.serveRuntime})`);
    const rig = await rigFor(s, o, rtt);
    try {
      const forwarders: Forwarder[] = [];
      const paths: Path[] = [{ through: "direct TCP", server: "-", port: rig.directPort, pid: rig.directRelayPid }];
      try {
        const sshL = await startSshL(rig.viaSshd, o.cipher);
        forwarders.push(sshL);
        paths.push({ through: "ssh -L", server: "sshd", port: sshL.port, pid: sshL.pid });
        for (const rt of o.runtimes) {
          const f = await startTunnelOpen(rig.viaSshd, rt, o.cipher);
          forwarders.push(f);
          paths.push({ through: f.label, server: "sshd", port: f.port, pid: f.pid });
        }
        for (const rt of o.runtimes) {
          const f = await startTunnelOpen(rig.viaServe, rt, o.cipher);
          forwarders.push(f);
          paths.push({ through: f.label, server: "tunnel serve", port: f.port, pid: f.pid });
        }
        // OpenSSH's client against our server role: its uploads are what our receive windows
        // grant a sender we did not write, against sshd's for the same client.
        const sshLServe = await startSshL(rig.viaServe, o.cipher);
        forwarders.push(sshLServe);
        paths.push({ through: "ssh -L", server: "tunnel serve", port: sshLServe.port, pid: sshLServe.pid });
        // The same tunnel with its windows held at their initial 2 MiB (no growth, as before
        // issue 14): what growth changes, at every RTT and at none, in this run.
        const fixedRt = o.runtimes[0];
        if (fixedRt) {
          const f = await startTunnelOpen(rig.viaSshd, fixedRt, o.cipher, ["--max-window", "2M"]);
          forwarders.push(f);
          paths.push({ through: `${f.label}, fixed 2 MiB window`, server: "sshd", port: f.port, pid: f.pid });
        }
        rows.push(...(await measurePaths(s, o, rtt, paths)));
      } finally {
        for (const f of forwarders) await f.stop();
      }

      if (rtt === 0 || rtt === o.defaultsRtt) {
        o.log(`  defaults against defaults at ${rtt} ms`);
        const dForwarders: Forwarder[] = [];
        const dPaths: Path[] = [];
        const ciphers: string[] = [];
        try {
          const sshL = await startSshL(rig.viaSshd, undefined);
          dForwarders.push(sshL);
          dPaths.push({ through: "ssh -L", server: "sshd", port: sshL.port, pid: sshL.pid });
          ciphers.push(sshCipher);
          for (const rt of o.runtimes) {
            const f = await startTunnelOpen(rig.viaSshd, rt, undefined);
            dForwarders.push(f);
            dPaths.push({ through: f.label, server: "sshd", port: f.port, pid: f.pid });
            ciphers.push(await negotiatedCipher(rig.viaSshd, rt));
          }
          const measured = await measurePaths(s, o, rtt, dPaths);
          defaults.push(...measured.map((r, i) => ({ ...r, cipher: ciphers[i] as string })));
        } finally {
          for (const f of dForwarders) await f.stop();
        }
      }

      if (rtt === 0 || rtt === o.channelsRtt) {
        o.log(`  ${o.channels} transfers at once at ${rtt} ms`);
        const starts: { server: string; start: () => Promise<Forwarder> }[] = [
          { server: "sshd", start: () => startSshL(rig.viaSshd, o.cipher) },
          ...o.runtimes.map((rt) => ({ server: "sshd", start: () => startTunnelOpen(rig.viaSshd, rt, o.cipher) })),
          ...o.runtimes.map((rt) => ({
            server: "tunnel serve",
            start: () => startTunnelOpen(rig.viaServe, rt, o.cipher),
          })),
        ];
        for (const { server, start } of starts) {
          const f = await start();
          try {
            const env = envFor(f.port);
            const down = await parallelTransfers(env, o.channels, o.channelBytes, "down");
            const up = await parallelTransfers(env, o.channels, o.channelBytes, "up");
            const row: AggregateRow = {
              rtt,
              through: f.label,
              server,
              down: down.rate,
              up: up.rate,
              complete: `${down.complete + up.complete}/${2 * o.channels}`,
              rss: peakRss(f.pid),
              serveRss: server === "tunnel serve" ? peakRss(rig.serve.pid) : undefined,
            };
            aggregate.push(row);
            o.log(
              `  rtt ${rtt} ms ${f.label} → ${server}: ${o.channels} at once down ${mb(row.down)} up ${mb(row.up)} (${row.complete} complete, peak RSS ${((row.rss ?? 0) / 2 ** 20).toFixed(0)} MiB)`,
            );
          } finally {
            await f.stop();
          }
        }
      }
    } finally {
      await stopRig(rig);
    }
  }
  return { rows, aggregate, defaults, relayRuntime: o.relayRuntime, serveRuntime: o.serveRuntime };
}

const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : "—");

/** The markdown for RESULTS.md: the table per RTT, the goals with their ratios, the aggregate, the defaults. */
export function wanMarkdown(r: WanResult, o: WanOptions, header: string[]): string {
  const find = (rtt: number, through: string, server: string) =>
    r.rows.find((x) => x.rtt === rtt && x.through === through && x.server === server);
  const table = r.rows.map((x) => {
    const ssh = find(x.rtt, "ssh -L", "sshd");
    const base = find(0, x.through, x.server);
    return [
      `${x.rtt} ms`,
      x.through,
      x.server,
      mb(x.up),
      ssh && x.through !== "direct TCP" ? ratio(x.up, ssh.up) : "",
      base && x.rtt !== 0 ? ratio(x.up, base.up) : "",
      mb(x.down),
      ssh && x.through !== "direct TCP" ? ratio(x.down, ssh.down) : "",
      base && x.rtt !== 0 ? ratio(x.down, base.down) : "",
      ms(x.rttMs),
      `${pct(x.busyUp)} / ${pct(x.busyDown)}`,
      `${perGb(x.cpuUp)} / ${perGb(x.cpuDown)}`,
      x.note,
    ];
  });

  const goals: string[][] = [];
  const verdict = (v: number, min: number) => (v >= min ? "met" : "**not met**");
  for (const rtt of o.rtts.filter((x) => x === 50 || x === 100)) {
    const ssh = find(rtt, "ssh -L", "sshd");
    if (!ssh) continue;
    for (const rt of o.runtimes) {
      const label = `tunnel (${rt})`;
      const viaSshd = find(rtt, label, "sshd");
      const viaServe = find(rtt, label, "tunnel serve");
      if (viaSshd) {
        const d = viaSshd.down / ssh.down;
        const u = viaSshd.up / ssh.up;
        goals.push([`${rtt} ms`, `${label} via sshd, download`, "≥ 3.00 × ssh -L", d.toFixed(2), verdict(d, 3)]);
        goals.push([`${rtt} ms`, `${label} via sshd, upload`, "≥ 1.00 × ssh -L", u.toFixed(2), verdict(u, 1)]);
      }
      if (viaServe) {
        const d = viaServe.down / ssh.down;
        const u = viaServe.up / ssh.up;
        goals.push([
          `${rtt} ms`,
          `${label} via tunnel serve, download`,
          "≥ 3.00 × ssh -L via sshd",
          d.toFixed(2),
          verdict(d, 3),
        ]);
        goals.push([
          `${rtt} ms`,
          `${label} via tunnel serve, upload`,
          "≥ 3.00 × ssh -L via sshd",
          u.toFixed(2),
          verdict(u, 3),
        ]);
        const base = find(0, label, "tunnel serve");
        if (rtt === 50 && base) {
          const bd = viaServe.down / base.down;
          const bu = viaServe.up / base.up;
          goals.push([
            `${rtt} ms`,
            `${label} via tunnel serve, download`,
            "≥ 0.80 × same pair at 0 ms",
            bd.toFixed(2),
            verdict(bd, 0.8),
          ]);
          goals.push([
            `${rtt} ms`,
            `${label} via tunnel serve, upload`,
            "≥ 0.80 × same pair at 0 ms",
            bu.toFixed(2),
            verdict(bu, 0.8),
          ]);
        }
      }
    }
  }
  for (const a of r.aggregate.filter((x) => x.rtt === o.channelsRtt && x.through !== "ssh -L")) {
    const base = r.aggregate.find((x) => x.rtt === 0 && x.through === a.through && x.server === a.server);
    if (!base) continue;
    for (const dir of ["down", "up"] as const) {
      const v = a[dir] / base[dir];
      goals.push([
        `${a.rtt} ms`,
        `${a.through} via ${a.server}, ${o.channels} at once, ${dir === "down" ? "download" : "upload"}`,
        "≥ 0.80 × same at 0 ms",
        v.toFixed(2),
        verdict(v, 0.8),
      ]);
    }
  }

  const rss = (b: number | undefined) => (b === undefined ? "n/a" : `${(b / 2 ** 20).toFixed(0)} MiB`);
  const aggTable = r.aggregate.map((a) => {
    const base = r.aggregate.find((x) => x.rtt === 0 && x.through === a.through && x.server === a.server);
    return [
      `${a.rtt} ms`,
      a.through,
      a.server,
      mb(a.down),
      base && a.rtt !== 0 ? ratio(a.down, base.down) : "",
      mb(a.up),
      base && a.rtt !== 0 ? ratio(a.up, base.up) : "",
      a.complete,
      rss(a.rss),
      rss(a.serveRss),
    ];
  });

  const defTable = r.defaults.map((d) => {
    const ssh = r.defaults.find((x) => x.rtt === d.rtt && x.through === "ssh -L");
    return [
      `${d.rtt} ms`,
      d.through,
      d.cipher,
      mb(d.up),
      ssh ? ratio(d.up, ssh.up) : "",
      mb(d.down),
      ssh ? ratio(d.down, ssh.down) : "",
      ms(d.rttMs),
    ];
  });

  return [
    "## WAN: throughput and round trip over a delayed link",
    "",
    ...header,
    "",
    `Every path crosses one delay relay (\`bench/lib/delay-relay.ts\` under ${r.relayRuntime}, its own sockets; ${o.capBytes / 2 ** 20} MiB in flight allowed per direction) that holds each chunk RTT/2 each way: between the load generator and the target for direct TCP, between the forwarder and its SSH server for the tunnels. "sshd" is OpenSSH's (its channel window: a fixed 2 MiB); "tunnel serve" runs under ${r.serveRuntime} (default \`--max-window\`, 16 MiB). Every tool is told \`${o.cipher}\`. ${o.bytes / 2 ** 20} MiB per transfer on a fresh connection (so each channel starts at its initial window); best of ${o.repeat}. "fixed 2 MiB window": \`tunnel open --max-window 2M\`, whose windows never grow (as before issue 14). "× 0 ms": against the same path through the relay with no delay, in this run. "Machine busy": the share of both cores in use during that transfer (this benchmark and everyone else's work): near 100%, the CPU is what limits. "CPU s/GB": the forwarder's own CPU seconds per GB moved (for direct TCP, the relay's).`,
    "",
    markdownTable(
      [
        "RTT",
        "through",
        "server",
        "up",
        "× ssh -L",
        "× 0 ms",
        "down",
        "× ssh -L",
        "× 0 ms",
        "round trip",
        "machine busy up / down",
        "CPU s/GB up / down",
        "note",
      ],
      table,
    ),
    "",
    "### Goals (issue 14)",
    "",
    markdownTable(["RTT", "what", "goal", "ratio", ""], goals),
    "",
    `### ${o.channels} transfers at once through one connection`,
    "",
    `${o.channels} connections at once, each ${o.channelBytes / 2 ** 20} MiB one way, through one forwarder (a fresh process: its peak RSS is this test's). The windows' memory bound: each channel's initial 2 MiB plus at most 128 MiB of growth per connection (\`Mux.windowBudget\`).`,
    "",
    markdownTable(
      ["RTT", "through", "server", "down", "× 0 ms", "up", "× 0 ms", "complete", "peak RSS", "tunnel serve peak RSS"],
      aggTable,
    ),
    "",
    "### Defaults against defaults (through sshd)",
    "",
    'Each tool told nothing about ciphers: what a user gets. OpenSSH\'s client puts chacha20-poly1305 first; `tunnel` puts first what its runtime carries fastest (README "Runtimes"). The cipher column is what was negotiated (`ssh -G`, `tunnel check --json`).',
    "",
    markdownTable(["RTT", "through", "cipher", "up", "× ssh -L", "down", "× ssh -L", "round trip"], defTable),
  ].join("\n");
}
