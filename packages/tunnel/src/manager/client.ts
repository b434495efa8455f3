/**
 * The asking side of the manager: which tunnels run (each asked over its control socket),
 * which records are left by a process that is gone (cleaned, and reported once as such), and
 * which record files cannot be read.
 */
import { ControlError, type ControlOp, controlRequest } from "./control.ts";
import type { TunnelStatus } from "./host.ts";
import { pathsFor, processAlive, readRecords, removeRecord, type TunnelRecord } from "./state.ts";

/** What one state record says about its tunnel: live (with its status), dead, or unreadable. */
export type Surveyed =
  | { name: string; kind: "live"; status: TunnelStatus }
  /** Its process is gone (or its socket refuses): the record was removed. */
  | { name: string; kind: "dead"; record: TunnelRecord; why: string }
  | { name: string; kind: "corrupt"; error: Error };

/** Asks one record's tunnel; a refusal means it is dead (the record is cleaned then). */
export async function survey(dir: string, name: string, record: TunnelRecord | Error): Promise<Surveyed> {
  if (record instanceof Error) return { name, kind: "corrupt", error: record };
  const dead = (why: string): Surveyed => {
    removeRecord(dir, name);
    return { name, kind: "dead", record, why };
  };
  if (!processAlive(record.pid)) return dead(`its process (pid ${record.pid}) is gone`);
  try {
    const status = (await controlRequest(pathsFor(dir, name).socket, "status", 3_000)) as TunnelStatus;
    return { name, kind: "live", status };
  } catch (err) {
    // A pid reused by another program: nothing answers on the socket.
    if (err instanceof ControlError) throw err;
    // Still starting: the record is written a moment before the socket listens.
    if (!record.ready && processAlive(record.pid)) {
      return { name, kind: "live", status: { ...record, state: "starting", connections: 0, bytesIn: 0, bytesOut: 0 } };
    }
    return dead(`its control socket ${/no such socket/.test((err as Error).message) ? "is gone" : "does not answer"}`);
  }
}

/** Every tunnel in `dir`, surveyed. */
export async function surveyAll(dir: string): Promise<Surveyed[]> {
  return Promise.all(readRecords(dir).map(({ name, record }) => survey(dir, name, record)));
}

/** Sends `op` to the tunnel `name`; its own error (e.g. "still starting") comes back as a ControlError. */
export function ask(dir: string, name: string, op: ControlOp): Promise<unknown> {
  return controlRequest(pathsFor(dir, name).socket, op, op === "pause" || op === "resume" ? 10_000 : 5_000);
}

/** Resolves once `pid` is gone, or false after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
