/**
 * What the manager verbs (`list`, `info`, `env`, `logs`, `close`, `pause`, `resume`) share:
 * the tunnels found in the state directory, those named on the command line picked out of
 * them (an unknown name is a one-line error), and the figures for people.
 */
import { type Surveyed, surveyAll, type TunnelStatus } from "@tunnel/core";
import { err } from "./bastion.ts";
import { stateDirectory } from "./managed.ts";

export interface Found {
  dir: string;
  live: TunnelStatus[];
  all: Surveyed[];
}

/** Every tunnel; records of dead processes are cleaned (and said so on stderr unless `quiet`). */
export async function findTunnels(quiet = false): Promise<Found> {
  const dir = stateDirectory();
  const all = await surveyAll(dir);
  const live: TunnelStatus[] = [];
  for (const s of all) {
    if (s.kind === "live") live.push(s.status);
    else if (s.kind === "dead" && !quiet) err(`Tunnel "${s.name}" had ended (${s.why}); its record was removed`);
  }
  return { dir, live, all };
}

/** Corrupt records as one-line errors (the first one thrown): they must not pass unnoticed. */
export function corruptError(found: Found): Error | undefined {
  const bad = found.all.filter((s) => s.kind === "corrupt");
  for (const b of bad.slice(1)) err(`tunnel: ${b.error.message}`);
  return bad[0]?.error;
}

/** The live tunnels named (all of them when `names` is empty); an unknown name is an error. */
export function pick(found: Found, names: readonly string[]): TunnelStatus[] {
  if (names.length === 0) return found.live;
  return names.map((name) => {
    const t = found.live.find((l) => l.name === name);
    if (t) return t;
    const s = found.all.find((a) => a.name === name);
    if (s?.kind === "corrupt") throw s.error;
    if (s?.kind === "dead") throw new Error(`tunnel "${name}" is no longer running (${s.why}); its record was removed`);
    const known = found.live.map((l) => l.name);
    throw new Error(
      `no tunnel named "${name}"; ${known.length ? `running: ${known.join(", ")}` : "none is running"} (tunnel list)`,
    );
  });
}

/** Names given as arguments: citty puts the first in its positional and all of them in `_`. */
export function namesFrom(args: { _: unknown }): string[] {
  return (args._ as string[]).filter((a) => a !== "");
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatUptime(started: string, now = Date.now()): string {
  const s = Math.max(0, Math.floor((now - Date.parse(started)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, "0")}h`;
}

/** Columns padded to their widest cell; the last one is not padded. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
