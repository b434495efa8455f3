/**
 * `tunnel serve`'s server-wide grants and limits, parsed from their options' text (errors
 * name each option as `names` says, option-names.ts):
 * - `allowRemote PORTS`: the ports remote forwards (`tcpip-forward`, RFC 4254 §7.1) may
 *   listen on — `0` (the kernel picks a free port), `N`, `N-M`, `*` (0 and every unprivileged
 *   port), comma lists. Privileged ports (below 1024) only by a number or range naming them;
 * - `maxStartups start:rate:full`: OpenSSH's MaxStartups (sshd_config(5)) random early drop
 *   of connections that have not authenticated yet: below `start` none is dropped, from
 *   `start` on a new one is dropped with probability `rate` %, rising linearly to 100 % at
 *   `full`. A single number N is N:100:N, a plain cap.
 */
import { type OptionNames, optionName } from "./option-names.ts";

/** Ports below this need an explicit grant (the classic privileged range). */
export const FIRST_UNPRIVILEGED_PORT = 1024;

/** The ports remote forwarding may listen on. */
export interface PortGrant {
  /** The text it was parsed from, for messages. */
  readonly text: string;
  /** Inclusive ranges of ports; port 0 stands for "a port the kernel picks". */
  readonly ranges: readonly (readonly [number, number])[];
}

/** No remote forwarding at all. */
export const NO_PORTS: PortGrant = { text: "", ranges: [] };

/** Parses a port grant: `0`, `N`, `N-M`, `*` (0 and 1024 up), comma-separated. */
export function parsePortGrant(text: string, names?: OptionNames): PortGrant {
  const bad = (item: string, why: string) =>
    new TypeError(
      `${optionName(names, "allowRemote")}: "${item}" ${why}; expected 0 (a port the kernel picks), N, N-M or * (0 and 1024-65535), comma-separated`,
    );
  const port = (item: string, s: string): number => {
    if (!/^\d{1,5}$/.test(s) || Number(s) > 65535) throw bad(item, `has "${s}", which is not a port (0-65535)`);
    return Number(s);
  };
  if (text.trim() === "") throw bad(text, "is empty");
  const ranges: [number, number][] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") throw bad(text, "has an empty item");
    if (item === "*") {
      ranges.push([0, 0], [FIRST_UNPRIVILEGED_PORT, 65535]);
      continue;
    }
    const dash = item.indexOf("-");
    if (dash < 0) {
      const p = port(item, item);
      ranges.push([p, p]);
      continue;
    }
    const lo = port(item, item.slice(0, dash));
    const hi = port(item, item.slice(dash + 1));
    if (lo === 0 || lo > hi) throw bad(item, "is not a range from low to high (1-65535)");
    ranges.push([lo, hi]);
  }
  return { text, ranges };
}

export function portGrantAllows(grant: PortGrant, port: number): boolean {
  return grant.ranges.some(([lo, hi]) => port >= lo && port <= hi);
}

/** sshd's MaxStartups: random early drop of connections not yet logged in. */
export interface MaxStartups {
  /** Connections not yet logged in below which none is dropped. */
  start: number;
  /** Percent, 1-100. */
  rate: number;
  /** Connections not yet logged in from which every new one is dropped. */
  full: number;
}

/** OpenSSH's default. */
export const DEFAULT_MAX_STARTUPS: MaxStartups = { start: 10, rate: 30, full: 100 };

/** Parses `start:rate:full`, or one number, as sshd_config's MaxStartups. */
export function parseMaxStartups(text: string, names?: OptionNames): MaxStartups {
  const bad = (why: string) =>
    new TypeError(
      `${optionName(names, "maxStartups")}: "${text}" ${why}; expected start:rate:full (e.g. 10:30:100) or one number`,
    );
  const parts = text.trim().split(":");
  if (parts.length !== 1 && parts.length !== 3) throw bad("has neither one number nor three");
  const n = parts.map((p) => {
    if (!/^\d{1,9}$/.test(p)) throw bad(`has "${p}", which is not a whole number`);
    return Number(p);
  });
  if (n.length === 1) {
    const cap = n[0] as number;
    if (cap < 1) throw bad("allows no connection at all");
    return { start: cap, rate: 100, full: cap };
  }
  const [start, rate, full] = n as [number, number, number];
  if (start < 1) throw bad("has start 0: every connection would be at risk");
  if (rate < 1 || rate > 100) throw bad(`has rate ${rate}; a percentage 1-100 is expected`);
  if (full < start) throw bad(`has full ${full} below start ${start}`);
  return { start, rate, full };
}

/** MaxStartups as sshd_config writes it. */
export function formatMaxStartups(m: MaxStartups): string {
  return m.start === m.full ? String(m.full) : `${m.start}:${m.rate}:${m.full}`;
}

/**
 * Should a new connection be dropped while `unauthenticated` others are still logging in?
 * `random` returns a number in [0, 1).
 */
export function shouldDrop(unauthenticated: number, m: MaxStartups, random: () => number = Math.random): boolean {
  if (unauthenticated < m.start) return false;
  if (unauthenticated >= m.full) return true;
  const p = m.rate + ((100 - m.rate) * (unauthenticated - m.start)) / (m.full - m.start);
  return random() * 100 < p;
}
