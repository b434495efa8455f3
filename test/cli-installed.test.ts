/**
 * `tunnel` as a real command (issue 16, items 1 and 3): installed by scripts/install-cli.sh
 * into a temporary bin directory, run from a temporary directory outside the repository
 * (whose .env it reads) under the runtime running this suite — `tunnel` (Node), `tunnel-bun`,
 * `tunnel-deno` — with OpenSSH's sshd as the bastion and a real PostgreSQL behind it:
 * - `tunnel run DATABASE_URL -- psql …` prints psql's output and exits with its status;
 *   signals reach the command; a command that cannot be found is 127;
 * - a wrong flag is exit status 2 with the nearest valid flag;
 * - `tunnel check` runs against sshd from the installed command and from the single-file
 *   executable (`scripts/build-exe.mjs`, built here when missing or older than the bundle).
 */
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { makeKey, type Sshd, startSshd, type UserKey } from "@tunnel/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, RUNTIME } from "./harness/cli.ts";
import { startProcess } from "./harness/cli-process.ts";
import { type Postgres, startPostgres } from "./harness/pg.ts";

const execFileP = promisify(execFile);

let sshd: Sshd;
let pg: Postgres;
let key: UserKey;
let dir: string;
/** The project directory the user runs `tunnel` in: outside the repository, with its .env. */
let project: string;
let bin: string;
/** The installed launcher for this runtime. */
let command: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-installed-"));
  project = path.join(dir, "project");
  fs.mkdirSync(project);
  key = await makeKey(dir, "id_ed25519", { type: "ed25519" });
  [sshd, pg] = await Promise.all([startSshd({ authorizedKeys: [key.pubLine] }), startPostgres()]);
  execFileSync("bash", [path.join(REPO_ROOT, "scripts/install-cli.sh"), "--no-build"], {
    env: { ...process.env, PREFIX: dir },
    stdio: ["ignore", "ignore", "pipe"],
  });
  bin = path.join(dir, "bin");
  command = { node: "tunnel", bun: "tunnel-bun", deno: "tunnel-deno" }[RUNTIME];
  // `tunnel` runs the `node` on PATH: the one running this suite (Node 20 or 24) goes first.
  env = { PATH: [path.dirname(process.execPath), bin, process.env.PATH].join(path.delimiter) };
  fs.writeFileSync(
    path.join(project, ".env"),
    `# the project's own settings\nDATABASE_URL=postgres://${pg.user}:${pg.password}@127.0.0.1:${pg.port}/postgres?sslmode=disable\n`,
  );
});

afterAll(async () => {
  await sshd?.stop();
  pg?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function bastion(): string[] {
  return ["--via", `${sshd.user}@127.0.0.1:${sshd.port}`, "-i", key.path, "--known-hosts", sshd.knownHostsFile];
}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The installed command, by name through PATH, in the project directory. */
function tunnel(args: string[], exe = command): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = execFile(exe, args, { cwd: project, env: { ...process.env, ...env }, timeout: 60_000 }, () => {});
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe("the installed command, from a directory outside the repository", () => {
  it("launchers are on PATH for each runtime and print the version", async () => {
    for (const name of ["tunnel", "tunnel-bun", "tunnel-deno"]) {
      expect(fs.statSync(path.join(bin, name)).mode & 0o111).not.toBe(0);
    }
    const r = await tunnel(["--version"]);
    expect(r).toMatchObject({ code: 0, stdout: "0.1.0\n" });
  });

  it("RunCarriesPsql: tunnel run DATABASE_URL (from ./.env) -- psql prints psql's output and exits 0", async () => {
    const r = await tunnel(["run", "DATABASE_URL", ...bastion(), "--", "psql", "-tA", "-c", "select 40 + 2"]);
    expect(r.stderr).toMatch(
      /^DATABASE_URL=postgres:\/\/tunnel:\*\*\*\*@127\.0\.0\.1:\d+\/postgres\?sslmode=disable {2}\(/m,
    );
    expect(r.stderr).not.toContain(pg.password);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: "42\n" });
  });

  it("the command sees the rewritten URL; its failure status is ours", async () => {
    const shown = await tunnel(["run", "DATABASE_URL", ...bastion(), "--", "sh", "-c", 'echo "$DATABASE_URL"']);
    expect(shown.stdout).toMatch(
      new RegExp(`^postgres://tunnel:${pg.password}@127\\.0\\.0\\.1:(\\d+)/postgres\\?sslmode=disable\\n$`),
    );
    expect(shown.stdout).not.toContain(`:${pg.port}/`);
    const failed = await tunnel(["run", "DATABASE_URL", ...bastion(), "--", "psql", "-c", "select * from nowhere"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('relation "nowhere" does not exist');
    const seven = await tunnel(["run", "DATABASE_URL", ...bastion(), "--", "sh", "-c", "exit 7"]);
    expect(seven.code).toBe(7);
    const missing = await tunnel(["run", "DATABASE_URL", ...bastion(), "--", "no-such-command-here"]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain("tunnel: no-such-command-here: command not found");
    // --help after -- belongs to the command.
    const help = await tunnel(["run", "DATABASE_URL", ...bastion(), "--", "sh", "-c", 'echo "$1"', "sh", "--help"]);
    expect(help).toMatchObject({ code: 0, stdout: "--help\n" });
  });

  it("signals reach the command, which decides when to exit; a signal that ends it ends us", async () => {
    const script = 'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 0.1; done';
    const p = await startProcess(command, ["run", "DATABASE_URL", ...bastion(), "--", "sh", "-c", script], {
      cwd: project,
      env,
    });
    expect(p.lines).toEqual(["ready"]);
    const { code } = await p.stop("SIGTERM");
    expect(p.stdout()).toBe("ready\ngot TERM\n");
    expect(code).toBe(3);
    const killed = await tunnel(["run", "DATABASE_URL", ...bastion(), "--", "sh", "-c", "kill -TERM $$"]);
    expect(killed.signal === "SIGTERM" || killed.code === 143, JSON.stringify(killed)).toBe(true);
  });

  it("UnknownFlagIsUsage: exit 2, one line naming the nearest valid flag, nothing on stdout", async () => {
    const r = await tunnel(["run", "DATABASE_URL", "--prot", "5", "--", "true"]);
    expect(r).toMatchObject({
      code: 2,
      stdout: "",
      stderr: "tunnel: unknown option --prot for tunnel run; did you mean --port?\n",
    });
    const stray = await tunnel(["check", "a", "b"]);
    expect(stray).toMatchObject({
      code: 2,
      stderr: 'tunnel: unexpected argument "b": tunnel check takes DESTINATION only\n',
    });
    const verb = await tunnel(["opne"]);
    expect(verb.code).toBe(2);
  });

  it("help on a pipe carries no colour", async () => {
    const r = await tunnel(["run", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Examples:");
    expect(r.stdout).not.toContain("\x1b");
  });

  it("tunnel check against sshd", async () => {
    const r = await tunnel([
      "check",
      `${sshd.user}@127.0.0.1:${sshd.port}`,
      "-i",
      key.path,
      "--known-hosts",
      sshd.knownHostsFile,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^auth: +publickey as \S+ with ssh-ed25519 /m);
  });
});

describe("the single-file executable (bun build --compile)", () => {
  it("tunnel check against sshd", async () => {
    await execFileP("node", [path.join(REPO_ROOT, "scripts/build-exe.mjs"), "--if-stale"], { timeout: 120_000 });
    const exe = path.join(REPO_ROOT, "apps/cli/dist/exe/tunnel");
    const r = await tunnel(
      ["check", `${sshd.user}@127.0.0.1:${sshd.port}`, "-i", key.path, "--known-hosts", sshd.knownHostsFile, "--json"],
      exe,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ authMethod: "publickey", port: sshd.port });
  });
});
