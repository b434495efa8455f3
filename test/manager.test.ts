/**
 * Background tunnels and their manager (issue 16, item 2), through the bundled CLI under the
 * runtime running this suite, from a project directory outside the repository (its own .env
 * and its own XDG_STATE_HOME), OpenSSH's sshd as the bastion and a real PostgreSQL behind it:
 * - `open --detach` returns once the port listens; `list --json`, `env` evaluated by sh and
 *   used by psql, `info --encode` decoded, `logs`, `pause` (refused) / `resume`, `close`;
 * - a second tunnel may not take a name or a port another one holds;
 * - a background process killed with SIGKILL is reported dead by `list` and its record
 *   cleaned; a corrupt record is a one-line error; a foreground `open` is listed too;
 * - `open --detach` that cannot connect prints the background process's error, exit 1;
 *   `open` without a bastion is a usage error naming --via;
 * - `expose --detach`: a client on the bastion's side reaches a local HTTP server; `logs -f`
 *   follows the tunnel's events until it is closed;
 * - a bastion that goes away: `list` says reconnecting until it is back, the log says both.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, makeKey, type Sshd, startSshd, type UserKey } from "@tunnel/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cliCommand } from "./harness/cli.ts";
import { type CliProcess, startVerb } from "./harness/cli-process.ts";
import { type Postgres, psql, startPostgres } from "./harness/pg.ts";

let sshd: Sshd;
let pg: Postgres;
let key: UserKey;
let dir: string;
let project: string;
let stateHome: string;
let stateDir: string;
const foreground: CliProcess[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-manager-"));
  project = path.join(dir, "project");
  stateHome = path.join(dir, "state");
  stateDir = path.join(stateHome, "tunnel");
  fs.mkdirSync(project);
  key = await makeKey(dir, "id_ed25519", { type: "ed25519" });
  [sshd, pg] = await Promise.all([startSshd({ authorizedKeys: [key.pubLine] }), startPostgres()]);
  fs.writeFileSync(
    path.join(project, ".env"),
    `DATABASE_URL=postgres://${pg.user}:${pg.password}@127.0.0.1:${pg.port}/postgres?sslmode=disable\n`,
  );
});

afterEach(async () => {
  await Promise.all(foreground.splice(0).map((p) => p.stop("SIGKILL")));
  await tunnel(["close", "--all"]);
});

afterAll(async () => {
  await sshd?.stop();
  pg?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ XDG_STATE_HOME: stateHome, TUNNEL_VIA: undefined, NO_COLOR: "1" });

function bastion(port = sshd.port, server = sshd): string[] {
  return ["--via", `${server.user}@127.0.0.1:${port}`, "-i", key.path, "--known-hosts", server.knownHostsFile];
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The bundled CLI in the project directory. */
function tunnel(args: string[]): Promise<Result> {
  const [command, argv] = cliCommand(args);
  return new Promise((resolve, reject) => {
    const child = execFile(command, argv, { cwd: project, env: { ...process.env, ...env() }, timeout: 60_000 });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(args: string[]): Promise<Result> {
  const r = await tunnel(args);
  if (r.code !== 0) throw new Error(`tunnel ${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
  return r;
}

interface Listed {
  name: string;
  state: string;
  pid: number;
  detached: boolean;
  connections: number;
  bytesIn: number;
  bytesOut: number;
  targets: { spec: string; local: string; remote: string; url: string | null }[];
  why?: string;
}

async function list(): Promise<Listed[]> {
  const r = await ok(["list", "--json"]);
  return r.stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Listed);
}

/** Connects to `port`; resolves with what happened: "connected" or the error code. */
function probe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve("connected");
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe("background tunnels and their manager", () => {
  it("open --detach, list, env through sh and psql, info --encode, logs, pause/resume, close", async () => {
    const opened = await ok(["open", "DATABASE_URL", ...bastion(), "--detach", "--name", "db"]);
    const local = opened.stdout.trim();
    expect(local).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(opened.stderr).toContain('Tunnel "db" runs in the background');
    expect(opened.stderr).not.toContain(pg.password);
    const port = Number(local.split(":")[1]);

    const [t] = await list();
    expect(t).toMatchObject({ name: "db", state: "up", detached: true, connections: 0 });
    expect(t?.targets).toEqual([
      {
        spec: "DATABASE_URL",
        variable: "DATABASE_URL",
        remote: `127.0.0.1:${pg.port}`,
        local,
        url: `postgres://tunnel:****@${local}/postgres?sslmode=disable`,
      },
    ]);
    expect(gone(t?.pid as number)).toBe(false);
    // The record and the socket are the user's alone; no password on disk.
    expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(stateDir, "db.json")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(stateDir, "db.sock")).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(stateDir, "db.json"), "utf8")).not.toContain(pg.password);

    const exported = (await ok(["env"])).stdout;
    expect(exported).toBe(`export DATABASE_URL='postgres://tunnel:${pg.password}@${local}/postgres?sslmode=disable'\n`);
    const viaShell = await new Promise<string>((resolve, reject) =>
      execFile(
        "sh",
        ["-c", `${exported}psql "$DATABASE_URL" -tA -c 'select 41 + 1'`],
        { env: { PATH: process.env.PATH }, timeout: 30_000 },
        (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    expect(viaShell).toBe("42\n");

    const [after] = await list();
    expect(after?.bytesIn).toBeGreaterThan(0);
    expect(after?.bytesOut).toBeGreaterThan(0);

    const encoded = (await ok(["info", "--encode"])).stdout.trim();
    expect(encoded).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(JSON.parse(Buffer.from(encoded, "base64").toString("utf8"))).toEqual({
      db: [
        {
          variable: "DATABASE_URL",
          remote: `127.0.0.1:${pg.port}`,
          host: "127.0.0.1",
          port,
          url: `postgres://tunnel:${pg.password}@${local}/postgres?sslmode=disable`,
          scheme: "postgres",
          username: "tunnel",
          password: pg.password,
          path: "postgres",
          query: { sslmode: "disable" },
        },
      ],
    });
    const info = (await ok(["info", "db"])).stdout;
    expect(info).toContain(`${local} → 127.0.0.1:${pg.port} (DATABASE_URL)`);
    expect(info).not.toContain(pg.password);

    const logs = (await ok(["logs", "db"])).stdout;
    expect(logs).toContain(`Building tunnel to 127.0.0.1:${pg.port}`);
    expect(logs).toContain(`You can access your service on ${local}`);
    expect(logs).toMatch(/\[1\] closed: [1-9]\d* bytes sent, [1-9]\d* bytes received/);
    expect(logs).not.toContain(pg.password);

    // A connection made before the pause lives on through it: PostgreSQL answers its SSLRequest.
    const before = net.connect(port, "127.0.0.1");
    await new Promise((r) => before.once("connect", r));
    const paused = await ok(["pause", "db"]);
    expect(paused.stderr).toContain(`Paused db: ${local}`);
    expect(await probe(port)).toBe("ECONNREFUSED");
    const answer = new Promise<string>((r) => before.once("data", (d) => r(d.toString("latin1"))));
    // SSLRequest: length 8, code 80877103 (PostgreSQL protocol, "SSL Session Encryption").
    before.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]));
    expect(["N", "S"]).toContain(await answer);
    before.destroy();
    expect((await list())[0]?.state).toBe("paused");
    await ok(["resume", "db"]);
    expect((await list())[0]?.state).toBe("up");
    expect(psql(`postgres://tunnel:${pg.password}@${local}/postgres?sslmode=disable`, "select 7")).toBe("7");

    const closed = await ok(["close", "db"]);
    expect(closed.stderr).toContain("Closed db");
    expect(gone(t?.pid as number)).toBe(true);
    expect(await list()).toEqual([]);
    expect(fs.existsSync(path.join(stateDir, "db.json"))).toBe(false);
    expect(fs.existsSync(path.join(stateDir, "db.sock"))).toBe(false);
    expect(await probe(port)).toBe("ECONNREFUSED");
    // The log outlives the tunnel.
    expect((await ok(["logs", "db"])).stdout).toContain("close asked for");
    const traversal = await tunnel(["logs", "../state/tunnel/db"]);
    expect(traversal.code).toBe(1);
    expect(traversal.stderr.trim()).toBe(
      'tunnel: no tunnel named "../state/tunnel/db" and no log of one (tunnel list shows the running ones)',
    );
  });

  it("a name or a port another tunnel holds is refused in one line", async () => {
    const port = await freePort();
    await ok(["open", "DATABASE_URL", ...bastion(), "-d", "--name", "one", "--port", String(port)]);
    const sameName = await tunnel(["open", "DATABASE_URL", ...bastion(), "-d", "--name", "one"]);
    expect(sameName.code).toBe(1);
    expect(sameName.stderr).toMatch(/^tunnel: a tunnel named "one" is already running \(pid \d+\); choose another/);
    expect(sameName.stderr.trim().split("\n")).toHaveLength(1);
    const samePort = await tunnel([
      "open",
      "DATABASE_URL",
      ...bastion(),
      "-d",
      "--name",
      "two",
      "--port",
      String(port),
    ]);
    expect(samePort.code).toBe(1);
    expect(samePort.stderr.trim()).toBe(`tunnel: port ${port} is taken by tunnel "one"; choose another with --port`);
    // A default name moves on instead; --json carries the full URL, as in the foreground.
    const second = await ok(["open", "DATABASE_URL", ...bastion(), "-d", "--json"]);
    const printed = JSON.parse(second.stdout);
    expect(printed).toMatchObject({ name: "database", target: "DATABASE_URL", remote: `127.0.0.1:${pg.port}` });
    expect(printed.url).toBe(`postgres://tunnel:${pg.password}@${printed.local}/postgres?sslmode=disable`);
    const third = await ok(["open", "DATABASE_URL", ...bastion(), "-d"]);
    expect(second.stderr).toContain('Tunnel "database" runs');
    expect(third.stderr).toContain('Tunnel "database-2" runs');
    expect((await list()).map((t) => t.name).sort()).toEqual(["database", "database-2", "one"]);
    const all = await ok(["close", "--all"]);
    expect(all.stderr).toContain("Closed one");
    expect(await list()).toEqual([]);
  });

  it("a background process killed with SIGKILL is reported dead, and its record cleaned", async () => {
    await ok(["open", "DATABASE_URL", ...bastion(), "-d", "--name", "victim"]);
    const [t] = await list();
    process.kill(t?.pid as number, "SIGKILL");
    const dead = await list();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ name: "victim", state: "dead" });
    expect(dead[0]?.why).toMatch(/pid \d+\) is gone|control socket does not answer/);
    expect(fs.existsSync(path.join(stateDir, "victim.json"))).toBe(false);
    expect(await list()).toEqual([]);
    // Its name is free again, and a name never seen is an error.
    const unknown = await tunnel(["close", "victim"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('tunnel: no tunnel named "victim"; none is running (tunnel list)');
  });

  it("a corrupt record is a one-line error naming the file", async () => {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const file = path.join(stateDir, "broken.json");
    for (const text of ["{not json", '{"version": 9}', "[]", '{"version":1,"name":"broken","pid":-1}']) {
      fs.writeFileSync(file, text, { mode: 0o600 });
      const r = await tunnel(["list"]);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^tunnel: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      expect(lines[0]).toContain("expected");
      const named = await tunnel(["info", "broken"]);
      expect(named.code).toBe(1);
      expect(named.stderr.trim().split("\n")).toHaveLength(1);
    }
    fs.rmSync(file);
  });

  it("a foreground open is listed, and closed by tunnel close", async () => {
    const p = await startVerb(["open", "DATABASE_URL", ...bastion(), "--name", "fg"], { cwd: project, env: env() });
    foreground.push(p);
    const [t] = await list();
    expect(t).toMatchObject({ name: "fg", state: "up", detached: false, pid: p.child.pid });
    expect(t?.targets[0]?.local).toBe(p.lines[0]);
    await ok(["close", "fg"]);
    expect((await p.exited).code).toBe(0);
    expect(p.stderr()).toContain("Closing");
  });

  it("open --detach that cannot connect prints the background process's error; no bastion is a usage error", async () => {
    const closedPort = await freePort();
    const r = await tunnel(["open", "DATABASE_URL", ...bastion(closedPort), "-d", "--name", "nowhere"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^tunnel: .*refused/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(await list()).toEqual([]);
    const noVia = await tunnel(["open", "DATABASE_URL", "-d"]);
    expect(noVia.code).toBe(2);
    expect(noVia.stderr).toContain("--via");
  });

  it("expose --detach is managed too; logs -f follows until the tunnel closes", async () => {
    const web = http.createServer((req, res) => {
      res.setHeader("connection", "close");
      res.end(`hello ${req.url}\n`);
    });
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", () => r()));
    try {
      const webPort = (web.address() as net.AddressInfo).port;
      const r = await ok(["expose", String(webPort), ...bastion(), "--detach", "--name", "web"]);
      const remote = r.stdout.trim();
      expect(remote).toMatch(/^127\.0\.0\.1:\d+$/);
      const got = await new Promise<string>((resolve, reject) =>
        execFile("curl", ["-sS", "--max-time", "20", `http://${remote}/x`], (e, stdout) =>
          e ? reject(e) : resolve(stdout),
        ),
      );
      expect(got).toBe("hello /x\n");
      const [t] = await list();
      expect(t).toMatchObject({ name: "web", kind: "expose", state: "up" });
      expect(t?.targets[0]).toMatchObject({ remote, local: `127.0.0.1:${webPort}` });
      const pause = await tunnel(["pause", "web"]);
      expect(pause.code).toBe(1);
      expect(pause.stderr.trim()).toBe("tunnel: a tunnel made by expose has no local port to pause");

      const follow = await startVerb(["logs", "web", "-f"], { cwd: project, env: env(), expectLines: 1 });
      foreground.push(follow);
      await ok(["close", "web"]);
      expect((await follow.exited).code).toBe(0);
      expect(follow.stdout()).toContain(`On the bastion's side, ${remote} now reaches 127.0.0.1:${webPort}`);
      expect(follow.stdout()).toContain("close asked for");
      expect(follow.stdout()).toMatch(/Closed\n$/);
    } finally {
      web.close();
    }
  });

  it("a lost bastion shows as reconnecting in list, and the log tells of the loss and the return", async () => {
    const own = await startSshd({ authorizedKeys: [key.pubLine] });
    try {
      await ok(["open", "DATABASE_URL", ...bastion(own.port, own), "-d", "--name", "flaky"]);
      const until = async (state: string) => {
        for (let i = 0; i < 300; i++) {
          const [t] = await list();
          if (t?.state === state) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`tunnel flaky never became ${state}; log:\n${(await tunnel(["logs", "flaky"])).stdout}`);
      };
      await own.kill();
      await until("reconnecting");
      expect((await ok(["logs", "flaky"])).stdout).toContain("Connection to bastion lost");
      await own.restart();
      await until("up");
      expect((await ok(["logs", "flaky"])).stdout).toMatch(/Reconnected after \d/);
      await ok(["close", "flaky"]);
    } finally {
      await own.stop();
    }
  });
});
