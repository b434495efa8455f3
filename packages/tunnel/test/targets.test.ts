import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadEnvironment } from "../src/env.ts";
import { mask, parseEnvFile, resolveTarget, rewriteUrl } from "../src/target.ts";

describe("targets: env var, URL or host:port", () => {
  const schemes: [string, number][] = [
    ["postgres", 5432],
    ["postgresql", 5432],
    ["mysql", 3306],
    ["mariadb", 3306],
    ["mongodb", 27017],
    ["redis", 6379],
    ["rediss", 6379],
    ["amqp", 5672],
    ["amqps", 5671],
    ["http", 80],
    ["https", 443],
  ];
  it.each(schemes)("%s:// defaults to port %i and is rewritten keeping credentials, path and query", (scheme, port) => {
    const t = resolveTarget(`${scheme}://user:pa%3Ass@db.internal/name?opt=1#frag`, {});
    expect([t.host, t.port]).toEqual(["db.internal", port]);
    expect(rewriteUrl(t, "127.0.0.1", 12345)).toBe(`${scheme}://user:pa%3Ass@127.0.0.1:12345/name?opt=1#frag`);
    expect(rewriteUrl(t, "127.0.0.1", 12345, true)).toBe(`${scheme}://user:****@127.0.0.1:12345/name?opt=1#frag`);
  });

  it("keeps an explicit port, even one equal to the scheme's default", () => {
    expect(resolveTarget("https://h:443/", {}).port).toBe(443);
    expect(resolveTarget("http://h:8080", {}).port).toBe(8080);
    expect(resolveTarget("elasticsearch://h:9200", {}).port).toBe(9200);
  });

  it("reads the URL from an environment variable", () => {
    const t = resolveTarget("DATABASE_URL", { DATABASE_URL: "postgres://a:b@10.0.0.5:6543/x" });
    expect(t).toMatchObject({ variable: "DATABASE_URL", host: "10.0.0.5", port: 6543 });
  });

  it("accepts host:port and [v6]:port, and v6 URLs", () => {
    expect(resolveTarget("db.internal:5432", {})).toMatchObject({ host: "db.internal", port: 5432, url: undefined });
    expect(resolveTarget("[fd00::1]:6379", {})).toMatchObject({ host: "fd00::1", port: 6379 });
    const t = resolveTarget("redis://[fd00::1]:6380/0", {});
    expect(t.host).toBe("fd00::1");
    expect(rewriteUrl(t, "::1", 7000)).toBe("redis://[::1]:7000/0");
  });

  it("a URL without a password is not masked", () => {
    expect(rewriteUrl(resolveTarget("mysql://root@h/db", {}), "127.0.0.1", 1, true)).toBe(
      "mysql://root@127.0.0.1:1/db",
    );
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ["DATABASE_URL", {}, /environment variable DATABASE_URL is not set/],
    ["DATABASE_URL", { DATABASE_URL: "  " }, /is not set/],
    ["mongodb+srv://u:p@cluster.example.net/db", {}, /mongodb\+srv URLs resolve hosts through DNS SRV/],
    ["mongodb://a:1,b:2/db", {}, /several hosts are not supported/],
    ["foo://host", {}, /scheme "foo" has no default port/],
    ["db.internal", {}, /is not a URL or host:port/],
    ["db:99999", {}, /out of range/],
    ["", {}, /empty target/],
    ["postgres://", {}, /not a valid URL|no host/],
  ];
  it.each(bad)("rejects %j with a one-line reason", (spec, env, msg) => {
    expect(() => resolveTarget(spec, env)).toThrow(msg);
  });

  it("an unset variable's error names the env file option as the caller names it, else by its field", () => {
    expect(() => resolveTarget("DATABASE_URL", {})).toThrow(/\(set it, or use envFile\)$/);
    expect(() => resolveTarget("DATABASE_URL", {}, { envFile: "--env-file" })).toThrow(
      /\(set it, or use --env-file\)$/,
    );
  });

  it("never shows a password in an error", () => {
    expect(() => resolveTarget("X", { X: "not a url with://user:secret@" })).toThrow(/\*\*\*\*/);
    expect(mask("redis://:hunter2@h:1")).toBe("redis://:****@h:1");
  });
});

describe(".env files and --env-file", () => {
  it("parses KEY=VALUE, export, quotes and comments", () => {
    expect(parseEnvFile("# c\nexport A=1\nB=\"two words\"\nC='x#y'\nD=plain # trailing\n\nE=\n", "f")).toEqual({
      A: "1",
      B: "two words",
      C: "x#y",
      D: "plain",
      E: "",
    });
  });

  it("names file and line of a bad line", () => {
    expect(() => parseEnvFile("A=1\nthis is not valid\n", ".env")).toThrow(
      '.env:2: expected KEY=VALUE, got "this is not valid"',
    );
  });

  it("process env beats .env; --env-file beats both; a missing --env-file is an error", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-env-"));
    try {
      fs.writeFileSync(path.join(dir, ".env"), "A=dotenv\nB=dotenv\nC=dotenv\n");
      fs.writeFileSync(path.join(dir, "x.env"), "C=file\n");
      const env = loadEnvironment({ B: "process", C: "process" }, { cwd: dir, envFile: "x.env" });
      expect([env.A, env.B, env.C]).toEqual(["dotenv", "process", "file"]);
      expect(() => loadEnvironment({}, { cwd: dir, envFile: "missing.env" })).toThrow(
        /env file .*missing\.env does not exist/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
