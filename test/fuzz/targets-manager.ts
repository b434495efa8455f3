/**
 * Fuzz targets, the background-tunnel manager's decoders (packages/tunnel/src/manager/): a
 * tunnel's record file (state.ts `readRecordFile`) and a control request line (control.ts
 * `parseRequest`). Both are read from the user's own state directory, by the user's own
 * processes; what is wrong comes back as one line naming what was expected, never a throw
 * from the record reader and never anything but the documented Error from the parser.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CONTROL_OPS, parseRequest } from "../../packages/tunnel/src/manager/control.ts";
import { readRecordFile, STATE_VERSION } from "../../packages/tunnel/src/manager/state.ts";
import { Finding, type FuzzTarget } from "./engine.ts";

const encode = (s: string) => new TextEncoder().encode(s);

let scratch: string | undefined;
function scratchFile(): string {
  if (!scratch) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-fuzz-state-"));
    scratch = path.join(dir, "db.json");
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

const GOOD = {
  version: STATE_VERSION,
  name: "db",
  kind: "open",
  pid: 4242,
  via: "deploy@bastion:22",
  started: "2026-12-01T10:00:00.000Z",
  ready: true,
  detached: true,
  targets: [
    { spec: "DATABASE_URL", variable: "DATABASE_URL", remote: "10.0.0.5:5432", local: "127.0.0.1:10000", url: null },
  ],
};

export const managerRecord: FuzzTarget = {
  name: "manager-record",
  describe:
    "readRecordFile (packages/tunnel/src/manager/state.ts) on a NAME.json holding the input; never throws: a bad file is an Error of one line naming the file; a record read has the file's name, a positive whole pid and host:port strings",
  maxLength: 4096,
  seeds: () =>
    [
      JSON.stringify(GOOD),
      JSON.stringify({ ...GOOD, targets: [] }),
      JSON.stringify({ ...GOOD, version: 2 }),
      '{"version":1,"name":"db","pid":1e3}',
      "[]",
    ].map(encode),
  accepts: () => false,
  run(input) {
    const file = scratchFile();
    fs.writeFileSync(file, input);
    const r = readRecordFile(file);
    if (r instanceof Error) {
      if (r.message.includes("\n")) throw new Finding("a record error of more than one line");
      if (!r.message.startsWith(file))
        throw new Finding(`a record error not naming the file: ${r.message.slice(0, 80)}`);
      return;
    }
    if (r.name !== "db") throw new Finding("a record read whose name is not its file's");
    if (!Number.isInteger(r.pid) || r.pid <= 0) throw new Finding(`a record read with pid ${r.pid}`);
    for (const t of r.targets) {
      if (typeof t.local !== "string" || typeof t.remote !== "string") throw new Finding("a target without addresses");
    }
  },
  quick: 300,
};

export const controlRequestLine: FuzzTarget = {
  name: "control-request",
  describe:
    "parseRequest (packages/tunnel/src/manager/control.ts) on one request line; refusals: an Error of one short line saying it is not JSON or naming the unknown op; a request parsed has one of the known ops",
  maxLength: 1024,
  seeds: () => ['{"op":"status"}', '{"op":"close"}', '{"op":"reboot"}', "status", '{"op":["pause"]}'].map(encode),
  accepts: (err) =>
    err instanceof Error &&
    !err.message.includes("\n") &&
    err.message.length < 200 &&
    (err.message.startsWith("the control request is not JSON") || err.message.startsWith("unknown control op")),
  run(input) {
    const r = parseRequest(new TextDecoder().decode(input));
    if (!(CONTROL_OPS as readonly string[]).includes(r.op)) throw new Finding(`parsed an unknown op ${r.op}`);
  },
  quick: 300,
};
