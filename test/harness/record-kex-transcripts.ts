/**
 * Records key exchange transcripts against a given OpenSSH build, for the replay test
 * packages/ssh/test/kex-transcripts.test.ts (which needs no OpenSSH):
 *
 *   node --import tsx test/harness/record-kex-transcripts.ts --openssh /path/to/prefix \
 *     [--kex mlkem768x25519-sha256,sntrup761x25519-sha512] [--out packages/ssh/test/transcripts]
 *
 * `/path/to/prefix` is an OpenSSH install prefix (`./configure --prefix=… && make install`):
 * its `sbin/sshd`, `bin/ssh` and `bin/ssh-keygen` are used. Use one new enough for the methods
 * (mlkem768x25519-sha256 needs OpenSSH 9.9 or later). For each method two sessions are
 * recorded, both through `TapConn` on our side of a loopback TCP connection:
 *
 * - client-<kex>.json: our client (transcript.ts `runOurClient`, seeded randomness) logs in
 *   to that sshd with the fixed transcript user key and disconnects;
 * - server-<kex>.json: that `ssh -N` logs in to our server (`runOurServer`, seeded
 *   randomness, the fixed transcript host key) with a key made here; our server disconnects.
 *
 * Run as root or as a user sshd may log in as (the user is the one running this); the
 * sshd gets a temp dir of its own. Nothing outside `--out` is written or kept.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { localUserName } from "@tunnel/core";
import { runtime } from "@tunnel/ssh/runtime";
import { freePort } from "@tunnel/testkit";
import { parseArgs } from "../../bench/lib/args.ts";
import { KEX_NAME } from "../../packages/ssh/src/algorithms/kex-names.ts";
import {
  fromBase64,
  ourClientKey,
  ourHostKey,
  runOurClient,
  runOurServer,
  TapConn,
  type Transcript,
  toBase64,
} from "../../packages/ssh/test/transcript.ts";

const args = parseArgs({
  name: "test/harness/record-kex-transcripts.ts",
  summary: "Records key exchange transcripts against an OpenSSH build, for kex-transcripts.test.ts.",
  options: {
    openssh: { type: "string", required: true, value: "PREFIX", description: "an OpenSSH install prefix" },
    kex: {
      type: "list",
      default: [KEX_NAME.MLKEM768_X25519_SHA256, KEX_NAME.SNTRUP761_X25519_SHA512],
      description: "the key exchange methods to record",
    },
    out: { type: "string", default: "packages/ssh/test/transcripts", description: "where the transcripts go" },
  },
});
const prefix = path.resolve(args.openssh);
const methods = args.kex;
const outDir = path.resolve(args.out);
const bin = (p: string) => {
  const file = path.join(prefix, p);
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: --openssh must be an OpenSSH install prefix`);
  return file;
};
const user = localUserName();
/** `ssh -V` prints e.g. "OpenSSH_10.5p1, OpenSSL 3.0.19 27 Jan 2026" on stderr. */
const version = spawnSync(bin("bin/ssh"), ["-V"], { encoding: "utf8" }).stderr.split(",")[0]?.trim() || "OpenSSH";

const blobOfPubFile = (file: string) => fs.readFileSync(file, "utf8").trim().split(/\s+/)[1] as string;
const pubLine = (blob: Uint8Array) => `ssh-ed25519 ${toBase64(blob)}`;

/** The peer's identification line: the first line of what it sent. */
function peerVersionOf(t: TapConn): string {
  const first = t.chunks.find((c) => c.from === "peer");
  const text = first ? new TextDecoder().decode(fromBase64(first.data)) : "";
  return text.split("\r\n")[0] ?? "";
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited early:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not listen on ${port}:\n${log()}`);
}

async function recordClient(kex: string, dir: string): Promise<Transcript> {
  const hostKey = path.join(dir, "host_ed25519");
  execFileSync(bin("bin/ssh-keygen"), ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  fs.writeFileSync(path.join(dir, "authorized_keys"), `${pubLine(ourClientKey().publicKey.blob)}\n`, { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, "sshd_config");
  fs.writeFileSync(
    config,
    [
      "ListenAddress 127.0.0.1",
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      `KexAlgorithms ${kex}`,
      "StrictModes no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      `PermitRootLogin ${process.getuid?.() === 0 ? "yes" : "no"}`,
      "PerSourcePenalties no",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  let log = "";
  const sshd = spawn(bin("sbin/sshd"), ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  sshd.stderr?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  try {
    await waitForPort(port, sshd, () => log);
    const t = { kex, seed: `${kex} client transcript`, user, peerKey: blobOfPubFile(`${hostKey}.pub`) };
    const tap = new TapConn(await runtime.connect("127.0.0.1", port));
    const result = await runOurClient(tap, t);
    await tap.closed;
    if (result.kex !== kex || result.method !== "publickey")
      throw new Error(`unexpected result ${JSON.stringify(result)}`);
    return {
      description: `our client logs in to ${version} sshd with ${kex} (recorded by test/harness/record-kex-transcripts.ts)`,
      ...t,
      ourRole: "client",
      peerVersion: peerVersionOf(tap),
      chunks: tap.chunks,
    };
  } finally {
    sshd.kill("SIGTERM");
  }
}

async function recordServer(kex: string, dir: string): Promise<Transcript> {
  const userKey = path.join(dir, "id_ed25519");
  execFileSync(bin("bin/ssh-keygen"), ["-q", "-t", "ed25519", "-N", "", "-f", userKey]);
  const t = { kex, seed: `${kex} server transcript`, user, peerKey: blobOfPubFile(`${userKey}.pub`) };
  let tap: TapConn | undefined;
  let session: Promise<unknown> | undefined;
  const listener = await runtime.listen("127.0.0.1", 0, (conn) => {
    if (tap) return conn.destroy(); // one connection only
    tap = new TapConn(conn);
    session = runOurServer(tap, t);
  });
  try {
    const knownHosts = path.join(dir, "known_hosts");
    fs.writeFileSync(knownHosts, `[127.0.0.1]:${listener.port} ${pubLine(ourHostKey().publicKey.blob)}\n`);
    const ssh = spawn(
      bin("bin/ssh"),
      [
        "-F",
        "/dev/null",
        "-p",
        String(listener.port),
        "-i",
        userKey,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        `KexAlgorithms=${kex}`,
        "-o",
        "HostKeyAlgorithms=ssh-ed25519",
        "-N",
        `${user}@127.0.0.1`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    ssh.stderr?.on("data", (d: Buffer) => {
      log += d.toString();
    });
    await new Promise((resolve) => ssh.once("exit", resolve));
    if (!tap || !session) throw new Error(`ssh never connected:\n${log}`);
    const result = (await session) as { kex?: string; method: string };
    await tap.closed;
    if (result.kex !== kex || result.method !== "publickey")
      throw new Error(`unexpected result ${JSON.stringify(result)}`);
    return {
      description: `${version} ssh logs in to our server with ${kex} (recorded by test/harness/record-kex-transcripts.ts)`,
      ...t,
      ourRole: "server",
      peerVersion: peerVersionOf(tap),
      chunks: tap.chunks,
    };
  } finally {
    await listener.close();
  }
}

fs.mkdirSync(outDir, { recursive: true });
for (const kex of methods) {
  for (const [role, record] of [
    ["client", recordClient],
    ["server", recordServer],
  ] as const) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-transcript-"));
    try {
      const t = await record(kex, dir);
      const file = path.join(outDir, `${role}-${kex.replace(/@.*/, "")}.json`);
      fs.writeFileSync(file, `${JSON.stringify(t, null, 1)}\n`);
      console.log(`${file}: ${t.chunks.length} chunks, peer ${t.peerVersion}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
