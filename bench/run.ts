/**
 * `pnpm bench`: the forwarding path against OpenSSH, in one run on one machine.
 *
 *   pnpm bench                 full run, prints the tables and rewrites bench/RESULTS.md
 *   pnpm bench --smoke         tiny sizes, no RESULTS.md (what the test suite runs)
 *   pnpm bench --runtimes node,bun --ciphers aes128-gcm@openssh.com
 *   pnpm bench --wan           over a delayed link (bench/lib/wan.ts): replaces the WAN and
 *                              cipher-order sections of bench/RESULTS.md, keeps the rest
 *   pnpm bench --wan --rtts 50 --megabytes 64 --repeat 1 --relay-runtime bun --serve-runtime node
 *   pnpm bench --kex           the key exchange section alone (bench/kex.ts on each runtime):
 *                              replaces that section of bench/RESULTS.md, keeps the rest
 *   pnpm bench --connect       the connect-to-authenticated section alone, likewise
 *
 * One sshd (the test harness's), one bench target, the load generator in this process.
 * Through each forwarder — nothing (direct TCP, the limit), `ssh -L`, `tunnel open` under each
 * runtime — it measures upload and download throughput per cipher and the 64-byte round trip.
 * Then connect-to-authenticated time, 1,000 concurrent channels with every byte compared,
 * crypto primitives per provider per runtime, and the pure-noble mode.
 */
import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { download, type LoadEnv, manyChannels, roundTrip, startTarget, upload } from "@tunnel/core/bench";
import { runtime } from "@tunnel/ssh/runtime";
import { makeKey, startSshd } from "@tunnel/testkit";
import { CIPHER_NAME } from "../packages/ssh/src/algorithms/cipher-names.ts";
import { KEX_NAME } from "../packages/ssh/src/algorithms/kex-names.ts";
import { parseArgs } from "./lib/args.ts";
import {
  type Forwarder,
  type JsRuntime,
  peakRss,
  ROOT,
  runtimeCommand,
  type SshTarget,
  snapshotCli,
  startSshL,
  startTunnelOpen,
  tunnelCommand,
} from "./lib/forwarders.ts";
import { markdownTable, mb, ratio } from "./lib/report.ts";
import { socketsSection } from "./lib/sockets.ts";
import { runWan, type WanOptions, wanMarkdown } from "./lib/wan.ts";

const execFileP = promisify(execFile);
const argv = process.argv.slice(2);
const JS_RUNTIMES = ["node", "bun", "deno"] as const;
const args = parseArgs({
  name: "pnpm bench",
  summary: "The forwarding path against OpenSSH: throughput, round trip, connect time, channels, crypto.",
  options: {
    smoke: { type: "boolean", description: "tiny sizes, nothing written (what the test suite runs)" },
    wan: { type: "boolean", description: "over a delayed link: the WAN and cipher-order sections" },
    kex: { type: "boolean", description: "the key exchange section alone" },
    connect: { type: "boolean", description: "the connect-to-authenticated section alone" },
    "no-write": { type: "boolean", description: "print the results, leave bench/RESULTS.md alone" },
    megabytes: { type: "number", above: 0, shownDefault: "256, 128 with --wan", description: "MiB per transfer" },
    repeat: {
      type: "number",
      integer: true,
      min: 1,
      shownDefault: "3, 2 with --wan",
      description: "interleaved rounds",
    },
    ciphers: { type: "list", shownDefault: "all three", description: "ciphers to measure (--wan: the first)" },
    runtimes: { type: "list", choices: JS_RUNTIMES, default: JS_RUNTIMES, description: "runtimes of tunnel open" },
    rtts: { type: "numbers", min: 0, shownDefault: "20,50,100", description: "--wan: round trips of the link, ms" },
    "relay-runtime": {
      type: "string",
      choices: JS_RUNTIMES,
      default: "bun",
      description: "--wan: runtime of the relay",
    },
    "serve-runtime": {
      type: "string",
      choices: JS_RUNTIMES,
      default: "node",
      description: "--wan: runtime of tunnel serve",
    },
    "cap-mib": { type: "number", above: 0, default: 64, description: "--wan: the link's buffer, MiB" },
    channels: { type: "number", integer: true, min: 1, default: 64, description: "--wan: transfers at once" },
    "channel-megabytes": { type: "number", above: 0, default: 4, description: "--wan: MiB per concurrent transfer" },
  },
});

const SMOKE = args.smoke;
const WAN = args.wan;
const KEX = args.kex;
const BYTES = SMOKE ? 2 * 1024 * 1024 : (args.megabytes ?? (WAN ? 128 : 256)) * 1024 * 1024;
const RTT_COUNT = SMOKE ? 50 : 2000;
const CHANNELS = SMOKE ? 50 : 1000;
const CHANNEL_BYTES = SMOKE ? 16 * 1024 : 64 * 1024;
const REPEAT = SMOKE ? 1 : (args.repeat ?? (WAN ? 2 : 3));
const ALL_CIPHERS = [CIPHER_NAME.AES128_GCM, CIPHER_NAME.CHACHA20_POLY1305, CIPHER_NAME.AES128_CTR];
const CIPHERS = args.ciphers ?? (SMOKE ? [CIPHER_NAME.AES128_GCM] : ALL_CIPHERS);
const RUNTIMES = args.runtimes.filter((r): r is JsRuntime => {
  if (runtimeCommand(r, "x")) return true;
  console.error(`bench: ${r} is not installed (node_modules/.bin/${r}); skipping it`);
  return false;
});

const log = (s: string) => console.error(s);

interface ThroughputRow {
  cipher: string;
  via: string;
  up: number;
  down: number;
  rttMedian: number;
  rttP99: number;
}

/**
 * Throughput both ways and the round trip through each of `targets`, in `REPEAT` interleaved
 * rounds (every forwarder once per round), keeping each one's best: the neighbour's load moves
 * between rounds, and interleaving spreads it over all forwarders alike instead of favouring
 * whichever ran in a quiet minute.
 */
async function measureThrough(cipher: string, targets: { env: LoadEnv; via: string }[]): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = targets.map(({ via }) => ({
    cipher,
    via,
    up: 0,
    down: 0,
    rttMedian: Number.POSITIVE_INFINITY,
    rttP99: 0,
  }));
  for (let round = 0; round < REPEAT; round++) {
    for (const [i, { env }] of targets.entries()) {
      const row = rows[i] as ThroughputRow;
      row.up = Math.max(row.up, (await upload(env, BYTES)).rate);
      row.down = Math.max(row.down, (await download(env, BYTES)).rate);
      const rtt = await roundTrip(env, RTT_COUNT);
      if (rtt.median < row.rttMedian) {
        row.rttMedian = rtt.median;
        row.rttP99 = rtt.p99;
      }
    }
  }
  for (const r of rows) {
    log(
      `  ${r.via.padEnd(16)} ${cipher.padEnd(30)} up ${mb(r.up)} down ${mb(r.down)} rtt ${r.rttMedian.toFixed(0)} µs`,
    );
  }
  return rows;
}

async function main(): Promise<void> {
  const started = new Date();
  if (KEX) {
    const section = kexSection(await kexRuns());
    console.log(section);
    await writeSections([section], "the key exchange section");
    return;
  }
  const sshd = await startSshd({ hostKeys: ["ed25519"], config: ["MaxStartups 2000", "MaxSessions 2000"] });
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-bench-"));
  snapshotCli(path.join(keyDir, "cli"));
  const key = await makeKey(keyDir, "id_ed25519", { type: "ed25519" });
  await sshd.addAuthorizedKey(key.pubLine);
  const target = await startTarget(runtime);
  const t: SshTarget = { sshd, identity: key.path, targetPort: target.port };
  const now = () => performance.now();
  const envFor = (port: number): LoadEnv => ({ runtime: runtime, now, host: "127.0.0.1", port });
  const rows: ThroughputRow[] = [];
  const sections: string[] = [];
  if (args.connect) {
    try {
      const section = await connectSection(t);
      console.log(section);
      await writeSections([section], "the connect-to-authenticated section");
    } finally {
      await target.close();
      await sshd.stop();
      fs.rmSync(keyDir, { recursive: true, force: true });
    }
    return;
  }
  if (WAN) {
    try {
      await wanRun(t, envFor, keyDir, started);
    } finally {
      await target.close();
      await sshd.stop();
      fs.rmSync(keyDir, { recursive: true, force: true });
    }
    return;
  }
  try {
    log("throughput and round trip");
    rows.push(...(await measureThrough("-", [{ env: envFor(target.port), via: "direct TCP" }])));
    for (const cipher of CIPHERS) {
      const forwarders: Forwarder[] = [];
      try {
        forwarders.push(await startSshL(t, cipher));
        for (const rt of RUNTIMES) forwarders.push(await startTunnelOpen(t, rt, cipher));
        rows.push(
          ...(await measureThrough(
            cipher,
            forwarders.map((f) => ({ env: envFor(f.port), via: f.label })),
          )),
        );
      } finally {
        for (const f of forwarders) await f.stop();
      }
    }
    sections.push(throughputSection(rows));

    log("pure-noble mode");
    sections.push(await pureNobleSection(t, envFor));

    log("connect to authenticated");
    sections.push(await connectSection(t));

    log("key exchange per method");
    sections.push(kexSection(await kexRuns()));

    log(`${CHANNELS} concurrent channels`);
    sections.push(await manySection(t, envFor));

    log("socket adapters");
    sections.push(await socketsSection(RUNTIMES, SMOKE ? 2 : 64, REPEAT, log));

    log("crypto primitives");
    const crypto = await cryptoRuns();
    sections.push(cryptoSection(crypto), cipherOrderSection(crypto));
    log("crypto primitives done");
  } finally {
    log("stopping the target and sshd");
    await target.close();
    await sshd.stop();
    fs.rmSync(keyDir, { recursive: true, force: true });
  }
  const report = [header(started), ...sections].join("\n\n");
  console.log(report);
  if (!SMOKE && !args["no-write"]) {
    const file = path.join(ROOT, "bench/RESULTS.md");
    fs.writeFileSync(file, `${report}\n`);
    // Laid out as the repository's formatter wants it, so that `biome check` stays clean.
    await execFileP(path.join(ROOT, "node_modules/.bin/biome"), ["format", "--write", file], { cwd: ROOT });
    log("wrote bench/RESULTS.md");
  }
}

function header(started: Date, title = "# Benchmark results", command = "`pnpm bench`"): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const versions = RUNTIMES.map((rt) => {
    const cmd = runtimeCommand(rt, "") as string[];
    const r = spawnSync(cmd[0] as string, ["--version"], { encoding: "utf8" });
    return `${rt} ${r.stdout.trim().split("\n")[0]}`;
  });
  const ssh = spawnSync("ssh", ["-V"], { encoding: "utf8" }).stderr.trim();
  return [
    `${title}${SMOKE ? " (smoke run: sizes too small to mean anything)" : ""}`,
    "",
    `- date: ${started.toISOString()}`,
    `- machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}`,
    `- runtimes: ${versions.join("; ")}`,
    `- OpenSSH: ${ssh} (client and sshd on loopback)`,
    `- sizes: ${BYTES / 2 ** 20} MiB per transfer and ${RTT_COUNT} round trips, best of ${REPEAT} rounds interleaved across the forwarders of a cipher; ${CHANNELS} channels × ${CHANNEL_BYTES / 1024} KiB`,
    `- command: ${command}`,
  ].join("\n");
}

function throughputSection(rows: ThroughputRow[]): string {
  const direct = rows.find((r) => r.via === "direct TCP");
  const table = rows.map((r) => {
    const ref = rows.find((x) => x.cipher === r.cipher && x.via === "ssh -L");
    return [
      r.cipher,
      r.via,
      mb(r.up),
      ref ? ratio(r.up, ref.up) : "",
      mb(r.down),
      ref ? ratio(r.down, ref.down) : "",
      `${r.rttMedian.toFixed(0)} µs`,
      ref ? ratio(ref.rttMedian, r.rttMedian, "inverse") : "",
      `${r.rttP99.toFixed(0)} µs`,
    ];
  });
  return [
    "## Throughput and round trip",
    "",
    `Ratios are against \`ssh -L\` with the same cipher (higher is better; for the round trip, the time ratio tunnel/ssh, lower is better). Direct TCP: ${mb(direct?.up ?? 0)} up.`,
    "",
    markdownTable(
      ["cipher", "through", "up", "× ssh -L", "down", "× ssh -L", "rtt median", "rtt × ssh -L", "rtt p99"],
      table,
    ),
  ].join("\n");
}

async function pureNobleSection(t: SshTarget, envFor: (port: number) => LoadEnv): Promise<string> {
  const cipher = CIPHER_NAME.CHACHA20_POLY1305;
  const f = await startTunnelOpen(t, "node", cipher, ["--crypto", "noble"]);
  // The primitive is timed in the same rounds as the tunnel, best of each: timed apart, a
  // quiet or a busy minute alone moved the ratio between 0.7 and 1.1.
  let up = 0;
  let down = 0;
  let raw = 0;
  try {
    for (let round = 0; round < REPEAT; round++) {
      up = Math.max(up, (await upload(envFor(f.port), BYTES / 4)).rate);
      down = Math.max(down, (await download(envFor(f.port), BYTES / 4)).rate);
      const primitive = await cryptoRun("node");
      const row = primitive.rows.find((r) => r.provider === "noble raw" && r.name.startsWith("chacha20"));
      raw = Math.max(raw, row?.mbps ?? 0);
    }
  } finally {
    await f.stop();
  }
  return [
    "## Pure-noble mode (accelerators off, `--crypto noble`, Node)",
    "",
    markdownTable(
      ["what", "MB/s", "× noble chacha20-poly1305 primitive"],
      [
        ["noble chacha20-poly1305 (RFC 8439), 32 KiB messages", raw.toFixed(0), "1.00"],
        [`tunnel open ${cipher}, up`, (up / 1e6).toFixed(0), (up / 1e6 / raw).toFixed(2)],
        [`tunnel open ${cipher}, down`, (down / 1e6).toFixed(0), (down / 1e6 / raw).toFixed(2)],
      ],
    ),
  ].join("\n");
}

async function connectSection(t: SshTarget): Promise<string> {
  const n = SMOKE ? 2 : 10;
  // `failing`: the command is expected to exit non-zero (ssh -W to a closed port)
  const time = async (cmd: string, args: string[], failing = false) => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await execFileP(cmd, args, { cwd: ROOT }).catch((err: unknown) => {
        if (!failing) throw err;
      });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] as number;
  };
  const dest = `${t.sshd.user}@127.0.0.1`;
  const sshArgs = [
    "-F",
    "/dev/null",
    "-p",
    String(t.sshd.port),
    "-i",
    t.identity,
    "-o",
    `UserKnownHostsFile=${t.sshd.knownHostsFile}`,
    "-o",
    "BatchMode=yes",
  ];
  // `ssh host true` also runs a session and a shell on the server (PAM session, login records):
  // 560 of its 820 ms here. `ssh -W` to a closed port stops after authentication and one
  // refused channel open, the nearest ssh has to check's "log in, then leave".
  const sshAuth = await time("ssh", [...sshArgs, "-W", "127.0.0.1:1", dest], true);
  const sshTrue = await time("ssh", [...sshArgs, dest, "true"]);
  // the key exchange each side's defaults agree on with this sshd, from ssh -v and check --json
  const sshKex =
    (await execFileP("ssh", [...sshArgs, "-v", dest, "true"], { cwd: ROOT }).then((r) => r.stderr)).match(
      /kex: algorithm: (\S+)/,
    )?.[1] ?? "?";
  const rows: string[][] = [
    ["ssh -o BatchMode=yes -W 127.0.0.1:1 host (closed port)", sshKex, `${sshAuth.toFixed(0)} ms`, "1.00"],
    [
      "ssh -o BatchMode=yes host true (with a session)",
      sshKex,
      `${sshTrue.toFixed(0)} ms`,
      ratio(sshAuth, sshTrue, "inverse"),
    ],
  ];
  const ssh = sshAuth;
  for (const rt of RUNTIMES) {
    const cmd = tunnelCommand(rt) as string[];
    const checkArgs = [
      ...cmd.slice(1),
      "check",
      `${dest}:${t.sshd.port}`,
      "--identity",
      t.identity,
      "--known-hosts",
      t.sshd.knownHostsFile,
    ];
    const kex =
      (
        JSON.parse((await execFileP(cmd[0] as string, [...checkArgs, "--json"], { cwd: ROOT })).stdout) as {
          kex?: string;
        }
      ).kex ?? "?";
    const ms = await time(cmd[0] as string, checkArgs);
    rows.push([`tunnel check (${rt}, bundled CLI)`, kex, `${ms.toFixed(0)} ms`, ratio(ssh, ms, "inverse")]);
  }
  return [
    "## Connect to authenticated",
    "",
    `Whole process, median of ${n}: start, connect, key exchange, host key check, publickey auth, exit; each side with its default key exchange order (the method agreed with this sshd in the second column). Ratio: time / ssh -W's (lower is better): \`ssh host true\` also starts a session and a shell on the server, which \`tunnel check\` never asks for.`,
    "",
    markdownTable(["command", "key exchange", "median", "× ssh"], rows),
  ].join("\n");
}

async function manySection(t: SshTarget, envFor: (port: number) => LoadEnv): Promise<string> {
  const rows: string[][] = [];
  const cipher = CIPHER_NAME.AES128_GCM;
  const forwarders = [() => startSshL(t, cipher), ...RUNTIMES.map((rt) => () => startTunnelOpen(t, rt, cipher))];
  for (const start of forwarders) {
    const f = await start();
    try {
      const r = await manyChannels(envFor(f.port), CHANNELS, CHANNEL_BYTES);
      const rss = peakRss(f.pid);
      log(`  ${f.label}: ${r.intact}/${r.channels} intact in ${r.seconds.toFixed(2)} s`);
      rows.push([
        f.label,
        `${r.intact}/${r.channels}`,
        `${r.seconds.toFixed(2)} s`,
        rss ? `${(rss / 2 ** 20).toFixed(0)} MiB` : "n/a",
      ]);
    } finally {
      await f.stop();
    }
  }
  return [
    `## ${CHANNELS} concurrent channels through one connection`,
    "",
    `Each connection echoes ${CHANNEL_BYTES / 1024} KiB of its own pattern, compared byte for byte. Peak RSS is the forwarding process's VmHWM.`,
    "",
    markdownTable(["through", "intact", "time", "peak RSS"], rows),
  ].join("\n");
}

interface CryptoRow {
  name: string;
  provider: string;
  impl: string;
  op: string;
  mbps: number;
}

interface CryptoRun {
  runtime: string;
  /** The name of the runtime's socket adapter (`runtime.name`), which picks the cipher order. */
  runtimeName: string;
  accelerated: string[];
  /** The default cipher order on this runtime (`preferredCiphers`). */
  order: string[];
  rows: CryptoRow[];
}

async function cryptoRun(rt: JsRuntime): Promise<CryptoRun> {
  const cmd = runtimeCommand(rt, path.join(ROOT, "bench/crypto.ts")) as string[];
  const { stdout } = await execFileP(cmd[0] as string, [...cmd.slice(1), ...(SMOKE ? ["--smoke"] : [])], {
    cwd: path.join(ROOT, "bench"),
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout);
}

async function cryptoRuns(): Promise<CryptoRun[]> {
  const out: CryptoRun[] = [];
  for (const rt of RUNTIMES) out.push(await cryptoRun(rt));
  return out;
}

function cryptoSection(runs: readonly CryptoRun[]): string {
  const out: string[] = ["## Crypto primitives (32 KiB packets, checked against noble before timing)"];
  for (const r of runs) {
    out.push(
      "",
      `### ${r.runtime} (accelerated: ${r.accelerated.join(", ") || "nothing"})`,
      "",
      markdownTable(
        ["algorithm", "provider", "implementation", "op", "MB/s"],
        r.rows.map((x) => [x.name, x.provider, x.impl, x.op, x.mbps.toFixed(0)]),
      ),
    );
  }
  return out.join("\n");
}

/**
 * Why each runtime's default order is what it is: the two AEADs as the packet path uses them,
 * accelerated (what passed its known answers at load) and noble. The order itself is decided
 * from which accelerators passed and which runtime this is (algorithms/cipher.ts), never timed
 * at start-up; these figures are what that rule rests on.
 */
function cipherOrderSection(runs: readonly CryptoRun[]): string {
  const pick = (r: CryptoRun, name: string, provider: string, op: string) =>
    r.rows.find((x) => x.name === name && x.provider === provider && x.op === op);
  const table = runs.map((r) => {
    const gcm = pick(r, CIPHER_NAME.AES128_GCM, "native", "seal");
    const chacha = pick(r, CIPHER_NAME.CHACHA20_POLY1305, "native", "seal");
    const gcmOpen = pick(r, CIPHER_NAME.AES128_GCM, "native", "open");
    const chachaOpen = pick(r, CIPHER_NAME.CHACHA20_POLY1305, "native", "open");
    const f = (x: CryptoRow | undefined) => (x ? `${x.mbps.toFixed(0)} (${x.impl})` : "n/a");
    return [
      r.runtime,
      f(gcm),
      f(gcmOpen),
      f(chacha),
      f(chachaOpen),
      gcm && chacha ? (gcm.mbps / chacha.mbps).toFixed(2) : "",
      r.order.slice(0, 3).join(", "),
    ];
  });
  return [
    "## Cipher order",
    "",
    "The default order is decided from facts that do not change from run to run — which accelerators passed their known-answer checks at load, and which runtime this is (`preferredCiphers` in packages/ssh/src/algorithms/cipher.ts) — not timed at start-up, so every run offers the same list. AES-GCM leads where node:crypto carries it, except on Deno, whose node:crypto AES-GCM is several times slower than its ChaCha20-Poly1305 (node:crypto's ChaCha20 with our WebAssembly Poly1305); without accelerated AES-GCM, OpenSSH's order. The figures the rule rests on (MB/s, 32 KiB packets, this run):",
    "",
    markdownTable(
      [
        "runtime",
        "aes128-gcm seal",
        "aes128-gcm open",
        "chacha20-poly1305 seal",
        "chacha20-poly1305 open",
        "gcm ÷ chacha (seal)",
        "default order (first three)",
      ],
      table,
    ),
  ].join("\n");
}

interface KexRun {
  runtime: string;
  samples: number;
  rows: { kex: string; note: string; cipher: string; medianMs: number }[];
}

async function kexRuns(): Promise<KexRun[]> {
  const out: KexRun[] = [];
  for (const rt of RUNTIMES) {
    const cmd = runtimeCommand(rt, path.join(ROOT, "bench/kex.ts")) as string[];
    const { stdout } = await execFileP(cmd[0] as string, [...cmd.slice(1), ...(SMOKE ? ["--smoke"] : [])], {
      cwd: path.join(ROOT, "bench"),
      maxBuffer: 16 * 1024 * 1024,
    });
    out.push(JSON.parse(stdout));
  }
  return out;
}

/** Each method's whole first exchange (both sides, one process) against curve25519-sha256's. */
function kexSection(runs: readonly KexRun[]): string {
  const out: string[] = [
    "## Key exchange",
    "",
    `One whole first key exchange between our client and our server in one process (KEXINIT, the method's messages, ed25519 signature and host-key check, NEWKEYS both ways): both sides' work, median of ${runs[0]?.samples ?? 0}. Ratio: time / curve25519-sha256's on the same runtime.`,
  ];
  for (const r of runs) {
    const base = r.rows.find((x) => x.kex === KEX_NAME.CURVE25519_SHA256)?.medianMs ?? Number.NaN;
    out.push(
      "",
      `### ${r.runtime}`,
      "",
      markdownTable(
        ["method", "group / note", "median", "× curve25519"],
        r.rows.map((x) => [x.kex, x.note || "-", `${x.medianMs.toFixed(1)} ms`, (x.medianMs / base).toFixed(1)]),
      ),
    );
  }
  return out.join("\n");
}

/** Replaces `sections` of bench/RESULTS.md, keeping the rest, unless this is a smoke run or --no-write. */
async function writeSections(sections: readonly string[], what: string): Promise<void> {
  if (SMOKE || args["no-write"]) return;
  const file = path.join(ROOT, "bench/RESULTS.md");
  fs.writeFileSync(file, replaceSections(fs.readFileSync(file, "utf8"), sections));
  await execFileP(path.join(ROOT, "node_modules/.bin/biome"), ["format", "--write", file], { cwd: ROOT });
  log(`wrote ${what} of bench/RESULTS.md`);
}

/** Replaces `## <title>` sections (up to the next `## ` heading) in `text`, or appends them. */
function replaceSections(text: string, sections: readonly string[]): string {
  let out = text.trimEnd();
  for (const section of sections) {
    const title = section.split("\n")[0] as string;
    const start = out.indexOf(`\n${title}\n`);
    if (start < 0) {
      out = `${out}\n\n${section}`;
      continue;
    }
    const next = out.indexOf("\n## ", start + title.length + 2);
    out = `${out.slice(0, start)}\n${section}${next < 0 ? "" : `\n${out.slice(next)}`}`;
  }
  return `${out}\n`;
}

async function wanRun(t: SshTarget, envFor: (port: number) => LoadEnv, dir: string, started: Date): Promise<void> {
  const rtts = [0, ...(args.rtts ?? (SMOKE ? [20] : [20, 50, 100]))];
  const o: WanOptions = {
    rtts: [...new Set(rtts)],
    runtimes: RUNTIMES,
    bytes: BYTES,
    rttCount: SMOKE ? 3 : 20,
    rttWarmup: SMOKE ? 2 : 5,
    repeat: REPEAT,
    cipher: args.ciphers?.[0] ?? CIPHER_NAME.AES128_GCM,
    relayRuntime: args["relay-runtime"],
    serveRuntime: args["serve-runtime"],
    capBytes: args["cap-mib"] * 2 ** 20,
    channels: SMOKE ? 4 : args.channels,
    channelBytes: SMOKE ? 256 * 1024 : args["channel-megabytes"] * 2 ** 20,
    channelsRtt: SMOKE ? 20 : 50,
    defaultsRtt: SMOKE ? 20 : 50,
    stallSeconds: SMOKE ? 60 : 180,
    log,
  };
  const load = () =>
    os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(", ");
  const loadBefore = load();
  const result = await runWan(t, envFor, dir, o);
  log("crypto primitives (for the cipher order)");
  const crypto = await cryptoRuns();
  const head = header(started, "", `\`pnpm bench ${argv.join(" ")}\``)
    .split("\n")
    .filter((l) => l.startsWith("- ") && !l.startsWith("- sizes"));
  head.push(`- load average (1, 5, 15 min): ${loadBefore} before, ${load()} after (2 cores shared with other work)`);
  const wan = wanMarkdown(result, o, head);
  const order = cipherOrderSection(crypto);
  console.log(`${wan}\n\n${order}`);
  await writeSections([wan, order], "the WAN and cipher-order sections");
}

main().catch((err) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
