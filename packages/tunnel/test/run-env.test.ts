/**
 * `tunnel run`: which variable each tunnel's local address goes into (run-env.ts). A variable
 * holding a URL gets the URL rewritten; one holding host:port gets the local host:port;
 * `NAME=target` names the variable for a target written out; a target with no name is
 * refused, with the form that works in the message and no password in it.
 */
import { describe, expect, it } from "vitest";
import type { OpenedTarget } from "../src/open.ts";
import { resolveRunTarget, resolveRunTargets, runVariables } from "../src/run-env.ts";
import { rewriteUrl } from "../src/target.ts";

const env = {
  DATABASE_URL: "postgres://app:s3cret@10.0.0.12:5432/app?sslmode=require",
  REDIS_ADDR: "10.0.0.7:6379",
};

function opened(spec: string, localHost: string, localPort: number): OpenedTarget {
  const target = resolveRunTarget(spec, env);
  return {
    target,
    localHost,
    localPort,
    url: rewriteUrl(target, localHost, localPort),
    maskedUrl: rewriteUrl(target, localHost, localPort, true),
  };
}

describe("tunnel run: the variables the command gets", () => {
  it("a variable holding a URL gets the same URL on the local end, credentials, path and query kept", () => {
    expect(runVariables([opened("DATABASE_URL", "127.0.0.1", 41234)])).toMatchObject({
      DATABASE_URL: "postgres://app:s3cret@127.0.0.1:41234/app?sslmode=require",
    });
    expect(runVariables([opened("API=https://u@api.internal:8443/v1?x=1", "127.0.0.1", 7)])).toEqual({
      API: "https://u@127.0.0.1:7/v1?x=1",
    });
  });

  it("LibpqVariables: one postgres URL also gives psql its PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE", () => {
    expect(runVariables([opened("DATABASE_URL", "127.0.0.1", 41234), opened("REDIS_ADDR", "127.0.0.1", 2)])).toEqual({
      DATABASE_URL: "postgres://app:s3cret@127.0.0.1:41234/app?sslmode=require",
      REDIS_ADDR: "127.0.0.1:2",
      PGHOST: "127.0.0.1",
      PGPORT: "41234",
      PGUSER: "app",
      PGPASSWORD: "s3cret",
      PGDATABASE: "app",
      PGSSLMODE: "require",
    });
    // Percent-encoded parts decoded; what the URL leaves out is left out.
    expect(runVariables([opened("PG=postgresql://us%40er:p%2Fw@db/my%20db", "::1", 5)])).toEqual({
      PG: "postgresql://us%40er:p%2Fw@[::1]:5/my%20db",
      PGHOST: "::1",
      PGPORT: "5",
      PGUSER: "us@er",
      PGPASSWORD: "p/w",
      PGDATABASE: "my db",
    });
    // Two postgres targets: which one would psql mean? Neither gets them.
    const two = runVariables([opened("DATABASE_URL", "127.0.0.1", 1), opened("OTHER=postgres://h/x", "127.0.0.1", 2)]);
    expect(Object.keys(two).sort()).toEqual(["DATABASE_URL", "OTHER"]);
  });

  it("a variable holding host:port gets the local host:port (IPv6 in brackets)", () => {
    expect(runVariables([opened("REDIS_ADDR", "127.0.0.1", 41235)])).toEqual({ REDIS_ADDR: "127.0.0.1:41235" });
    expect(runVariables([opened("REDIS_ADDR", "::1", 41236)])).toEqual({ REDIS_ADDR: "[::1]:41236" });
  });

  it("NAME=URL and NAME=host:port name the variable for a target written out", () => {
    const vars = runVariables([
      opened("CACHE=10.0.0.9:11211", "127.0.0.1", 1),
      opened("API_URL=https://api.internal/v1", "127.0.0.1", 2),
    ]);
    expect(vars).toEqual({ CACHE: "127.0.0.1:1", API_URL: "https://127.0.0.1:2/v1" });
    expect(resolveRunTarget("CACHE=10.0.0.9:11211", env)).toMatchObject({ host: "10.0.0.9", port: 11211 });
  });

  it("a URL or host:port with no name is refused, saying how to name it, without its password", () => {
    expect(() => resolveRunTarget("10.0.0.7:6379", env)).toThrow(/NAME=10\.0\.0\.7:6379 \(e\.g\. REDIS_ADDR=/);
    let message = "";
    try {
      resolveRunTarget("postgres://app:hunter2@db/app", env);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/names no variable.*DATABASE_URL=postgres:\/\/app:\*\*\*\*@db\/app/);
    expect(message).not.toContain("hunter2");
  });

  it("NAME=OTHER_NAME is refused (it would be read as a host name)", () => {
    expect(() => resolveRunTarget("DB=DATABASE_URL", env)).toThrow(/write DATABASE_URL alone/);
  });

  it("a URL whose password holds '=' is a URL, not NAME=", () => {
    expect(resolveRunTarget("DB=postgres://u:a=b@h/d", env)).toMatchObject({ variable: "DB", host: "h", port: 5432 });
    expect(() => resolveRunTarget("postgres://u:a=b@h/d", env)).toThrow(/names no variable/);
  });

  it("one variable named twice is refused", () => {
    expect(() => resolveRunTargets(["DATABASE_URL", "DATABASE_URL=10.0.0.1:5432"], env)).toThrow(
      /DATABASE_URL is named twice/,
    );
  });

  it("an unset variable says so, as tunnel open does", () => {
    expect(() => resolveRunTarget("NOPE_URL", env)).toThrow(/NOPE_URL is not set/);
  });
});
