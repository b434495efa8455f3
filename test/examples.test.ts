/**
 * The programs in examples/ run as a user would run them: each a child process under the
 * runtime running this suite (`node --import tsx`, `bun`, `deno run -A`), importing only the
 * public API, against real OpenSSH — the harness's sshd for the client examples, OpenSSH's `ssh`
 * client for the forwarding server — with the bytes through each tunnel checked.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { makeKey, type Sshd, startSshd, type UserKey } from "@tunnel/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, RUNTIME, sendSignal } from "./harness/cli.ts";

const EXAMPLES = path.join(REPO_ROOT, "examples");
/** How long an example may take to print what the test waits for before the test gives up. */
const START_TIMEOUT_MS = 30_000;

let tmp: string;
let key: UserKey;
let sshd: Sshd;
let echo: net.Server;
let echoPort: number;
const children: ChildProcess[] = [];

interface Example {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first match of `pattern` in stdout; rejects if the example exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** Starts examples/`file` under this runtime, with the SSH agent out of the way. */
function startExample(file: string, args: string[]): Example {
  const script = path.join(EXAMPLES, file);
  const argv = RUNTIME === "deno" ? ["run", "-A", script] : RUNTIME === "bun" ? [script] : ["--import", "tsx", script];
  const env = { ...process.env };
  delete env.SSH_AUTH_SOCK;
  const child = spawn(process.execPath, [...argv, ...args], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding("utf8").on("data", (s: string) => {
    out += s;
    for (const w of waiters) w();
  });
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    err += s;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (!m) return;
          done();
          resolve(m);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${file} printed no ${pattern} in ${START_TIMEOUT_MS} ms:\n${out}\n${err}`));
        }, START_TIMEOUT_MS);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        exited.then((code) => {
          done();
          reject(new Error(`${file} exited with ${code} before printing ${pattern}:\n${out}\n${err}`));
        });
        check();
      });
    },
  };
}

/** Sends 1 MiB through host:port, half-closes, and resolves whether the echo came back intact. */
async function echoesIntact(host: string, port: number): Promise<boolean> {
  const data = crypto.randomBytes(1024 * 1024);
  const back = await new Promise<Buffer>((resolve, reject) => {
    const sock = net.connect({ host, port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    sock.on("data", (d) => chunks.push(d));
    sock.on("end", () => {
      sock.end();
      resolve(Buffer.concat(chunks));
    });
    sock.on("error", reject);
    sock.end(data);
  });
  return back.equals(data);
}

/** Runs OpenSSH's `ssh -W` through a server: `input` goes to `forward`, the reply comes back. */
function sshStdio(port: number, knownHosts: string, forward: string, input: Buffer) {
  return new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve, reject) => {
    const child = spawn(
      "ssh",
      [
        ...["-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes"],
        ...["-o", "IdentitiesOnly=yes", "-i", key.path, "-p", String(port), "-W", forward, `${sshd.user}@127.0.0.1`],
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    children.push(child);
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      err += s;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(input);
  });
}

beforeAll(async () => {
  tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tunnel-examples-"));
  key = await makeKey(tmp, "user", { type: "ed25519" });
  sshd = await startSshd({ authorizedKeys: [key.pubLine] });
  echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  echoPort = (echo.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  echo?.close();
  await sshd?.stop();
  if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
});

describe("examples/", () => {
  it("import nothing but the public API and the runtime's own modules", () => {
    const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith(".ts"));
    expect(files.sort()).toEqual(["check-host.ts", "forwarding-server.ts", "open-tunnel.ts"]);
    for (const f of files) {
      const text = fs.readFileSync(path.join(EXAMPLES, f), "utf8");
      const specifiers = [...text.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
      expect(specifiers.length, f).toBeGreaterThan(0);
      for (const s of specifiers) expect(s, f).toMatch(/^(@tunnel\/core|@tunnel\/ssh|node:[a-z_]+)$/);
    }
  });

  it(`open-tunnel.ts under ${RUNTIME}: a local port through sshd to a service behind it, every byte intact`, async () => {
    const ex = startExample("open-tunnel.ts", [
      `${sshd.user}@127.0.0.1:${sshd.port}`,
      `127.0.0.1:${echoPort}`,
      "--known-hosts",
      sshd.knownHostsFile,
      "--identity",
      key.path,
    ]);
    const [, host, port] = await ex.waitFor(/^127\.0\.0\.1:\d+ is on (127\.0\.0\.1):(\d+)$/m);
    expect(await echoesIntact(host as string, Number(port))).toBe(true);
    expect(await echoesIntact(host as string, Number(port))).toBe(true); // a second connection, same tunnel
    sendSignal(ex.child, "SIGTERM");
    expect(await ex.exited).toBe(0);
  });

  it(`check-host.ts under ${RUNTIME}: sshd's host key as known_hosts has it, and the login`, async () => {
    const ex = startExample("check-host.ts", [
      `${sshd.user}@127.0.0.1:${sshd.port}`,
      "--known-hosts",
      sshd.knownHostsFile,
      "--identity",
      key.path,
    ]);
    expect(await ex.exited, ex.stderr()).toBe(0);
    const [, algorithm, fingerprint] = ex.stdout().match(/^host key: (\S+) (SHA256:\S+), as known_hosts says$/m) ?? [];
    expect(fingerprint).toBe(sshd.hostKey(algorithm as string).fingerprint);
    expect(ex.stdout()).toContain(`127.0.0.1:${sshd.port} runs ${sshd.banner}`);
    expect(ex.stdout()).toMatch(new RegExp(`^logged in as ${sshd.user} by publickey$`, "m"));
  });

  it(`check-host.ts under ${RUNTIME}: a host known_hosts does not list is refused, exit status 1`, async () => {
    const empty = path.join(tmp, "known_hosts_empty");
    await fs.promises.writeFile(empty, "");
    const ex = startExample("check-host.ts", [
      `${sshd.user}@127.0.0.1:${sshd.port}`,
      "--known-hosts",
      empty,
      "--identity",
      key.path,
    ]);
    expect(await ex.exited).toBe(1);
    expect(ex.stdout()).toBe("");
    expect(ex.stderr()).toMatch(new RegExp(`^${sshd.user}@127\\.0\\.0\\.1:${sshd.port}: .*known_hosts`, "m"));
  });

  it(`forwarding-server.ts under ${RUNTIME}: OpenSSH's ssh -W reaches an allowed service and no other`, async () => {
    const authorized = path.join(tmp, "authorized_keys");
    await fs.promises.writeFile(authorized, `${key.pubLine}\n`);
    const ex = startExample("forwarding-server.ts", [authorized, `127.0.0.1:${echoPort}`, "0"]);
    const [, port] = await ex.waitFor(/^listening on 127\.0\.0\.1:(\d+)$/m);
    const [knownHostsLine] = await ex.waitFor(/^\[127\.0\.0\.1\]:\d+ ssh-ed25519 \S+$/m);
    expect(knownHostsLine).toContain(`[127.0.0.1]:${port} `);
    const knownHosts = path.join(tmp, "known_hosts_example_server");
    await fs.promises.writeFile(knownHosts, `${knownHostsLine}\n`);

    const data = crypto.randomBytes(256 * 1024);
    const allowed = await sshStdio(Number(port), knownHosts, `127.0.0.1:${echoPort}`, data);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout.equals(data)).toBe(true);

    const refused = await sshStdio(Number(port), knownHosts, `127.0.0.1:${sshd.port}`, Buffer.from("x"));
    expect(refused.code).toBe(255);
    expect(refused.stderr).toMatch(/administratively prohibited/);

    sendSignal(ex.child, "SIGTERM");
    expect(await ex.exited).toBe(0);
  });
});
