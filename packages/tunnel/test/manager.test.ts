/**
 * The manager's pieces on their own, under the runtime running the suite: the record decoder
 * and the control request parser with their bad inputs (one line each, naming what was
 * expected), the control socket over this runtime's Unix sockets (bad lines answered, never
 * a crash), the log turning over at its bound, and a name claimed once however many try.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runtime } from "@tunnel/ssh/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlError, controlRequest, parseRequest, serveControl } from "../src/manager/control.ts";
import { EventLog, readLog } from "../src/manager/event-log.ts";
import {
  checkName,
  claimRecord,
  defaultName,
  ensureStateDir,
  readRecordFile,
  STATE_VERSION,
  type TunnelRecord,
} from "../src/manager/state.ts";

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-mgr-"));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function record(name: string, pid = process.pid): TunnelRecord {
  return {
    version: STATE_VERSION,
    name,
    kind: "open",
    pid,
    via: "deploy@bastion:22",
    started: new Date().toISOString(),
    ready: false,
    detached: true,
    targets: [
      { spec: "DATABASE_URL", variable: "DATABASE_URL", remote: "10.0.0.5:5432", local: "127.0.0.1:10000", url: null },
    ],
  };
}

describe("records", () => {
  it("a good record reads back; bad ones are one-line errors naming the file and what was expected", () => {
    const file = path.join(dir, "db.json");
    const good = record("db") as unknown as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify(good));
    expect(readRecordFile(file)).toEqual(good);
    const bad: [string, RegExp][] = [
      ["", /is not valid JSON; expected a tunnel's state/],
      ["{", /is not valid JSON/],
      ["null", /expected a JSON object/],
      ["[1]", /expected a JSON object/],
      ['"db"', /expected a JSON object/],
      [JSON.stringify({ ...good, version: 2 }), /version 2; expected 1/],
      [JSON.stringify({ ...good, name: "other" }), /name "other" does not match the file name "db"/],
      [JSON.stringify({ ...good, pid: 0 }), /pid 0; expected a process id/],
      [JSON.stringify({ ...good, pid: "12" }), /pid "12"; expected a process id/],
      [JSON.stringify({ ...good, via: 5 }), /via is missing; expected a string/],
      [JSON.stringify({ ...good, ready: "yes" }), /ready is missing; expected true or false/],
      [JSON.stringify({ ...good, targets: {} }), /targets is missing; expected a list/],
      [JSON.stringify({ ...good, targets: [{ local: 1 }] }), /a target lacks local or remote/],
      [JSON.stringify({ ...good, targets: [null] }), /a target lacks local or remote/],
    ];
    for (const [text, why] of bad) {
      fs.writeFileSync(file, text);
      const r = readRecordFile(file);
      expect(r, text).toBeInstanceOf(Error);
      expect((r as Error).message, text).toMatch(why);
      expect((r as Error).message).toContain(file);
      expect((r as Error).message).not.toContain("\n");
    }
    expect((readRecordFile(path.join(dir, "absent.json")) as Error).message).toMatch(/^cannot read /);
  });

  it("a name is claimed once, however many try at the same moment", () => {
    const state = path.join(dir, "claims");
    ensureStateDir(state);
    expect(fs.statSync(state).mode & 0o777).toBe(0o700);
    const results = Array.from({ length: 8 }, (_, i) => claimRecord(state, record("race", 1000 + i)));
    expect(results.filter((r) => r.taken === undefined)).toHaveLength(1);
    for (const r of results.filter((x) => x.taken !== undefined)) expect((r.taken as TunnelRecord).pid).toBe(1000);
    expect(fs.statSync(path.join(state, "race.json")).mode & 0o777).toBe(0o600);
    // No temporary files left behind.
    expect(fs.readdirSync(state)).toEqual(["race.json"]);
  });

  it("names: checked, and defaults from the variable or the target", () => {
    for (const ok of ["db", "db-2", "a.b_c", "X1"]) expect(checkName(ok)).toBe(ok);
    for (const bad of ["", "-db", ".db", "a/b", "a b", "ä", "x".repeat(49), "../x"]) {
      expect(() => checkName(bad, { name: "--name" }), bad).toThrow(
        /^--name: .* is not a tunnel name; expected up to 48 letters/,
      );
      expect(() => checkName(bad), bad).toThrow(/^name: .* is not a tunnel name/);
    }
    expect(defaultName({ variable: "DATABASE_URL", host: "db", port: 5432 })).toBe("database");
    expect(defaultName({ variable: "REDIS_ADDR", host: "r", port: 6379 })).toBe("redis");
    expect(defaultName({ variable: "CACHE_PRIMARY", host: "r", port: 6379 })).toBe("cache-primary");
    expect(defaultName({ variable: undefined, host: "10.0.0.5", port: 5432 })).toBe("10.0.0.5-5432");
    expect(defaultName({ variable: undefined, host: "::1", port: 80 })).toBe("1-80");
  });
});

describe("control requests", () => {
  it("parses the known ops; anything else is a one-line error naming what is expected", () => {
    for (const op of ["status", "info", "pause", "resume", "close"])
      expect(parseRequest(JSON.stringify({ op }))).toEqual({ op });
    const bad: [string, RegExp][] = [
      ["", /not JSON; expected \{"op": …\}/],
      ["status", /not JSON/],
      ["null", /unknown control op undefined; expected one of status, info, pause, resume, close/],
      ["[]", /unknown control op undefined/],
      ['{"op": 1}', /unknown control op 1/],
      ['{"op": "kill"}', /unknown control op "kill"/],
      ['{"op": "__proto__"}', /unknown control op "__proto__"/],
    ];
    for (const [line, why] of bad) expect(() => parseRequest(line), line).toThrow(why);
  });

  it("a control socket answers over this runtime's Unix sockets; bad lines get an error, the server goes on", async () => {
    const sock = path.join(dir, "t.sock");
    const seen: string[] = [];
    const listener = await serveControl(sock, async (op) => {
      seen.push(op);
      if (op === "pause") throw new Error("cannot pause now\nsecond line");
      return { op };
    });
    try {
      expect(fs.statSync(sock).mode & 0o777).toBe(0o600);
      expect(await controlRequest(sock, "status")).toEqual({ op: "status" });
      await expect(controlRequest(sock, "pause")).rejects.toThrow(new ControlError("cannot pause now"));
      // Raw lines a client might send: each gets one JSON answer.
      const raw = async (bytes: string | Uint8Array) => {
        const conn = await (runtime.connectUnix as NonNullable<typeof runtime.connectUnix>)(sock);
        return new Promise<string>((resolve) => {
          let got = "";
          conn.setHandlers({
            data: (c) => {
              got += new TextDecoder().decode(c);
            },
            drain() {},
            end: () => conn.end(),
            close: () => resolve(got),
          });
          conn.resume();
          conn.write(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
        });
      };
      expect(JSON.parse(await raw("not json\n"))).toEqual({
        ok: false,
        error: 'the control request is not JSON; expected {"op": …}',
      });
      expect(JSON.parse(await raw('{"op":"reboot"}\n')).error).toMatch(/^unknown control op "reboot"/);
      // Longer than the bound: cut off unanswered, never buffered further.
      expect(await raw(new Uint8Array(300 * 1024).fill(0x61))).toBe("");
      expect(await controlRequest(sock, "info")).toEqual({ op: "info" });
      expect(seen).toEqual(["status", "pause", "info"]);
    } finally {
      await listener.close();
    }
    fs.rmSync(sock, { force: true });
    await expect(controlRequest(sock, "status", 2000)).rejects.toThrow(/cannot connect to .*t\.sock/);
  });
});

describe("event log", () => {
  it("turns over at its bound: at most two files, the newest lines kept", () => {
    const file = path.join(dir, "x.log");
    const log = new EventLog(file, 1000);
    for (let i = 0; i < 200; i++) log.write(`event ${i}`);
    expect(fs.statSync(file).size).toBeLessThanOrEqual(1000);
    expect(fs.statSync(`${file}.1`).size).toBeLessThanOrEqual(1000);
    const text = readLog(file);
    expect(text).toMatch(/Z event 199\n$/);
    expect(text).not.toContain("event 0\n");
    // A line with a newline in it stays one line.
    log.write("two\nlines");
    expect(readLog(file)).toMatch(/Z two lines\n$/);
  });
});
