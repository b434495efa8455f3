/**
 * What ships: @tunnel/ssh and @tunnel/core packed by `pnpm pack` (so their `publishConfig`
 * exports apply) are plain ESM JavaScript with type declarations, usable with no TypeScript
 * loader by the runtime running this suite — which picks its own socket adapter through the
 * export conditions — and the bundled CLI starts under it.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, RUNTIME, runCli } from "./harness/cli.ts";

let dir: string;

function pnpm(args: string[], cwd: string): string {
  return execFileSync("pnpm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-pack-"));
  const modules = path.join(dir, "node_modules");
  for (const [pkg, name] of [
    ["packages/ssh", "@tunnel/ssh"],
    ["packages/tunnel", "@tunnel/core"],
  ] as const) {
    pnpm(["pack", "--pack-destination", dir], path.join(REPO_ROOT, pkg));
    const tgz = path.join(dir, `${name.replace("@", "").replace("/", "-")}-0.1.0.tgz`);
    const into = path.join(modules, name);
    fs.mkdirSync(into, { recursive: true });
    execFileSync("tar", ["-xzf", tgz, "-C", into, "--strip-components=1"]);
  }
  // Every dependency @tunnel/ssh declares, as the repo installed it, where a package manager
  // would have put it — read from its package.json so a new dependency is never forgotten here.
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "packages/ssh/package.json"), "utf8"));
  for (const dep of Object.keys(manifest.dependencies as Record<string, string>)) {
    const real = fs.realpathSync(path.join(REPO_ROOT, "packages/ssh/node_modules", dep));
    fs.mkdirSync(path.dirname(path.join(modules, dep)), { recursive: true });
    fs.symlinkSync(real, path.join(modules, dep));
  }
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "consumer", type: "module" }));
});

/** Runs a script in the consumer folder under this runtime, with no loader; its last line, as JSON. */
function runScript(script: string): Record<string, unknown> {
  const argv = RUNTIME === "deno" ? ["run", "-A", script] : [script];
  const out = execFileSync(process.execPath, argv, { cwd: dir, encoding: "utf8", timeout: 60_000 });
  return JSON.parse(out.trim().split("\n").pop() as string);
}

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("the packed packages", () => {
  it("hold JavaScript and declarations only, no TypeScript sources and no build info", () => {
    const files = (name: string) =>
      fs.readdirSync(path.join(dir, "node_modules", name), { recursive: true, encoding: "utf8" });
    for (const name of ["@tunnel/ssh", "@tunnel/core"]) {
      const all = files(name);
      expect(all).toContain(path.join("dist", "index.js"));
      expect(all).toContain(path.join("dist", "index.d.ts"));
      expect(all.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
      expect(all.filter((f) => f.includes("tsbuildinfo"))).toEqual([]);
    }
  });

  it(`run under ${RUNTIME} with no loader: its own socket adapter, and a whole tunnel in one process`, () => {
    const script = path.join(dir, "use.mjs");
    fs.writeFileSync(
      script,
      [
        'import { runtime } from "@tunnel/ssh/runtime";',
        'import { runDemo } from "@tunnel/core";',
        "const report = await runDemo({ megabytes: 2 });",
        "console.log(JSON.stringify({ sockets: runtime.name, verified: report.verified, cipher: report.cipher }));",
      ].join("\n"),
    );
    const r = runScript(script);
    expect(r).toMatchObject({ sockets: RUNTIME, verified: true });
    expect(r.cipher).toMatch(/gcm|chacha/);
  });

  it("export the bench kit and the wire encoding on their own subpaths, not from the roots", () => {
    const script = path.join(dir, "subpaths.mjs");
    fs.writeFileSync(
      script,
      [
        'import * as core from "@tunnel/core";',
        'import { roundTrip, startTarget, upload } from "@tunnel/core/bench";',
        'import * as ssh from "@tunnel/ssh";',
        'import { runtime } from "@tunnel/ssh/runtime";',
        'import { Reader, Writer } from "@tunnel/ssh/wire";',
        "const target = await startTarget(runtime);",
        "const env = { runtime, now: () => performance.now(), host: target.address, port: target.port };",
        "const up = await upload(env, 1 << 20);",
        "const rtt = await roundTrip(env, 8);",
        "await target.close();",
        'const r = new Reader(new Writer().string("tcpip-forward").uint32(8022).bytes());',
        "console.log(JSON.stringify({",
        "  uploaded: up.bytes, rounds: rtt.count, wire: [r.utf8(), r.uint32()],",
        '  coreRoot: ["startTarget", "upload", "encodeHeader"].filter((n) => n in core),',
        '  sshRoot: ["Reader", "Writer", "Mux", "Transport"].filter((n) => n in ssh),',
        "}));",
      ].join("\n"),
    );
    expect(runScript(script)).toEqual({
      uploaded: 1 << 20,
      rounds: 8,
      wire: ["tcpip-forward", 8022],
      coreRoot: [],
      sshRoot: [],
    });
  });
});

describe("the bundled CLI", () => {
  it("prints its verbs and its version", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    for (const verb of ["check", "open", "serve", "demo", "bench"])
      expect(help.stdout).toMatch(new RegExp(`^  ${verb} `, "m"));
    const version = await runCli(["--version"]);
    expect(version.stdout.trim()).toBe("0.1.0");
    const bad = await runCli(["teleport"]);
    expect(bad.code).toBe(2); // a usage error
    expect(bad.stderr.trim()).toBe(
      'tunnel: unknown command "teleport"; expected one of: check, open, run, expose, socks, list, info, env, logs, close, pause, resume, demo, bench, serve, completion (tunnel --help)',
    );
  });
});
