/**
 * The server role against the real OpenSSH client: `tunnel serve` as a child process, `ssh -N
 * -L` / `-R` from OpenSSH 9.2 for every KEX, host key algorithm and cipher it offers, data
 * checked end to end. (Issue: the server role, tunnel serve and tunnel demo.)
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { localUserName } from "@tunnel/core";
import { freePort } from "@tunnel/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { knownHostsAt, sshOptions, startServeCli } from "./harness/serve-cli.ts";

let dir: string;
let echoPort: number;
let echo: net.Server;
const children: ChildProcess[] = [];

interface Serve {
  port: number;
  fingerprints: string[];
  stderr: () => string;
  child: ChildProcess;
  knownHosts: string;
}

function keygen(name: string, args: string[]): string {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) execFileSync("ssh-keygen", ["-q", "-N", "", "-f", file, ...args]);
  return file;
}

async function startServe(extra: string[], state = path.join(dir, "state")): Promise<Serve> {
  const port = await freePort();
  const p = await startServeCli(
    ["--listen", `127.0.0.1:${port}`, "--authorized-keys", path.join(dir, "authorized_keys"), ...extra],
    { XDG_STATE_HOME: state },
  );
  children.push(p.child);
  const err = p.stderr();
  const fingerprints = [...err.matchAll(/Host key: \S+ (SHA256:\S+)/g)].map((m) => m[1] as string);
  // known_hosts for OpenSSH: the public halves of the keys serve uses.
  const hostKeyFiles = extra.flatMap((a, i) => (extra[i - 1] === "--host-key" ? [a] : []));
  const files = hostKeyFiles.length > 0 ? hostKeyFiles : [path.join(state, "tunnel", "ssh_host_ed25519_key")];
  const pubs = files.map((f) => execFileSync("ssh-keygen", ["-y", "-f", f]).toString());
  const knownHosts = knownHostsAt(dir, `known_hosts_${port}`, port, pubs);
  return { port, fingerprints, stderr: p.stderr, child: p.child, knownHosts };
}

function ssh(serve: Serve, key: string, args: string[], command: string[] = []): ChildProcess & { err: () => string } {
  const child = spawn(
    "ssh",
    [...sshOptions(serve.knownHosts, key, serve.port), ...args, `${localUserName()}@127.0.0.1`, ...command],
    { stdio: ["ignore", "pipe", "pipe"] },
  ) as ChildProcess & { err: () => string };
  children.push(child);
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  child.err = () => err;
  return child;
}

async function connectWhenReady(port: number, child: ChildProcess): Promise<net.Socket> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`ssh exited with ${child.exitCode}`);
    const s = await new Promise<net.Socket | undefined>((resolve) => {
      const sock = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      sock.once("connect", () => resolve(sock));
      sock.once("error", () => resolve(undefined));
    });
    if (s) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("forwarded port never opened");
}

/** Sends 1 MiB through `port`, half-closes, and compares the echo's SHA-256. */
async function echoCheck(sock: net.Socket): Promise<boolean> {
  const data = crypto.randomBytes(1024 * 1024);
  const back = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    sock.on("data", (d) => chunks.push(d));
    sock.on("end", () => resolve(Buffer.concat(chunks)));
    sock.on("error", reject);
    sock.end(data);
  });
  return (
    crypto.createHash("sha256").update(back).digest("hex") === crypto.createHash("sha256").update(data).digest("hex")
  );
}

async function forwardAndCheck(serve: Serve, key: string, options: string[]): Promise<boolean> {
  const local = await freePort();
  const child = ssh(serve, key, [...options, "-N", "-L", `${local}:127.0.0.1:${echoPort}`]);
  try {
    return await echoCheck(await connectWhenReady(local, child));
  } finally {
    child.kill();
  }
}

let user: string;
let serve: Serve;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-serve-"));
  user = keygen("user", ["-t", "ed25519"]);
  fs.writeFileSync(path.join(dir, "authorized_keys"), fs.readFileSync(`${user}.pub`));
  echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
  echoPort = (echo.address() as net.AddressInfo).port;
  serve = await startServe(["--allow", `127.0.0.1:${echoPort}`, "--allow-remote", "0"]);
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  echo?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("tunnel serve against OpenSSH's ssh", () => {
  const kexes = [
    "sntrup761x25519-sha512@openssh.com",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    // RFC 4419: ssh asks for a group sized to its cipher; tunnel serve picks from /etc/ssh/moduli.
    "diffie-hellman-group-exchange-sha256",
  ];
  it.each(kexes)("ssh -L with KexAlgorithms=%s carries data intact", async (kex) => {
    expect(await forwardAndCheck(serve, user, ["-o", `KexAlgorithms=${kex}`])).toBe(true);
  });

  const ciphers: [string, string][] = [
    ["chacha20-poly1305@openssh.com", "hmac-sha2-256"],
    ["aes128-gcm@openssh.com", "hmac-sha2-256"],
    ["aes256-gcm@openssh.com", "hmac-sha2-256"],
    ...["aes128-ctr", "aes192-ctr", "aes256-ctr"].flatMap((c) =>
      ["hmac-sha2-256", "hmac-sha2-512", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"].map(
        (m) => [c, m] as [string, string],
      ),
    ),
  ];
  it.each(ciphers)("ssh -L with Ciphers=%s MACs=%s carries data intact", async (cipher, mac) => {
    expect(await forwardAndCheck(serve, user, ["-o", `Ciphers=${cipher}`, "-o", `MACs=${mac}`])).toBe(true);
  });

  it("every host key type: ed25519 (default) and --host-key ecdsa 256/384/521 and rsa, each algorithm", async () => {
    const files = [
      keygen("hk256", ["-t", "ecdsa", "-b", "256"]),
      keygen("hk384", ["-t", "ecdsa", "-b", "384"]),
      keygen("hk521", ["-t", "ecdsa", "-b", "521"]),
      keygen("hkrsa", ["-t", "rsa", "-b", "3072"]),
    ];
    const multi = await startServe([...files.flatMap((f) => ["--host-key", f]), "--allow", `127.0.0.1:${echoPort}`]);
    for (const alg of [
      "ecdsa-sha2-nistp256",
      "ecdsa-sha2-nistp384",
      "ecdsa-sha2-nistp521",
      "rsa-sha2-512",
      "rsa-sha2-256",
    ]) {
      expect(await forwardAndCheck(multi, user, ["-o", `HostKeyAlgorithms=${alg}`])).toBe(true);
    }
    expect(await forwardAndCheck(serve, user, ["-o", "HostKeyAlgorithms=ssh-ed25519"])).toBe(true);
    multi.child.kill();
  });

  it("creates its ed25519 host key once (mode 0600) and reuses it", async () => {
    const state = path.join(dir, "state2");
    const a = await startServe(["--allow", `127.0.0.1:${echoPort}`], state);
    a.child.kill();
    const b = await startServe(["--allow", `127.0.0.1:${echoPort}`], state);
    b.child.kill();
    expect(a.stderr()).toMatch(/^Created host key /m);
    expect(b.stderr()).toMatch(/^Using host key /m);
    expect(b.fingerprints).toEqual(a.fingerprints);
    expect(fs.statSync(path.join(state, "tunnel", "ssh_host_ed25519_key")).mode & 0o777).toBe(0o600);
  });

  it("ssh -R 0: the server allocates a port, and connections to it come back through the client", async () => {
    const child = ssh(serve, user, ["-N", "-R", `0:127.0.0.1:${echoPort}`]);
    let port = 0;
    for (let i = 0; i < 200 && !port; i++) {
      port = Number(/Allocated port (\d+) for remote forward/.exec(child.err())?.[1] ?? 0);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(port).toBeGreaterThan(0);
    expect(await echoCheck(await connectWhenReady(port, child))).toBe(true);
    child.kill();
  });

  it("refuses a shell or command: this server only forwards", async () => {
    const child = ssh(serve, user, [], ["echo", "hi"]);
    const code = await new Promise((r) => child.on("exit", r));
    expect(code).not.toBe(0);
    expect(child.err()).toMatch(/administratively prohibited: this server only forwards TCP/);
    for (let i = 0; i < 40 && !/refused session channel/.test(serve.stderr()); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(serve.stderr()).toMatch(/refused session channel/);
  });

  it("refuses an unknown key", async () => {
    const other = keygen("other", ["-t", "ed25519"]);
    const child = ssh(serve, other, ["-N"]);
    const code = await new Promise((r) => child.on("exit", r));
    expect(code).toBe(255);
    expect(child.err()).toMatch(/Permission denied \(publickey\)/);
  });

  it("refuses a destination outside --allow as administratively prohibited", async () => {
    const local = await freePort();
    const other = await freePort();
    const child = ssh(serve, user, ["-N", "-L", `${local}:127.0.0.1:${other}`]);
    const sock = await connectWhenReady(local, child);
    await new Promise((r) => sock.on("end", r).on("close", r).on("error", r));
    sock.destroy();
    for (let i = 0; i < 40 && !/administratively prohibited/.test(child.err()); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(child.err()).toMatch(/administratively prohibited/);
    child.kill();
  });
});
