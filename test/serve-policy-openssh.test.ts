/**
 * `tunnel serve`'s policy and limits through the real CLI (issue 12, items 4-6), against
 * OpenSSH's `ssh` where a client is needed: `ssh -R` refused without `--allow-remote` and
 * allowed with it; authorized_keys `restrict` and `restrict,port-forwarding,permitopen=…` as
 * sshd(8) means them; an option we cannot honour named at start-up; bad flags refused; and the
 * server's memory under 1,500 connections each holding a partial packet before logging in
 * (256 KiB, past the pre-auth bound; 30,000 bytes, under it).
 */
import { type ChildProcess, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "@tunnel/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliProcess, killAllCli, sleep, spawnCli, until } from "./harness/field.ts";
import { knownHostsAt, type SshClient, sshForwarding, startServeCli } from "./harness/serve-cli.ts";

let dir: string;
let hostKey: string;
let userKey: string;
let userPub: string;
let echo: net.Server;
let echoPort: number;
const sshClients: ChildProcess[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-serve-policy-"));
  hostKey = path.join(dir, "host");
  userKey = path.join(dir, "user");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", userKey]);
  userPub = fs.readFileSync(`${userKey}.pub`, "utf8").trim();
  echo = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on("error", () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
  echoPort = (echo.address() as net.AddressInfo).port;
});

afterEach(async () => {
  for (const c of sshClients.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  await killAllCli();
});

afterAll(() => {
  echo?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Serve extends CliProcess {
  port: number;
  knownHosts: string;
}

/** `tunnel serve` with `authorized` as its authorized_keys text. */
async function startServe(authorized: string, extra: string[] = []): Promise<Serve> {
  const port = await freePort();
  const ak = path.join(dir, `authorized_keys_${port}`);
  fs.writeFileSync(ak, authorized);
  const p = await startServeCli([
    "--listen",
    `127.0.0.1:${port}`,
    "--host-key",
    hostKey,
    "--authorized-keys",
    ak,
    "--allow",
    `127.0.0.1:${echoPort}`,
    ...extra,
  ]);
  const pub = fs.readFileSync(`${hostKey}.pub`, "utf8");
  return Object.assign(p, { port, knownHosts: knownHostsAt(dir, `known_hosts_${port}`, port, [pub]) });
}

function ssh(serve: Serve, args: string[]): SshClient {
  const s = sshForwarding(serve.knownHosts, userKey, serve.port, args);
  sshClients.push(s.child);
  return s;
}

/** Connects to `port` (retrying while `ssh -L` starts), sends "ping", half-closes; what came back, or how it ended. */
async function pingThrough(port: number, s: SshClient): Promise<string> {
  for (let i = 0; i < 200; i++) {
    if (s.child.exitCode !== null) return `ssh exited ${s.child.exitCode}`;
    const got = await new Promise<string | undefined>((resolve) => {
      const sock = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      let data = "";
      let connected = false;
      sock.on("connect", () => {
        connected = true;
        sock.end("ping");
      });
      sock.on("data", (d) => {
        data += d;
      });
      sock.on("error", () => {});
      sock.on("close", () => resolve(connected ? data : undefined));
    });
    if (got !== undefined) return got;
    await sleep(50);
  }
  return "never listened";
}

describe("tunnel serve: remote forwarding needs --allow-remote (OpenSSH ssh -R)", () => {
  it("ssh -R is refused without --allow-remote; the server says why", async () => {
    const serve = await startServe(`${userPub}\n`);
    const client = ssh(serve, ["-R", `0:127.0.0.1:${echoPort}`]);
    expect(await client.exited).toBe(255);
    expect(client.stderr()).toMatch(/remote port forwarding failed/i);
    await until(() => /refused tcpip-forward/.test(serve.stderr()), 5000, "the refusal in the log");
    expect(serve.stderr()).toMatch(/refused tcpip-forward localhost:0: remote forwarding is off/);
  });

  it("ssh -R 0 works with --allow-remote 0, and a privileged port is still refused", async () => {
    const serve = await startServe(`${userPub}\n`, ["--allow-remote", "0"]);
    const client = ssh(serve, ["-R", `0:127.0.0.1:${echoPort}`]);
    let port = 0;
    await until(
      () => {
        port = Number(/Allocated port (\d+) for remote forward/.exec(client.stderr())?.[1] ?? 0);
        return port > 0;
      },
      10_000,
      "the allocated port",
    );
    expect(await pingThrough(port, client)).toBe("ping");
    const privileged = ssh(serve, ["-R", `80:127.0.0.1:${echoPort}`]);
    expect(await privileged.exited).toBe(255);
    expect(serve.stderr()).toMatch(/refused tcpip-forward localhost:80: port 80 is not granted \(--allow-remote 0\)/);
  });
});

describe("tunnel serve: authorized_keys options with OpenSSH's meaning", () => {
  it("a restrict key logs in but may not forward", async () => {
    const serve = await startServe(`restrict ${userPub}\n`);
    const local = await freePort();
    const client = ssh(serve, ["-L", `${local}:127.0.0.1:${echoPort}`]);
    expect(await pingThrough(local, client)).toBe("");
    await until(() => /administratively prohibited/.test(client.stderr()), 5000, "ssh's refusal message");
    expect(serve.stderr()).toMatch(/logged in as \S+ by publickey \(.*:1\)/);
    expect(serve.stderr()).toMatch(/refused direct-tcpip to 127\.0\.0\.1:\d+: port forwarding is off for this key/);
  });

  it("restrict,port-forwarding,permitopen=… forwards to the permitted destination only", async () => {
    const other = await freePort();
    const serve = await startServe(`restrict,port-forwarding,permitopen="127.0.0.1:${echoPort}" ${userPub}\n`, [
      "--allow",
      "127.0.0.1:*",
    ]);
    const [l1, l2] = [await freePort(), await freePort()];
    const client = ssh(serve, ["-L", `${l1}:127.0.0.1:${echoPort}`, "-L", `${l2}:127.0.0.1:${other}`]);
    expect(await pingThrough(l1, client)).toBe("ping");
    expect(await pingThrough(l2, client)).toBe("");
    await until(() => /not permitted by permitopen/.test(serve.stderr()), 5000, "the refusal in the log");
  });

  it("an option we cannot honour makes the key unusable, named with file:line at start-up", async () => {
    const serve = await startServe(`# keys\ncommand="/bin/sh" ${userPub}\n`);
    expect(serve.stderr()).toMatch(/authorized_keys_\d+:2: key skipped: option "command" is not supported/);
    expect(serve.stderr()).toMatch(/WARNING: no usable keys/);
    const client = ssh(serve, []);
    expect(await client.exited).toBe(255);
    expect(client.stderr()).toMatch(/Permission denied \(publickey\)/);
  });

  it("bad flags are refused before anything starts, naming the flag, with exit status 2", async () => {
    for (const [flag, value] of [
      ["--allow-remote", "80-70"],
      ["--max-startups", "10:0:100"],
      ["--max-channels", "0"],
      ["--login-grace", "soon"],
      ["--grace", "-1"],
      ["--allow", "db"],
    ] as const) {
      const p = spawnCli(["serve", "--listen", "127.0.0.1:1", "--host-key", hostKey, flag, value as string]);
      const exit = await p.exited;
      expect(exit.code, `${flag} ${value}`).toBe(2); // the command line was wrong
      expect(p.stderr()).toContain(flag);
      expect(p.stdoutLines).toEqual([]);
    }
  });
});

/** Resident memory of a process, from /proc (Linux). */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * 1,500 connections from this process, 100 at a time, each sending a version line and the
 * first `bytes` of one plaintext packet that says it is 256 KiB long, then holding on. Resolves
 * once every one is written or closed, with the sockets and how many are still open.
 */
async function probe(port: number, bytes: number): Promise<{ sockets: net.Socket[]; open: () => number }> {
  const packetLength = 256 * 1024 - 4; // the most a packet may be
  const packet = Buffer.alloc(4 + bytes, 0x41);
  packet.writeUInt32BE(packetLength, 0);
  const hello = Buffer.from("SSH-2.0-probe\r\n");
  const sockets: net.Socket[] = [];
  const live = new Set<net.Socket>();
  for (let batch = 0; batch < 15; batch++) {
    await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<void>((resolve) => {
            const s = net.connect(port, "127.0.0.1");
            sockets.push(s);
            s.on("error", () => {});
            s.on("data", () => {}); // the server's version and KEXINIT
            s.on("close", () => {
              live.delete(s);
              resolve();
            });
            s.on("connect", () => {
              live.add(s);
              s.write(hello);
              s.write(packet, () => resolve());
            });
          }),
      ),
    );
  }
  return { sockets, open: () => live.size };
}

/** Peak and settled growth of the server's resident memory while `during` runs, over `idle`. */
async function measure(pid: number, idle: number, during: () => Promise<void>) {
  let peak = idle;
  const sample = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, 50);
  try {
    await during();
    // What the held ones sent has reached the server; dropped and refused ones are closed.
    await sleep(2000);
  } finally {
    clearInterval(sample);
  }
  const settled = rssBytes(pid);
  peak = Math.max(peak, settled);
  return { peak: peak - idle, settled: settled - idle };
}

const MiB = 1024 * 1024;

describe("tunnel serve: connections not yet logged in are bounded (MaxStartups, pre-auth packets, login grace)", () => {
  it("1,500 connections each holding a partial 256 KiB packet grow the server by less than 64 MiB", async () => {
    const serve = await startServe(`${userPub}\n`, ["--login-grace", "4"]);
    const pid = serve.child.pid as number;
    // Idle: after one login, which sets up what every later connection shares (crypto, code).
    const warm = await freePort();
    const first = ssh(serve, ["-L", `${warm}:127.0.0.1:${echoPort}`]);
    expect(await pingThrough(warm, first)).toBe("ping");
    first.child.kill();
    await first.exited;
    await sleep(1000);
    const idle = rssBytes(pid);
    let p: Awaited<ReturnType<typeof probe>> | undefined;
    const grew = await measure(pid, idle, async () => {
      p = await probe(serve.port, 256 * 1024 - 140);
    });
    const accepted = (serve.stderr().match(/\] connection from /g) ?? []).length - 1;
    for (const s of p?.sockets ?? []) s.destroy();
    console.log(
      `tunnel serve under the 256 KiB probe: idle ${(idle / MiB).toFixed(1)} MiB, peak +${(grew.peak / MiB).toFixed(1)} MiB, settled +${(grew.settled / MiB).toFixed(1)} MiB; ${accepted} of 1,500 taken`,
    );
    expect(grew.peak).toBeLessThan(64 * MiB);
    // At most MaxStartups' full (100) were taken; each was refused as its packet passed the bound.
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(100);
    expect(serve.stderr()).toMatch(
      /closed: the client sent more than 35000 bytes of one packet \(\d+\) before logging in/,
    );
    expect(serve.stderr()).toMatch(/dropped \d+ connection\(s\): \d+ not yet authenticated \(max-startups 10:30:100\)/);
    // Their slots come back when their login grace (4 s here) would have ended; then logging in works.
    await sleep(4500);
    const local = await freePort();
    const client = ssh(serve, ["-L", `${local}:127.0.0.1:${echoPort}`]);
    expect(await pingThrough(local, client)).toBe("ping");
  });

  it("1,500 connections each holding a partial packet under the bound: at most 100 held, under 64 MiB", async () => {
    const serve = await startServe(`${userPub}\n`);
    const pid = serve.child.pid as number;
    const warm = await freePort();
    const first = ssh(serve, ["-L", `${warm}:127.0.0.1:${echoPort}`]);
    expect(await pingThrough(warm, first)).toBe("ping");
    first.child.kill();
    await first.exited;
    await sleep(1000);
    const idle = rssBytes(pid);
    let p: Awaited<ReturnType<typeof probe>> | undefined;
    const grew = await measure(pid, idle, async () => {
      p = await probe(serve.port, 30_000);
    });
    const held = p?.open() ?? 0;
    for (const s of p?.sockets ?? []) s.destroy();
    console.log(
      `tunnel serve under the 30,000-byte probe: idle ${(idle / MiB).toFixed(1)} MiB, peak +${(grew.peak / MiB).toFixed(1)} MiB, settled +${(grew.settled / MiB).toFixed(1)} MiB; ${held} held`,
    );
    expect(grew.peak).toBeLessThan(64 * MiB);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(100);
    // They went away: their slots are back at once, and logging in works.
    await sleep(500);
    const local = await freePort();
    const client = ssh(serve, ["-L", `${local}:127.0.0.1:${echoPort}`]);
    expect(await pingThrough(local, client)).toBe("ping");
  });
});
