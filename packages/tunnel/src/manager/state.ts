/**
 * Where running tunnels are recorded: one JSON file per tunnel in `$XDG_STATE_HOME/tunnel`
 * (`~/.local/state/tunnel` without it, as the XDG Base Directory specification says:
 * host-keys.ts's `stateDir`), next to
 * its control socket and its log. The directory is 0700 and every file 0600: only the user
 * who started a tunnel can see or steer it.
 *
 * A record is written whole to a temporary file and then moved into place (rename is atomic
 * on POSIX file systems), so a reader never sees half a record. Taking a name is a hard link
 * of that temporary file to `NAME.json`, which fails if the name is taken: two tunnels can
 * never both believe they own a name, even when started at the same moment.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type OptionNames, optionName } from "../option-names.ts";

/** A file of this layout is read; another version is reported, not guessed at. */
export const STATE_VERSION = 1;

/** Names: what a file name and a shell word can hold without quoting. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$/;

/** One target of a running tunnel, as recorded (no secrets: passwords are masked). */
export interface TargetRecord {
  /** What was asked for: a variable name, a URL (masked) or host:port. */
  spec: string;
  variable: string | null;
  /** host:port behind the bastion. */
  remote: string;
  /** host:port it is reachable on here (for `expose`: on the bastion's side). */
  local: string;
  /** The rewritten URL with its password masked, when the target was a URL. */
  url: string | null;
}

/** A tunnel's record (`NAME.json`): what it forwards, via where, its process. */
export interface TunnelRecord {
  /** The layout of this file (`STATE_VERSION`). */
  version: typeof STATE_VERSION;
  /** The tunnel's name; the record's file is `NAME.json`. */
  name: string;
  /** `open` or `expose`. */
  kind: string;
  /** The process that runs the tunnel; once it is gone, the record is stale. */
  pid: number;
  /** The bastion as given (`--via`). */
  via: string;
  /** ISO 8601 time the process started. */
  started: string;
  /** False while it connects for the first time; true once its ports listen. */
  ready: boolean;
  /** Ran in the background (`--detach`). */
  detached: boolean;
  /** What it forwards; empty until `ready`. */
  targets: TargetRecord[];
}

/** Creates the directory (0700) if needed; refuses one that others can reach. */
export function ensureStateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.statSync(dir);
  if ((st.mode & 0o077) !== 0) {
    // Ours and too open (made by hand, or by an older umask): close it rather than refuse.
    if (st.uid === process.getuid?.()) fs.chmodSync(dir, 0o700);
    else throw new Error(`${dir} is reachable by other users; expected a directory only you can open (mode 0700)`);
  }
}

/** True for a name a tunnel can have (and a file in the state directory can be named after). */
export function isName(name: string): boolean {
  return NAME.test(name);
}

/** A tunnel's name, checked: a usage error names what is allowed (and the option as `names` says). */
export function checkName(name: string, names?: OptionNames): string {
  if (!NAME.test(name)) {
    throw new TypeError(
      `${optionName(names, "name")}: "${name}" is not a tunnel name; expected up to 48 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return name;
}

/** The default name: the variable (lower case, `DATABASE_URL` → `database`), else the target's host. */
export function defaultName(target: { variable?: string | undefined; host: string; port: number }): string {
  if (target.variable) {
    const v = target.variable
      .toLowerCase()
      .replace(/_(url|uri|addr|address|dsn)$/, "")
      .replace(/_/g, "-");
    if (NAME.test(v)) return v;
  }
  const h = target.host.replace(/[^A-Za-z0-9.-]/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  const n = `${h}-${target.port}`.slice(0, 48);
  return NAME.test(n) ? n : `tunnel-${target.port}`;
}

export interface StatePaths {
  record: string;
  socket: string;
  log: string;
}

/** The record, control socket and log paths of tunnel `name` in `dir`. */
export function pathsFor(dir: string, name: string): StatePaths {
  return {
    record: path.join(dir, `${name}.json`),
    socket: path.join(dir, `${name}.sock`),
    log: path.join(dir, `${name}.log`),
  };
}

function tempFile(dir: string, name: string): string {
  return path.join(dir, `.${name}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
}

/** Replaces the record atomically (temporary file, then rename). */
export function writeRecord(dir: string, record: TunnelRecord): void {
  const tmp = tempFile(dir, record.name);
  fs.writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, pathsFor(dir, record.name).record);
}

/**
 * Takes `record.name`: succeeds only if no record of that name exists (a hard link does not
 * replace). Returns the record that holds the name otherwise, or the error reading it.
 */
export function claimRecord(dir: string, record: TunnelRecord): { taken?: TunnelRecord | Error } {
  const tmp = tempFile(dir, record.name);
  fs.writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  try {
    fs.linkSync(tmp, pathsFor(dir, record.name).record);
    return {};
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return { taken: readRecordFile(pathsFor(dir, record.name).record) };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Removes a tunnel's record and socket (its log stays, for `tunnel logs`). */
export function removeRecord(dir: string, name: string): void {
  const p = pathsFor(dir, name);
  fs.rmSync(p.record, { force: true });
  fs.rmSync(p.socket, { force: true });
}

/** Reads one record; a file that is not one gives an Error naming the file and what is wrong. */
export function readRecordFile(file: string): TunnelRecord | Error {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    return new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return new Error(`${file} is not valid JSON; expected a tunnel's state (delete the file if no such tunnel runs)`);
  }
  const wrong = recordProblem(v, path.basename(file, ".json"));
  return wrong ? new Error(`${file}: ${wrong} (delete the file if no such tunnel runs)`) : (v as TunnelRecord);
}

/** What makes `v` not a record of this layout, or undefined. */
function recordProblem(v: unknown, name: string): string | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "expected a JSON object";
  const r = v as Record<string, unknown>;
  if (r.version !== STATE_VERSION) return `version ${JSON.stringify(r.version)}; expected ${STATE_VERSION}`;
  if (r.name !== name) return `name ${JSON.stringify(r.name)} does not match the file name "${name}"`;
  if (!Number.isInteger(r.pid) || (r.pid as number) <= 0) return `pid ${JSON.stringify(r.pid)}; expected a process id`;
  for (const key of ["kind", "via", "started"] as const) {
    if (typeof r[key] !== "string") return `${key} is missing; expected a string`;
  }
  if (typeof r.ready !== "boolean") return "ready is missing; expected true or false";
  if (!Array.isArray(r.targets)) return "targets is missing; expected a list";
  for (const t of r.targets as unknown[]) {
    const o = t as Record<string, unknown> | null;
    if (typeof o !== "object" || o === null || typeof o.local !== "string" || typeof o.remote !== "string") {
      return "a target lacks local or remote; expected host:port strings";
    }
  }
  return undefined;
}

export interface RecordEntry {
  name: string;
  record: TunnelRecord | Error;
}

/** Every record in the directory, by name (corrupt ones as Errors); none if it does not exist. */
export function readRecords(dir: string): RecordEntry[] {
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return files
    .filter((f) => f.endsWith(".json") && !f.startsWith("."))
    .sort()
    .map((f) => ({ name: f.slice(0, -5), record: readRecordFile(path.join(dir, f)) }));
}

/** The process is there (signal 0 checks without sending anything; EPERM: someone else's, alive). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
