/**
 * `tunnel open` end to end: the real CLI process, a real OpenSSH sshd as the bastion, a real
 * PostgreSQL and TCP targets of our own. (Issue: channels, direct-tcpip and tunnel open.)
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, makeUserKeys, type Sshd, startSshd, type UserKey, type UserKeyName } from "@tunnel/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sendSignal } from "./harness/cli.ts";
import { type Postgres, psql, startPostgres } from "./harness/pg.ts";
import { runTunnelExpectingFailure, startTunnel, type TunnelProcess } from "./harness/tunnel-open.ts";

let sshd: Sshd;
let pg: Postgres;
let keys: Record<UserKeyName, UserKey>;
let dir: string;
const running: TunnelProcess[] = [];
const servers: net.Server[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-fwd-"));
  keys = await makeUserKeys(dir);
  sshd = await startSshd({ authorizedKeys: [keys.ed25519.pubLine] });
  pg = await startPostgres();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.stop("SIGKILL")));
  for (const s of servers.splice(0)) s.close();
});

afterAll(async () => {
  await sshd?.stop();
  pg?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function base(): string[] {
  return [
    "--via",
    `${sshd.user}@127.0.0.1:${sshd.port}`,
    "--identity",
    keys.ed25519.path,
    "--known-hosts",
    sshd.knownHostsFile,
  ];
}

async function open(args: string[], env: Record<string, string> = {}, lines = 1): Promise<TunnelProcess> {
  const t = await startTunnel([...args, ...base()], env, lines);
  running.push(t);
  return t;
}

function listen(handler: (s: net.Socket) => void): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer({ allowHalfOpen: true }, handler);
    servers.push(srv);
    srv.listen(0, "127.0.0.1", () => resolve((srv.address() as net.AddressInfo).port));
  });
}

const portOf = (line: string) => Number(line.slice(line.lastIndexOf(":") + 1));

describe("tunnel open through OpenSSH sshd", () => {
  it("carries psql to a real PostgreSQL, printing the address and the rewritten URL with the password masked", async () => {
    const port = await freePort();
    const url = `postgres://${pg.user}:${pg.password}@127.0.0.1:${pg.port}/postgres?sslmode=disable`;
    const t = await open(["DATABASE_URL", "--port", String(port)], { DATABASE_URL: url });
    expect(t.lines).toEqual([`127.0.0.1:${port}`]);
    const err = t.stderr();
    expect(err).toContain(`Building tunnel to 127.0.0.1:${pg.port} via ${sshd.user}@127.0.0.1:${sshd.port}`);
    expect(err).toContain(`You can access your service on 127.0.0.1:${port}`);
    expect(err).toContain(`postgres://${pg.user}:****@127.0.0.1:${port}/postgres?sslmode=disable`);
    expect(err).not.toContain(pg.password);
    const local = `postgres://${pg.user}:${pg.password}@127.0.0.1:${port}/postgres?sslmode=disable`;
    expect(psql(local, "select 6 * 7")).toBe("42");
    expect(psql(local, "select count(*) from generate_series(1, 100000)")).toBe("100000");
  });

  it("--json prints one object per target with the full rewritten URL", async () => {
    const port = await freePort();
    const url = `postgresql://u:p%40ss@127.0.0.1:${pg.port}/db?x=1`;
    const t = await open(["DATABASE_URL", "--port", String(port), "--json"], { DATABASE_URL: url });
    expect(JSON.parse(t.lines[0] as string)).toEqual({
      target: "DATABASE_URL",
      remote: `127.0.0.1:${pg.port}`,
      local: `127.0.0.1:${port}`,
      url: `postgresql://u:p%40ss@127.0.0.1:${port}/db?x=1`,
    });
  });

  it("integrity: 32 concurrent connections, 256 MiB in all both ways at once, SHA-256 equal at both ends", async () => {
    const perConn = 4 * 1024 * 1024; // each way
    const received = new Map<number, string>();
    // The target hashes what it receives and sends back its own random stream, announcing its hash first.
    const target = await listen((s) => {
      const h = crypto.createHash("sha256");
      const out = crypto.randomBytes(perConn);
      s.write(crypto.createHash("sha256").update(out).digest());
      s.write(out);
      s.on("data", (d) => h.update(d));
      s.on("end", () => {
        received.set(s.remotePort ?? 0, h.digest("hex"));
        s.end();
      });
    });
    const t = await open([`127.0.0.1:${target}`, "--port", String(await freePort())]);
    const port = portOf(t.lines[0] as string);
    const one = () =>
      new Promise<{ sentHash: string; ok: boolean }>((resolve, reject) => {
        const s = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
        const data = crypto.randomBytes(perConn);
        const sentHash = crypto.createHash("sha256").update(data).digest("hex");
        const chunks: Buffer[] = [];
        s.on("data", (d) => chunks.push(d));
        s.on("end", () => {
          const all = Buffer.concat(chunks);
          const announced = all.subarray(0, 32).toString("hex");
          const got = crypto.createHash("sha256").update(all.subarray(32)).digest("hex");
          resolve({ sentHash, ok: announced === got && all.length === perConn + 32 });
        });
        s.on("error", reject);
        s.on("connect", () => s.end(data));
      });
    const results = await Promise.all(Array.from({ length: 32 }, one));
    expect(results.every((r) => r.ok)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect([...received.values()].sort()).toEqual(results.map((r) => r.sentHash).sort());
  });

  it("half-close: a client that sends, shuts down its write side, still receives the whole reply", async () => {
    const target = await listen((s) => {
      const h = crypto.createHash("sha256");
      let n = 0;
      s.on("data", (d) => {
        h.update(d);
        n += d.length;
      });
      // Reply only after the client's EOF: 3 MiB derived from what was received.
      s.on("end", () => {
        const digest = h.digest();
        for (let i = 0; i < 96; i++) s.write(Buffer.alloc(32 * 1024, digest[i % 32]));
        s.end(`done ${n}`);
      });
    });
    const t = await open([`127.0.0.1:${target}`, "--port", String(await freePort())]);
    const port = portOf(t.lines[0] as string);
    const payload = crypto.randomBytes(1024 * 1024);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      const chunks: Buffer[] = [];
      s.on("data", (d) => chunks.push(d));
      s.on("end", () => resolve(Buffer.concat(chunks)));
      s.on("error", reject);
      s.on("connect", () => s.end(payload));
    });
    expect(reply.length).toBe(96 * 32 * 1024 + `done ${payload.length}`.length);
    expect(reply.subarray(reply.length - 12).toString()).toBe(`done ${payload.length}`);
  });

  it("a slow consumer keeps the tunnel's memory bounded while hundreds of MB wait", async () => {
    const total = 400 * 1024 * 1024;
    const chunk = crypto.randomBytes(256 * 1024);
    const target = await listen((s) => {
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!s.write(chunk)) {
            s.once("drain", pump);
            return;
          }
        }
        s.end();
      };
      pump();
    });
    const t = await open([`127.0.0.1:${target}`, "--port", String(await freePort())]);
    const port = portOf(t.lines[0] as string);
    const rss = () => {
      const status = fs.readFileSync(`/proc/${t.child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    };
    const base = rss();
    let got = 0;
    let peak = 0;
    let pausedPeak = 0;
    await new Promise<void>((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1" });
      s.on("error", reject);
      s.on("connect", () => {
        s.pause(); // read nothing for a while: the target has hundreds of MB to push
        const sample = setInterval(() => {
          peak = Math.max(peak, rss());
        }, 100);
        setTimeout(() => {
          pausedPeak = peak;
          s.on("data", (d) => {
            got += d.length;
          });
          s.on("end", () => {
            clearInterval(sample);
            resolve();
          });
          s.resume();
        }, 3000);
      });
    });
    expect(got).toBe(total);
    console.log(
      `slow consumer: rss base ${base >> 20} MiB, +${(pausedPeak - base) >> 20} MiB while paused, +${(peak - base) >> 20} MiB at peak`,
    );
    // While the consumer reads nothing, what waits in the tunnel is bounded by the channel
    // window (2 MiB each way) plus socket buffers, not by the 400 MiB the target pushes.
    expect(pausedPeak - base).toBeLessThan(32 * 1024 * 1024);
    // Draining at full speed adds the garbage of packets already sent, which V8 collects in
    // its own time (Node 24 later than Node 20: about +90 MiB seen against +40); far from 400 MiB.
    expect(peak - base).toBeLessThan(160 * 1024 * 1024);
  });

  it("a refused target closes that local connection with a one-line message; the tunnel stays up", async () => {
    const dead = await freePort();
    const echo = await listen((s) => s.pipe(s));
    const p1 = await freePort();
    const t = await open([`127.0.0.1:${dead}`, `127.0.0.1:${echo}`, "--port", String(p1)], {}, 2);
    const [refused, good] = t.lines.map(portOf) as [number, number];
    expect(good).toBe(refused + 1); // consecutive ports
    await new Promise<void>((resolve) => {
      const s = net.connect(refused, "127.0.0.1");
      s.on("close", () => resolve());
      s.on("error", () => {});
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(t.stderr()).toMatch(
      new RegExp(`Connection to 127\\.0\\.0\\.1:${dead} failed: channel open refused: connect failed`),
    );
    const echoed = await new Promise<string>((resolve) => {
      const s = net.connect(good, "127.0.0.1", () => s.end("still up"));
      let b = "";
      s.on("data", (d) => {
        b += d;
      });
      s.on("end", () => resolve(b));
    });
    expect(echoed).toBe("still up");
  });

  it("a busy default port moves to the next free one and says so; a busy explicit port is an error naming it", async () => {
    const blocker = net.createServer();
    const busy = await new Promise<number>((r) =>
      blocker.listen(10000, "127.0.0.1", () => r(10000)).once("error", () => r(-1)),
    );
    const echo = await listen((s) => s.pipe(s));
    if (busy === 10000) {
      const t = await open([`127.0.0.1:${echo}`]);
      expect(portOf(t.lines[0] as string)).toBeGreaterThan(10000);
      expect(t.stderr()).toMatch(/Port 10000 is busy; using \d+ instead/);
    }
    const taken = (blocker.address() as net.AddressInfo | null)?.port ?? (await listen(() => {}));
    const r = await runTunnelExpectingFailure([`127.0.0.1:${echo}`, "--port", String(taken), ...base()]);
    blocker.close();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`^tunnel: port ${taken} on 127\\.0\\.0\\.1 is already in use; choose another with --port`, "m"),
    );
  });

  it("reads TARGET from --env-file and from .env in the working directory", async () => {
    const echo = await listen((s) => s.pipe(s));
    const envFile = path.join(dir, "custom.env");
    fs.writeFileSync(envFile, `# comment\nexport REDIS_URL="redis://:pw@127.0.0.1:${echo}/0"\n`);
    const t1 = await open(["REDIS_URL", "--env-file", envFile, "--port", String(await freePort())]);
    expect(t1.stderr()).toContain(`Building tunnel to 127.0.0.1:${echo}`);
    expect(t1.stderr()).toMatch(/redis:\/\/:\*\*\*\*@127\.0\.0\.1:\d+\/0/);
    const cwd = fs.mkdtempSync(path.join(dir, "cwd-"));
    fs.writeFileSync(path.join(cwd, ".env"), `AMQP_URL=amqp://127.0.0.1:${echo}\n`);
    const t2 = await open(["AMQP_URL", "--port", String(await freePort())], { TUNNEL_TEST_CWD: cwd });
    expect(t2.stderr()).toContain(`Building tunnel to 127.0.0.1:${echo}`);
  });

  it("Ctrl+C drains open connections and exits 0", async () => {
    const slow = await listen((s) => {
      setTimeout(() => s.end("late reply"), 700);
    });
    const t = await open([`127.0.0.1:${slow}`, "--port", String(await freePort())]);
    const port = portOf(t.lines[0] as string);
    const reply = new Promise<string>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      let b = "";
      s.on("data", (d) => {
        b += d;
      });
      s.on("close", () => resolve(b));
      s.on("error", () => resolve(b));
    });
    await new Promise((r) => setTimeout(r, 300));
    sendSignal(t.child, "SIGINT");
    expect(await reply).toBe("late reply");
    expect(await t.exited).toBe(0);
    expect(t.stderr()).toMatch(/Closing: waiting up to 3 s for 1 open connection/);
  });

  it("without --via or TUNNEL_VIA it is a usage error in one line, naming --via", async () => {
    const r = await runTunnelExpectingFailure(["127.0.0.1:5432"], { TUNNEL_VIA: "" });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      "tunnel: no bastion given; expected --via [user@]host[:port] or the TUNNEL_VIA environment variable",
    );
  });

  it("with --no-reconnect, the bastion dropping the connection ends the tunnel with a non-zero exit and a clear message", async () => {
    const own = await startSshd({ authorizedKeys: [keys.ed25519.pubLine] });
    try {
      const echo = await listen((s) => s.pipe(s));
      const t = await startTunnel([
        `127.0.0.1:${echo}`,
        "--port",
        String(await freePort()),
        "--via",
        `${own.user}@127.0.0.1:${own.port}`,
        "--identity",
        keys.ed25519.path,
        "--known-hosts",
        own.knownHostsFile,
        "--no-reconnect",
      ]);
      running.push(t);
      await own.stop();
      expect(await t.exited).not.toBe(0);
      expect(t.stderr()).toMatch(/^tunnel: .*(closed the connection|connection lost|disconnected)/m);
    } finally {
      await own.stop();
    }
  });
});
