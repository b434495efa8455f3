/**
 * Stopping, through the real CLI (issue 13, "What must hold" 1): the first Ctrl+C or SIGTERM
 * stops accepting, lets open connections finish for the grace period (`--grace`, default 3 s),
 * closes what is left, sends DISCONNECT (RFC 4253 §11.1) and exits 0 within grace + 1 s however
 * many connections are idle or stuck; a second Ctrl+C does the same at once; the count of open
 * connections it reports is exact. `tunnel open` against a real OpenSSH sshd; `tunnel serve`
 * against OpenSSH's `ssh -N -L`.
 */
import { type ChildProcess, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, makeKey, type Sshd, startSshd, type UserKey } from "@tunnel/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type CliProcess,
  connectLocal,
  type Exit,
  endsWithin,
  killAllCli,
  type OpenProcess,
  type Recorded,
  STACK_TRACE,
  sleep,
  startOpen,
  startPump,
  startTarget,
  steady,
  type TargetServer,
} from "./harness/field.ts";
import { knownHostsAt, type SshClient, sshForwarding, startServeCli } from "./harness/serve-cli.ts";

let dir: string;
let key: UserKey;
let sshd: Sshd;
const targets: TargetServer[] = [];
const sockets: Recorded[] = [];
const sshClients: ChildProcess[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-field-stop-"));
  key = await makeKey(dir, "id", { type: "ed25519" });
  sshd = await startSshd({ hostKeys: ["ed25519"], authorizedKeys: [key.pubLine] });
});

afterEach(async () => {
  await killAllCli();
  for (const c of sshClients.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  for (const s of sockets.splice(0)) s.socket.destroy();
  for (const t of targets.splice(0)) t.close();
});

afterAll(async () => {
  await sshd?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function target(handler?: (c: Recorded) => void): Promise<TargetServer> {
  const t = await startTarget(handler);
  targets.push(t);
  return t;
}

async function local(port: number): Promise<Recorded> {
  const r = await connectLocal(port);
  sockets.push(r);
  return r;
}

async function open(targetPort: number, extra: string[] = []): Promise<OpenProcess> {
  return startOpen([
    `127.0.0.1:${targetPort}`,
    "--port",
    String(await freePort()),
    "--via",
    `${sshd.user}@127.0.0.1:${sshd.port}`,
    "--identity",
    key.path,
    "--known-hosts",
    sshd.knownHostsFile,
    ...extra,
  ]);
}

/** The exit, `after` ms from `t0`; fails the test (after killing) if it is still running at `t0 + limitMs + 5 s`. */
async function exitAfter(p: CliProcess, t0: number, limitMs: number): Promise<Exit & { after: number }> {
  const e = await Promise.race([p.exited, sleep(t0 + limitMs + 5000 - Date.now()).then(() => undefined)]);
  if (!e) {
    await p.kill();
    throw new Error(
      `still running ${limitMs + 5000} ms after the signal (limit ${limitMs} ms); stderr:\n${p.stderr()}`,
    );
  }
  return { ...e, after: e.at - t0 };
}

/** Refused, or closed within 1 s without reaching the target: not accepted. */
async function notAccepted(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
    s.on("close", () => resolve("closed"));
    setTimeout(() => {
      s.destroy();
      resolve("still open after 1 s");
    }, 1000);
  });
}

/** The first signal's line: `Closing: waiting [up to N s] for N open connection(s) …`. */
const CLOSING = /^Closing\b.*\bfor (\d+) open connection\(s\)/;
const CLOSING_1 = /^Closing\b.*\bfor 1 open connection\(s\)/m;

describe("tunnel open: stopping", () => {
  it("first SIGINT with an idle client held open: stops accepting, closes it, DISCONNECT, exit 0 within grace + 1 s", async () => {
    const t = await target();
    const mark = sshd.logs().length;
    const tunnel = await open(t.port, ["--grace=1"]);
    const idle = await local(tunnel.ports[0]!);
    await t.waitForConns(1);
    await sleep(200);
    const t0 = tunnel.signal("SIGINT");
    await sleep(200);
    expect(await notAccepted(tunnel.ports[0]!)).not.toBe("still open after 1 s");
    const exit = await exitAfter(tunnel, t0, 2000);
    expect(exit.code).toBe(0);
    expect(exit.after).toBeLessThanOrEqual(2000);
    await endsWithin(idle, 1000, "the idle client");
    expect(t.conns).toHaveLength(1); // the probe after SIGINT was not carried
    expect(tunnel.stderrLines.filter((l) => CLOSING.test(l.text)).map((l) => l.text)).toHaveLength(1);
    expect(tunnel.stderr()).toMatch(CLOSING_1);
    expect(tunnel.stderr()).not.toMatch(STACK_TRACE);
    await sshd.settle();
    expect(sshd.logs().slice(mark)).toMatch(/Received disconnect from 127\.0\.0\.1 port \d+:\d+:/);
  });

  it("first SIGINT with a stuck client (channel full, the target never reads): exit 0 within grace + 1 s", async () => {
    const t = await target((c) => c.socket.pause());
    const tunnel = await open(t.port, ["--grace=1"]);
    const stuck = await local(tunnel.ports[0]!);
    const writing = startPump(stuck.socket, "stuck", 256 * 1024 * 1024, false);
    await t.waitForConns(1);
    // until the client's writes back up: the window and every buffer on the way are full
    const accepted = await steady(writing.written, 500, 20_000);
    expect(accepted).toBeGreaterThan(2 * 1024 * 1024); // past the channel window: stuck in the tunnel
    const t0 = tunnel.signal("SIGINT");
    const exit = await exitAfter(tunnel, t0, 2000);
    expect(exit.code).toBe(0);
    expect(exit.after).toBeLessThanOrEqual(2000);
    await endsWithin(stuck, 1000, "the stuck client");
    expect(tunnel.stderr()).toMatch(CLOSING_1);
    expect(tunnel.stderr()).not.toMatch(STACK_TRACE);
  });

  it("second SIGINT closes at once, without waiting out the grace period (--grace 30)", async () => {
    const t = await target();
    const tunnel = await open(t.port, ["--grace=30"]);
    const idle = await local(tunnel.ports[0]!);
    await t.waitForConns(1);
    tunnel.signal("SIGINT");
    await tunnel.waitStderr(CLOSING, 5000);
    await sleep(300);
    expect(tunnel.exit()).toBeUndefined(); // the first one waits: the client is still open
    const t1 = tunnel.signal("SIGINT");
    const exit = await exitAfter(tunnel, t1, 1500);
    expect(exit.code).toBe(0);
    expect(exit.after).toBeLessThanOrEqual(1500);
    await endsWithin(idle, 1000, "the idle client");
    expect(tunnel.stderr()).not.toMatch(STACK_TRACE);
  });

  it("SIGTERM is the first Ctrl+C: an idle client is closed and it exits 0 within grace + 1 s", async () => {
    const t = await target();
    const tunnel = await open(t.port, ["--grace=1"]);
    const idle = await local(tunnel.ports[0]!);
    await t.waitForConns(1);
    await sleep(200);
    const t0 = tunnel.signal("SIGTERM");
    const exit = await exitAfter(tunnel, t0, 2000);
    expect(exit.code).toBe(0);
    expect(exit.after).toBeLessThanOrEqual(2000);
    await endsWithin(idle, 1000, "the idle client");
    expect(tunnel.stderr()).toMatch(CLOSING_1);
    expect(tunnel.stderr()).not.toMatch(STACK_TRACE);
  });

  it("the open-connection count is exact: port probes that connected and closed are not counted", async () => {
    const t = await target((c) => c.socket.on("end", () => c.socket.end()));
    const tunnel = await open(t.port, ["--grace=1"]);
    const port = tunnel.ports[0]!;
    // a probe that closes before its channel can be open
    (await local(port)).socket.destroy();
    // a probe that closes once it reached the target, both ways
    const probe = await local(port);
    await t.waitForConns(1);
    probe.socket.end();
    await endsWithin(probe, 5000, "the second probe");
    // and one held open (counted before it connects: it may reach the target at once)
    const before = t.conns.length;
    const held = await local(port);
    await t.waitForConns(before + 1);
    await sleep(500);
    tunnel.signal("SIGINT");
    const line = await tunnel.waitStderr(CLOSING, 5000);
    expect(line.text).toMatch(CLOSING_1);
    await exitAfter(tunnel, Date.now(), 2000);
    await endsWithin(held, 1000, "the held client");
  });

  it("with no connection open, the first SIGINT exits 0 at once (--grace 30)", async () => {
    const t = await target();
    const tunnel = await open(t.port, ["--grace=30"]);
    const t0 = tunnel.signal("SIGINT");
    const exit = await exitAfter(tunnel, t0, 1500);
    expect(exit.code).toBe(0);
    expect(exit.after).toBeLessThanOrEqual(1500);
  });
});

// ---------------------------------------------------------------- tunnel serve

interface Serve extends CliProcess {
  port: number;
  knownHosts: string;
}

async function startServe(allow: number[]): Promise<Serve> {
  const hostKey = path.join(dir, "serve_host_key");
  if (!fs.existsSync(hostKey)) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  const authorized = path.join(dir, "serve_authorized_keys");
  fs.writeFileSync(authorized, `${key.pubLine}\n`);
  const port = await freePort();
  const p = await startServeCli([
    "--listen",
    `127.0.0.1:${port}`,
    "--host-key",
    hostKey,
    "--authorized-keys",
    authorized,
    "--allow",
    allow.map((a) => `127.0.0.1:${a}`).join(","),
  ]);
  const pub = fs.readFileSync(`${hostKey}.pub`, "utf8");
  return Object.assign(p, { port, knownHosts: knownHostsAt(dir, `serve_known_hosts_${port}`, port, [pub]) });
}

/** OpenSSH's `ssh -N` with `-L` forwards (`local:127.0.0.1:target`) to `tunnel serve`. */
function sshForward(serve: Serve, forwards: [number, number][]): SshClient {
  const forwardArgs = forwards.flatMap(([l, t]) => ["-L", `${l}:127.0.0.1:${t}`]);
  const ssh = sshForwarding(serve.knownHosts, key.path, serve.port, forwardArgs);
  sshClients.push(ssh.child);
  return ssh;
}

/** Connects to a port `ssh -L` is about to listen on, retrying until it does. */
async function localWhenReady(port: number, ssh: SshClient): Promise<Recorded> {
  for (let i = 0; i < 200; i++) {
    if (ssh.child.exitCode !== null) throw new Error(`ssh exited with ${ssh.child.exitCode}: ${ssh.stderr()}`);
    try {
      return await local(port);
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`ssh -L never listened on ${port}: ${ssh.stderr()}`);
}

/** A target that answers "late reply" and FIN 1.5 s after a connection arrives. */
function lateReplyTarget(): Promise<TargetServer> {
  return target((c) => {
    setTimeout(() => c.socket.end("late reply"), 1500);
  });
}

const SERVE_GRACE_MS = 3000;

describe("tunnel serve: stopping", () => {
  it("first SIGINT: no new SSH connections, a channel in progress finishes, then clients get DISCONNECT, exit 0 within grace + 1 s", async () => {
    const late = await lateReplyTarget();
    const idle = await target();
    const serve = await startServe([late.port, idle.port]);
    const [lLate, lIdle] = [await freePort(), await freePort()];
    const ssh = sshForward(serve, [
      [lLate, late.port],
      [lIdle, idle.port],
    ]);
    const idleConn = await localWhenReady(lIdle, ssh);
    await idle.waitForConns(1);
    const lateConn = await localWhenReady(lLate, ssh);
    await late.waitForConns(1);
    const t0 = serve.signal("SIGINT");
    await sleep(300);
    expect(await notAccepted(serve.port)).not.toBe("still open after 1 s");
    // the channel in progress gets its reply and a clean end, within the grace period
    const lateEnd = await endsWithin(lateConn, SERVE_GRACE_MS, "the channel in progress");
    expect(lateEnd).toMatchObject({ fin: true, error: undefined, bytes: "late reply".length });
    const exit = await exitAfter(serve, t0, SERVE_GRACE_MS + 1000);
    expect(exit.code).toBe(0);
    expect(exit.after).toBeLessThanOrEqual(SERVE_GRACE_MS + 1000);
    await endsWithin(idleConn, 2000, "the idle channel's local end");
    expect(await Promise.race([ssh.exited, sleep(2000).then(() => "still running")])).not.toBe("still running");
    expect(ssh.stderr()).toMatch(/Received disconnect from 127\.0\.0\.1 port \d+/);
    expect(serve.stderr()).not.toMatch(STACK_TRACE);
  });

  it("second SIGINT disconnects at once, without waiting out the grace period", async () => {
    const idle = await target();
    const serve = await startServe([idle.port]);
    const l = await freePort();
    const ssh = sshForward(serve, [[l, idle.port]]);
    const conn = await localWhenReady(l, ssh);
    await idle.waitForConns(1);
    serve.signal("SIGINT");
    await sleep(300);
    expect(serve.exit()).toBeUndefined(); // the first one waits for the open channel
    const t1 = serve.signal("SIGINT");
    const exit = await exitAfter(serve, t1, 1500);
    expect(exit.code).toBe(0);
    expect(exit.after).toBeLessThanOrEqual(1500);
    await endsWithin(conn, 2000, "the channel's local end");
    await Promise.race([ssh.exited, sleep(2000)]);
    expect(ssh.stderr()).toMatch(/Received disconnect from 127\.0\.0\.1 port \d+/);
  });

  it("SIGTERM drains like the first SIGINT: the channel in progress finishes, exit 0", async () => {
    const late = await lateReplyTarget();
    const serve = await startServe([late.port]);
    const l = await freePort();
    const ssh = sshForward(serve, [[l, late.port]]);
    const conn = await localWhenReady(l, ssh);
    await late.waitForConns(1);
    const t0 = serve.signal("SIGTERM");
    const end = await endsWithin(conn, SERVE_GRACE_MS, "the channel in progress");
    expect(end).toMatchObject({ fin: true, error: undefined, bytes: "late reply".length });
    const exit = await exitAfter(serve, t0, SERVE_GRACE_MS + 1000);
    expect(exit.code).toBe(0);
    expect(serve.stderr()).not.toMatch(STACK_TRACE);
  });

  it("an SSH client with no channel open is sent DISCONNECT and serve exits 0 within grace + 1 s", async () => {
    const idle = await target();
    const serve = await startServe([idle.port]);
    const l = await freePort();
    const ssh = sshForward(serve, [[l, idle.port]]);
    (await localWhenReady(l, ssh)).socket.destroy(); // logged in (the -L listens), no channel left
    await sleep(300);
    const t0 = serve.signal("SIGINT");
    const exit = await exitAfter(serve, t0, SERVE_GRACE_MS + 1000);
    expect(exit.code).toBe(0);
    expect(exit.after).toBeLessThanOrEqual(SERVE_GRACE_MS + 1000);
    await Promise.race([ssh.exited, sleep(2000)]);
    expect(ssh.stderr()).toMatch(/Received disconnect from 127\.0\.0\.1 port \d+/);
  });
});
