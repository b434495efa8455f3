/**
 * Reading the value of one ssh_config(5) setting the way OpenSSH's readconf.c and misc.c do:
 * flags and multi-state words (case-insensitive), ports (a number or a service name from
 * /etc/services), integers (strtonum), times (convtime: `90`, `1m30s`, `1w`), and ProxyJump
 * hops (`[user@]host[:port]` or `ssh://[user@]host[:port]`). Each parser throws a
 * `RangeError` whose message the resolver prefixes with file:line.
 */
import * as fs from "node:fs";

const INT_MAX = 2 ** 31 - 1;

/** true/yes and false/no, in any case (readconf.c's multistate_flag). */
export function parseFlag(arg: string): boolean {
  const v = arg.toLowerCase();
  if (v === "yes" || v === "true") return true;
  if (v === "no" || v === "false") return false;
  throw new RangeError(`unsupported option "${arg}"; expected yes or no`);
}

function multistate<T extends string>(arg: string, table: Record<string, T>, expected: string): T {
  const v = table[arg.toLowerCase()];
  if (v === undefined) throw new RangeError(`unsupported option "${arg}"; expected ${expected}`);
  return v;
}

export type StrictHostKeyChecking = "yes" | "no" | "ask" | "accept-new";

export function parseStrictHostKeyChecking(arg: string): StrictHostKeyChecking {
  return multistate<StrictHostKeyChecking>(
    arg,
    { yes: "yes", true: "yes", no: "no", false: "no", off: "no", ask: "ask", "accept-new": "accept-new" },
    "yes, accept-new, no, off or ask",
  );
}

export type AddressFamily = "any" | "inet" | "inet6";

export function parseAddressFamily(arg: string): AddressFamily {
  return multistate<AddressFamily>(arg, { any: "any", inet: "inet", inet6: "inet6" }, "any, inet or inet6");
}

export type Canonicalize = "no" | "yes" | "always";

export function parseCanonicalize(arg: string): Canonicalize {
  return multistate<Canonicalize>(
    arg,
    { yes: "yes", true: "yes", no: "no", false: "no", always: "always" },
    "yes, no or always",
  );
}

/** strtol's view of a leading number: optional whitespace and sign, then decimal digits. */
const LEADING_INTEGER = /^[ \t\n\v\f\r]*([+-]?)(\d+)/;

/** A whole number from 0 to 2^31-1 (strtonum(arg, 0, INT_MAX)). */
export function parseInteger(arg: string): number {
  const m = LEADING_INTEGER.exec(arg);
  if (!m || m[0].length !== arg.length) throw new RangeError(`integer value invalid: "${arg}"`);
  const n = Number(m[2]) * (m[1] === "-" ? -1 : 1);
  if (n < 0) throw new RangeError(`integer value too small: "${arg}"`);
  if (n > INT_MAX) throw new RangeError(`integer value too large: "${arg}"`);
  return n;
}

const TIME_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Seconds from `90`, `1m30s`, `2h`, `1w2d` (misc.c's convtime). */
export function parseTime(arg: string): number {
  const bad = () => new RangeError(`invalid time value "${arg}"; expected seconds or e.g. 1m30s`);
  if (arg === "") throw bad();
  let total = 0;
  let rest = arg;
  while (rest !== "") {
    const m = LEADING_INTEGER.exec(rest);
    if (!m) throw bad();
    const secs = Number(m[2]) * (m[1] === "-" ? -1 : 1);
    if (secs < 0 || secs > INT_MAX) throw bad();
    rest = rest.slice(m[0].length);
    let multiplier = 1;
    if (rest !== "") {
      const unit = TIME_UNITS[rest[0]!.toLowerCase()];
      if (unit === undefined) throw bad();
      multiplier = unit;
      rest = rest.slice(1);
    }
    if (secs > Math.floor(INT_MAX / multiplier)) throw bad();
    total += secs * multiplier;
    if (total > INT_MAX) throw bad();
  }
  return total;
}

let services: Map<string, number> | undefined;

/** TCP service names from /etc/services (getservbyname(3)'s source); empty where there is none. */
function serviceTable(): Map<string, number> {
  if (services) return services;
  services = new Map();
  let text = "";
  try {
    text = fs.readFileSync("/etc/services", "utf8");
  } catch {
    return services;
  }
  for (const line of text.split("\n")) {
    const words = line.replace(/#.*/, "").trim().split(/\s+/);
    const [name, portProto, ...aliases] = words;
    const m = portProto ? /^(\d+)\/tcp$/.exec(portProto) : null;
    if (!name || !m) continue;
    for (const n of [name, ...aliases]) if (!services.has(n)) services.set(n, Number(m[1]));
  }
  return services;
}

/** A port number (0-65535) or TCP service name, as misc.c's a2port; -1 when neither. */
export function asPort(arg: string): number {
  const m = LEADING_INTEGER.exec(arg);
  if (m && m[0].length === arg.length) {
    const n = Number(m[2]) * (m[1] === "-" ? -1 : 1);
    if (n >= 0 && n <= 65535) return n;
  }
  return serviceTable().get(arg) ?? -1;
}

/** The Port keyword: 1-65535 or a service name. */
export function parsePortValue(arg: string): number {
  const port = asPort(arg);
  if (port <= 0) throw new RangeError(`bad port "${arg}"; expected 1-65535 or a service name`);
  return port;
}

/** One hop of a ProxyJump list. */
export interface JumpHop {
  user: string | undefined;
  host: string;
  /** Absent: the hop's own configuration (or 22) decides. */
  port: number | undefined;
  /** The hop as written in the list. */
  spec: string;
}

/** `%XX` and `+` decoded (misc.c's urldecode); undefined for a malformed escape. */
function urlDecode(s: string): string | undefined {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "+") out += " ";
    else if (c === "%") {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex) || hex === "00") return undefined;
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 2;
    } else out += c;
  }
  return out;
}

/** misc.c's valid_domain, for ssh:// hosts: letters, digits, `-`, `_`, `.`; no `..`. */
function validDomain(name: string): string | undefined {
  if (name === "" || !/^[A-Za-z0-9]/.test(name) || name.includes("..")) return undefined;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return undefined;
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/**
 * The host at the front of `s` and what follows its delimiter (misc.c's hpdelim2): a
 * bracketed `[…]` literal, or up to the first `:` or `/`.
 */
function splitHost(s: string): { host: string; delim: string; rest: string | undefined } | undefined {
  let end: number;
  if (s.startsWith("[")) {
    const close = s.indexOf("]");
    if (close < 0) return undefined;
    end = close + 1;
  } else {
    const m = /[:/]/.exec(s);
    end = m ? m.index : s.length;
  }
  const delim = s[end] ?? "";
  if (delim !== "" && delim !== ":" && delim !== "/") return undefined;
  let host = s.slice(0, end);
  // cleanhostname: the brackets of an address literal go.
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { host, delim, rest: delim === "" ? undefined : s.slice(end + 1) };
}

function parseSshUri(spec: string): JumpHop | undefined {
  let rest = spec.slice("ssh://".length);
  let user: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    // ;connection-parameters after the user name are ignored, as ssh ignores them.
    const info = rest.slice(0, at).split(";")[0]!;
    if (info === "") return undefined;
    user = urlDecode(info);
    if (user === undefined) return undefined;
    rest = rest.slice(at + 1);
  }
  const parts = splitHost(rest);
  if (!parts || parts.host === "") return undefined;
  const host = validDomain(parts.host);
  if (host === undefined) return undefined;
  let port: number | undefined;
  let tail = parts.rest;
  if (tail !== undefined && tail !== "" && parts.delim === ":") {
    const slash = tail.indexOf("/");
    const p = asPort(slash < 0 ? tail : tail.slice(0, slash));
    if (p <= 0) return undefined;
    port = p;
    tail = slash < 0 ? undefined : tail.slice(slash + 1);
  }
  // A path is not allowed in an ssh:// destination.
  if (tail !== undefined && tail !== "") return undefined;
  return { user, host, port, spec };
}

function parseUserHostPort(spec: string): JumpHop | undefined {
  let rest = spec;
  let user: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    user = rest.slice(0, at);
    if (user === "") return undefined;
    rest = rest.slice(at + 1);
  }
  const parts = splitHost(rest);
  // ssh's hpdelim insists on ":" before a port.
  if (!parts || parts.host === "" || parts.delim === "/") return undefined;
  let port: number | undefined;
  if (parts.rest !== undefined && parts.rest !== "") {
    const p = asPort(parts.rest);
    if (p <= 0) return undefined;
    port = p;
  }
  return { user, host: parts.host, port, spec };
}

/** One ProxyJump hop, or undefined when ssh would call it invalid. */
export function parseJumpHop(spec: string): JumpHop | undefined {
  return spec.startsWith("ssh://") ? parseSshUri(spec) : parseUserHostPort(spec);
}

/**
 * A ProxyJump value: `none` (no jump: an empty list) or comma-separated hops, first hop
 * first. A `#` ends the list, as readconf.c's parse_jump strips comments.
 */
export function parseJumpList(arg: string): JumpHop[] {
  if (arg.toLowerCase() === "none") return [];
  const text = arg.replace(/#.*/, "").replace(/[ \t\r\n]+$/, "");
  const hops: JumpHop[] = [];
  for (const part of text.split(",")) {
    const hop = parseJumpHop(part);
    if (!hop) throw new RangeError(`invalid ProxyJump "${arg}"; expected [user@]host[:port] hops separated by commas`);
    hops.push(hop);
  }
  return hops;
}
