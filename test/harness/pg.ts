/**
 * A real PostgreSQL server for the forwarding tests: initdb into a temp dir, started on a free
 * loopback port with trust auth for one user. initdb refuses to run as root, so as root the
 * server runs as the `postgres` OS user (created by Debian's package).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "@tunnel/testkit";

export interface Postgres {
  port: number;
  user: string;
  password: string;
  dir: string;
  stop(): void;
}

function pgBin(name: string): string {
  const base = "/usr/lib/postgresql";
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const p = path.join(base, v, "bin", name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`PostgreSQL's ${name} not found under ${base}; install the postgresql package`);
}

export async function startPostgres(): Promise<Postgres> {
  const root = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-pg-"));
  fs.chmodSync(dir, 0o777);
  const data = path.join(dir, "data");
  const run = (cmd: string, args: string[]) => {
    const full = root ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
    const r = spawnSync(full[0] as string, full[1] as string[], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  const pwFile = path.join(dir, "pw");
  const password = "s3cret-pw";
  fs.writeFileSync(pwFile, password, { mode: 0o644 });
  run(pgBin("initdb"), ["-D", data, "-U", "tunnel", "--auth=scram-sha-256", `--pwfile=${pwFile}`, "-E", "UTF8"]);
  const port = await freePort();
  run(pgBin("pg_ctl"), [
    "-D",
    data,
    "-l",
    path.join(dir, "log"),
    "-w",
    "-o",
    `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1`,
    "start",
  ]);
  return {
    port,
    user: "tunnel",
    password,
    dir,
    stop() {
      try {
        run(pgBin("pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        // already gone
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `psql -tA -c sql` against a URL. */
export function psql(url: string, sql: string): string {
  return execFileSync("psql", [url, "-tA", "-c", sql], { encoding: "utf8", timeout: 20_000 }).trim();
}
