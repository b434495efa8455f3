/**
 * A real OpenSSH sshd for interop tests: fresh temp dir, free loopback port, host keys made by
 * ssh-keygen, a self-contained config that works unprivileged (and as root), logs captured.
 *
 *   const sshd = await startSshd({ config: ["KexAlgorithms curve25519-sha256"] });
 *   await sshd.addAuthorizedKey(key.pubLine);
 *   ... connect to sshd.host:sshd.port as sshd.user, known hosts in sshd.knownHostsFile ...
 *   await sshd.stop(); // always, in afterAll
 *
 * The bastion going away and coming back (issue 13): `kill()` ends sshd and its sessions but
 * keeps its files; `killConnections()` ends the sessions only; `restart()` starts it again on
 * the same port with the same config and host keys (or fresh ones with `newHostKeys`). A
 * `stop()` followed by `restart()` works too: the files are put back from memory.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { localUserName } from "@tunnel/core";
import { freePort } from "./ports.ts";

const execFileP = promisify(execFile);

export const SSHD_PATH = process.env.TUNNEL_SSHD ?? "/usr/sbin/sshd";
const READY_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 5;

/** Host key kinds the harness can make: `ecdsa-256` is nistp256, and so on; rsa is 3072 bits. */
export type HostKeyKind = "ed25519" | "ecdsa-256" | "ecdsa-384" | "ecdsa-521" | "rsa";

export const DEFAULT_HOST_KEYS: readonly HostKeyKind[] = ["ed25519", "ecdsa-256", "rsa"];

export interface HostKey {
  kind: HostKeyKind;
  /** The key type as in the public key line: ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, … */
  type: string;
  /** Private key file (the `.pub` is next to it). */
  path: string;
  /** `<type> <base64>` (no comment). */
  pubLine: string;
  /** `SHA256:…` as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

export interface SshdOptions {
  /** Which host keys to make and configure (default: ed25519, ecdsa-256, rsa). */
  hostKeys?: readonly HostKeyKind[];
  /**
   * Extra sshd_config lines, e.g. `KexAlgorithms curve25519-sha256`. They go before the
   * harness's defaults, so they win (sshd keeps the first value of an option); anything from
   * the first `Match` line on goes at the end of the file.
   */
  config?: readonly string[];
  /** Allow password authentication (default: off; needs a password set for the user). */
  passwordAuthentication?: boolean;
  /** Public key lines to put in authorized_keys before start. */
  authorizedKeys?: readonly string[];
}

export interface Sshd {
  host: "127.0.0.1";
  port: number;
  /** The user the tests log in as: whoever runs the tests. */
  user: string;
  /** The temp dir holding config, keys, pid file, authorized_keys and known_hosts. */
  dir: string;
  /** The server's identification line, read from the socket: e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u7`. */
  banner: string;
  hostKeys: HostKey[];
  /** known_hosts with `[127.0.0.1]:PORT <pub>` for every host key. */
  knownHostsFile: string;
  /** The sshd_config written. */
  configFile: string;
  /** The host key of a type (`ssh-ed25519`, `ecdsa-sha2-nistp384`, `ssh-rsa`, …) or a signature algorithm (`rsa-sha2-512`). */
  hostKey(typeOrAlgorithm: string): HostKey;
  /** `[127.0.0.1]:PORT <pubLine>`. */
  knownHostsLine(pubLine: string): string;
  addAuthorizedKey(pubLine: string): Promise<void>;
  /** Everything sshd wrote to stderr so far (-e: the log goes there). */
  logs(): string;
  /** Resolves once sshd's log has been quiet for `quietMs` (or after `maxMs`): its per-connection children log after the client is gone. */
  settle(opts?: { quietMs?: number; maxMs?: number }): Promise<void>;
  /** SIGTERM to sshd and its connection processes, await exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /**
   * Ends sshd — the listener and every per-connection process — and waits for them, keeping
   * the temp dir, port and host keys for `restart()`. SIGTERM by default; SIGKILL is a crash.
   */
  kill(options?: { signal?: "SIGTERM" | "SIGKILL" }): Promise<void>;
  /**
   * Ends the per-connection processes only (the sessions in progress; SIGKILL by default, so
   * the kernel closes their sockets), leaving the listener up. Resolves with how many there were.
   */
  killConnections(signal?: "SIGTERM" | "SIGKILL"): Promise<number>;
  /**
   * Starts sshd again on the same port, with the same config, authorized keys and host keys —
   * after `kill()` or `stop()` (it is killed first if still running). `newHostKeys` makes fresh
   * host keys of the same kinds first: `hostKeys` then describes them, while `knownHostsFile`
   * keeps the old ones, so a client that checks it must refuse the server.
   */
  restart(options?: { newHostKeys?: boolean }): Promise<void>;
  /** Whether the sshd listener is running. */
  readonly running: boolean;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) {
    if (child.pid !== undefined) for (const pid of [...descendants(child.pid), child.pid]) tryKill(pid, "SIGKILL");
  }
});

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tunnel-sshd-"));
  try {
    return await startIn(dir, options);
  } catch (err) {
    await fs.promises.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function startIn(dir: string, options: SshdOptions): Promise<Sshd> {
  const isRoot = process.getuid?.() === 0;
  if (isRoot) await fs.promises.mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const hostKeys = await Promise.all((options.hostKeys ?? DEFAULT_HOST_KEYS).map((k) => makeHostKey(dir, k)));
  const authorizedKeysFile = path.join(dir, "authorized_keys");
  await fs.promises.writeFile(authorizedKeysFile, (options.authorizedKeys ?? []).map((l) => `${l}\n`).join(""), {
    mode: 0o600,
  });
  const configFile = path.join(dir, "sshd_config");

  let lastError: Error | undefined;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    await fs.promises.writeFile(configFile, await buildConfig(dir, port, hostKeys, options, isRoot), { mode: 0o600 });
    const started = await launch(configFile, port);
    if ("retry" in started) {
      lastError = started.retry;
      continue;
    }
    let { child } = started;
    const { stderr } = started;
    const knownHostsFile = path.join(dir, "known_hosts");
    const knownHostsLine = (pubLine: string) => `[127.0.0.1]:${port} ${pubLine}`;
    await fs.promises.writeFile(knownHostsFile, hostKeys.map((k) => `${knownHostsLine(k.pubLine)}\n`).join(""));
    let stopped: Promise<void> | undefined;
    /** The files of `dir`, kept by stop() so that restart() can put them back. */
    let saved: Map<string, { data: Buffer; mode: number }> | undefined;
    const sshd: Sshd = {
      host: "127.0.0.1",
      port,
      user: localUserName(),
      dir,
      banner: started.banner,
      hostKeys,
      knownHostsFile,
      configFile,
      hostKey(typeOrAlgorithm) {
        const type = typeOrAlgorithm.startsWith("rsa-sha2-") ? "ssh-rsa" : typeOrAlgorithm;
        const key = hostKeys.find((k) => k.type === type);
        if (!key) throw new Error(`sshd has no ${type} host key (it has ${hostKeys.map((k) => k.type).join(", ")})`);
        return key;
      },
      knownHostsLine,
      async addAuthorizedKey(pubLine) {
        await fs.promises.appendFile(authorizedKeysFile, `${pubLine.trim()}\n`);
      },
      logs: () => stderr.text,
      settle: (opts) => settle(stderr, opts?.quietMs ?? 200, opts?.maxMs ?? 3000),
      stop() {
        stopped ??= stop(child).finally(async () => {
          saved = await snapshot(dir);
          await fs.promises.rm(dir, { recursive: true, force: true });
        });
        return stopped;
      },
      async kill(opts = {}) {
        await stop(child, opts.signal ?? "SIGTERM");
      },
      async killConnections(signal = "SIGKILL") {
        if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return 0;
        const kids = descendants(child.pid);
        for (const pid of kids) tryKill(pid, signal);
        // wait until they are gone (their sockets closed by the kernel)
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline && kids.some(alive)) await new Promise((r) => setTimeout(r, 20));
        return kids.length;
      },
      async restart(opts = {}) {
        await stop(child);
        if (stopped) {
          await stopped;
          stopped = undefined;
          if (saved) await restore(dir, saved);
          saved = undefined;
        }
        if (opts.newHostKeys) {
          for (const [i, k] of hostKeys.entries()) {
            await fs.promises.rm(k.path, { force: true });
            await fs.promises.rm(`${k.path}.pub`, { force: true });
            hostKeys[i] = await makeHostKey(dir, k.kind);
          }
        }
        // The port was ours a moment ago: another process taking it in between is unlikely,
        // but the old listener's socket may take a moment to go; retry briefly.
        let last: Error | undefined;
        for (let attempt = 0; attempt < 20; attempt++) {
          const again = await launch(configFile, port, stderr);
          if ("retry" in again) {
            last = again.retry;
            await new Promise((r) => setTimeout(r, 100));
            continue;
          }
          child = again.child;
          sshd.banner = again.banner;
          return;
        }
        throw new Error(`sshd: cannot listen on port ${port} again: ${last?.message ?? ""}`);
      },
      get running() {
        return child.exitCode === null && child.signalCode === null;
      },
    };
    return sshd;
  }
  throw new Error(`sshd: no free port after ${PORT_ATTEMPTS} attempts: ${lastError?.message ?? ""}`);
}

// ---------------------------------------------------------------- keys

const KEYGEN_ARGS: Record<HostKeyKind, string[]> = {
  ed25519: ["-t", "ed25519"],
  "ecdsa-256": ["-t", "ecdsa", "-b", "256"],
  "ecdsa-384": ["-t", "ecdsa", "-b", "384"],
  "ecdsa-521": ["-t", "ecdsa", "-b", "521"],
  rsa: ["-t", "rsa", "-b", "3072"],
};

async function makeHostKey(dir: string, kind: HostKeyKind): Promise<HostKey> {
  const keyPath = path.join(dir, `ssh_host_${kind}_key`);
  await execFileP("ssh-keygen", ["-q", ...KEYGEN_ARGS[kind], "-N", "", "-C", `host-${kind}`, "-f", keyPath]);
  const { pubLine, type } = await readPubLine(`${keyPath}.pub`);
  return { kind, type, path: keyPath, pubLine, fingerprint: await fingerprintOf(`${keyPath}.pub`) };
}

/** `<type> <base64>` of a `.pub` file, comment dropped. */
export async function readPubLine(pubPath: string): Promise<{ type: string; pubLine: string }> {
  const [type, blob] = (await fs.promises.readFile(pubPath, "utf8")).trim().split(/\s+/);
  if (!type || !blob) throw new Error(`${pubPath}: not a public key line`);
  return { type, pubLine: `${type} ${blob}` };
}

/** The SHA256 fingerprint `ssh-keygen -lf` gives for a key file. */
export async function fingerprintOf(keyPath: string): Promise<string> {
  const { stdout } = await execFileP("ssh-keygen", ["-E", "sha256", "-lf", keyPath]);
  const fp = stdout.split(/\s+/)[1];
  if (!fp?.startsWith("SHA256:")) throw new Error(`ssh-keygen -lf ${keyPath}: unexpected output ${stdout}`);
  return fp;
}

// ---------------------------------------------------------------- config

/** OpenSSH 9.8+ penalises sources that fail auth; tests fail auth on purpose, from 127.0.0.1. */
let penaltiesKnown: Promise<boolean> | undefined;

async function buildConfig(
  dir: string,
  port: number,
  hostKeys: HostKey[],
  options: SshdOptions,
  isRoot: boolean,
): Promise<string> {
  const extra = [...(options.config ?? [])];
  const matchAt = extra.findIndex((l) => /^\s*Match\s/i.test(l));
  const tail = matchAt >= 0 ? extra.splice(matchAt) : [];
  const lines = [
    "# written by @tunnel/testkit (packages/testkit/src/sshd.ts)",
    ...extra,
    "ListenAddress 127.0.0.1",
    `Port ${port}`,
    ...hostKeys.map((k) => `HostKey ${k.path}`),
    `PidFile ${path.join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
    "StrictModes no",
    "UsePAM no",
    `PasswordAuthentication ${options.passwordAuthentication ? "yes" : "no"}`,
    "KbdInteractiveAuthentication no",
    "PubkeyAuthentication yes",
    `PermitRootLogin ${isRoot ? "yes" : "no"}`,
    "AllowTcpForwarding yes",
    "UseDNS no",
    "PrintMotd no",
    "LogLevel VERBOSE",
    "MaxStartups 100:30:200",
  ];
  penaltiesKnown ??= supportsOption(dir, "PerSourcePenalties no");
  if (await penaltiesKnown) lines.push("PerSourcePenalties no");
  return `${[...lines, ...tail].join("\n")}\n`;
}

async function supportsOption(dir: string, line: string): Promise<boolean> {
  const probe = path.join(dir, "probe_config");
  const key = path.join(dir, "probe_key");
  try {
    await execFileP("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    await fs.promises.writeFile(probe, `HostKey ${key}\nUsePAM no\n${line}\n`);
    await execFileP(SSHD_PATH, ["-t", "-f", probe]);
    return true;
  } catch {
    return false;
  } finally {
    for (const f of [probe, key, `${key}.pub`]) await fs.promises.rm(f, { force: true });
  }
}

// ---------------------------------------------------------------- process

interface Captured {
  text: string;
  lastAt: number;
}

/** Resolves when the process has exited (or failed to spawn). */
const exits = new WeakMap<ChildProcess, Promise<void>>();

type Launch = { child: ChildProcess; banner: string; stderr: Captured } | { retry: Error };

async function launch(configFile: string, port: number, log?: Captured): Promise<Launch> {
  const child = spawn(SSHD_PATH, ["-D", "-e", "-f", configFile], { stdio: ["ignore", "ignore", "pipe"] });
  running.add(child);
  // A restart appends to the log of the first start.
  const stderr: Captured = log ?? { text: "", lastAt: Date.now() };
  const startedAt = stderr.text.length;
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (s: string) => {
    stderr.text += s;
    stderr.lastAt = Date.now();
  });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once("error", (err) => {
      spawnError = err;
      resolve();
    });
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve();
    });
  });
  exits.set(child, exit);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`cannot run ${SSHD_PATH}: ${spawnError.message}`);
    if (exited) {
      // wait for the rest of the stderr pipe
      await new Promise((r) => setTimeout(r, 50));
      const why = `sshd exited (code ${exited.code}, signal ${exited.signal}) before accepting connections on port ${port}; stderr:\n${stderr.text}`;
      if (/Address already in use|Cannot bind any address/i.test(stderr.text.slice(startedAt)))
        return { retry: new Error(why) };
      throw new Error(why);
    }
    const banner = await readBanner(port, Math.min(1000, deadline - Date.now()));
    if (banner) return { child, banner, stderr };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop(child);
  throw new Error(
    `sshd did not answer with an SSH-2.0- banner on 127.0.0.1:${port} within ${READY_TIMEOUT_MS / 1000} s; stderr:\n${stderr.text}`,
  );
}

/** Connects, reads the identification line, closes. Null if the port does not answer with one. */
function readBanner(port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    let buf = "";
    let done = false;
    const sock = net.connect({ host: "127.0.0.1", port });
    const finish = (v: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.end();
      sock.destroySoon();
      resolve(v);
    };
    const timer = setTimeout(() => finish(null), Math.max(timeoutMs, 1));
    sock.setEncoding("latin1");
    sock.on("data", (s: string) => {
      buf += s;
      for (const line of buf.split("\n").slice(0, -1)) {
        if (line.startsWith("SSH-2.0-")) return finish(line.replace(/\r$/, ""));
      }
    });
    sock.on("error", () => finish(null));
    sock.on("close", () => finish(null));
  });
}

async function stop(child: ChildProcess, signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
  const exit = exits.get(child) ?? Promise.resolve();
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    await exit;
    return;
  }
  // sshd's per-connection processes call setsid(), so they are not in its process group:
  // find them by parentage before the listener goes.
  const kids = descendants(child.pid);
  child.kill(signal);
  for (const pid of kids) tryKill(pid, signal);
  const killed = await Promise.race([exit.then(() => true), new Promise((r) => setTimeout(r, 5000, false))]);
  if (!killed) {
    child.kill("SIGKILL");
    await exit;
  }
  for (const pid of kids) tryKill(pid, "SIGKILL");
}

/** Every process below `pid` (Linux /proc; empty elsewhere). */
function descendants(pid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      // pid (comm) state ppid …; comm may hold spaces and parentheses
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    // a zombie (state Z) has closed its sockets already
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Every file directly in `dir`, with its mode. */
async function snapshot(dir: string): Promise<Map<string, { data: Buffer; mode: number }>> {
  const out = new Map<string, { data: Buffer; mode: number }>();
  for (const name of await fs.promises.readdir(dir)) {
    const file = path.join(dir, name);
    const st = await fs.promises.stat(file);
    if (st.isFile()) out.set(name, { data: await fs.promises.readFile(file), mode: st.mode & 0o777 });
  }
  return out;
}

async function restore(dir: string, files: Map<string, { data: Buffer; mode: number }>): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [name, f] of files) await fs.promises.writeFile(path.join(dir, name), f.data, { mode: f.mode });
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

async function settle(stderr: Captured, quietMs: number, maxMs: number): Promise<void> {
  const start = Date.now();
  // give a just-closed connection's process a moment to write anything at all
  await new Promise((r) => setTimeout(r, Math.min(quietMs, maxMs)));
  while (Date.now() - start < maxMs && Date.now() - stderr.lastAt < quietMs) {
    await new Promise((r) => setTimeout(r, 25));
  }
}
