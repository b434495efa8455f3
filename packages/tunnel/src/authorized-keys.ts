/**
 * authorized_keys for `tunnel serve`: the file format and key options of sshd(8), AUTHORIZED_KEYS
 * FILE FORMAT, with OpenSSH's meaning for every option a forwarding-only server can honour:
 *
 * - `restrict` turns port forwarding off (and agent and X11 forwarding, pty, user-rc, which this
 *   server never offers); an option after it may turn forwarding back on;
 * - `port-forwarding` / `no-port-forwarding` turn both kinds of forwarding (direct-tcpip and
 *   tcpip-forward, RFC 4254 §7) on / off; of these and `restrict`, the last one written wins;
 * - `permitopen="host:port"` (repeatable): where direct-tcpip may connect; host literal (no
 *   lookup, no patterns; `*` any host), port a number or `*`; IPv6 in brackets;
 * - `permitlisten="[host:]port"` (repeatable): where remote forwards may listen; the host is a
 *   pattern (ssh_config(5) PATTERNS) matched against the address the client asked for, a bare
 *   port means any host, `*` any port (and only `*` matches a request for port 0);
 * - `from="pattern-list"`: the client's address must match — wildcards `*` and `?`, `!` to
 *   negate (a negated match refuses whatever else matches), CIDR `address/bits`; matched
 *   against the address only, as sshd does with UseDNS no;
 * - `expiry-time="YYYYMMDD[HHMM[SS]][Z]"`: the key is refused from that moment (local time,
 *   or UTC with `Z`); several: the earliest.
 *
 * Options that only permit what this server never does (pty, X11, agent forwarding, user-rc)
 * change nothing. Every other option — command=, environment=, tunnel=, principals=,
 * cert-authority, verify-required, a malformed value, one we do not know — makes the key
 * unusable, with one warning naming file:line and the option: a key is never accepted with a
 * restriction silently dropped.
 */
import { isCertificateType, type PublicKey, parseAuthorizedKeysLine, peerText, publicKeyEquals } from "@tunnel/ssh";
import { readNamedFile } from "./named-file.ts";
import { type OptionNames, optionName } from "./option-names.ts";

/** A host:port rule (permitopen, permitlisten, the server's `allow`). */
export interface HostPortRule {
  /** permitopen: a literal host or `*`; permitlisten: a pattern. Lower case for patterns. */
  host: string;
  port: number | "*";
}

/** One entry of a `from=` list. */
export interface AddressPattern {
  negated: boolean;
  /** A CIDR block (a plain address is a block of full length), or else a wildcard pattern. */
  cidr?: { bytes: Uint8Array; bits: number };
  glob?: string;
}

export interface KeyOptions {
  /** Both forwarding kinds: false after `restrict` or `no-port-forwarding` unless re-enabled. */
  portForwarding: boolean;
  /** undefined: any destination the server allows; otherwise only these. */
  permitOpen: readonly HostPortRule[] | undefined;
  /** undefined: any listen address and port the server grants; otherwise only these. */
  permitListen: readonly HostPortRule[] | undefined;
  /** undefined: from anywhere; otherwise the client's address must match. */
  from: readonly AddressPattern[] | undefined;
  /** Milliseconds since the epoch from which the key is refused. */
  expiresAt: number | undefined;
}

/** One usable authorized_keys line: the key, its options, and where it was read. */
export interface AuthorizedKey extends KeyOptions {
  /** The public key that may log in. */
  key: PublicKey;
  /** `file:line`, for messages. */
  source: string;
  /** Its line number in the file, from 1; 0 for an entry made from a user certificate. */
  line: number;
}

/** Options with nothing to do on a server that has no sessions, agent or X11. */
const HARMLESS = new Set([
  "no-pty",
  "pty",
  "no-x11-forwarding",
  "x11-forwarding",
  "no-agent-forwarding",
  "agent-forwarding",
  "no-user-rc",
  "user-rc",
  // FIDO keys (sk-*) relax a check: we take no FIDO keys at all, so nothing is relaxed.
  "no-touch-required",
]);

/** Why a key's options cannot be honoured as written (the key is then unusable). */
class OptionError extends TypeError {}

/**
 * Reads an authorized_keys file as sshd does; a line it cannot use is a `warn` line, never
 * fatal. Warnings name options as `names` says (option-names.ts).
 */
export function loadAuthorizedKeys(
  file: string,
  warn: (line: string) => void,
  now = Date.now(),
  names?: OptionNames,
): AuthorizedKey[] {
  return parseAuthorizedKeys(readNamedFile("authorized keys file", file), file, warn, now, names);
}

/** The usable keys of an authorized_keys text; one warning per line that is not usable. */
export function parseAuthorizedKeys(
  text: string,
  file: string,
  warn: (line: string) => void,
  now = Date.now(),
  names?: OptionNames,
): AuthorizedKey[] {
  const out: AuthorizedKey[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const source = `${file}:${i + 1}`;
    let parsed: ReturnType<typeof parseAuthorizedKeysLine>;
    try {
      parsed = parseAuthorizedKeysLine(line);
    } catch (err) {
      warn(`${source}: skipped: ${peerText((err as Error).message)}`);
      return;
    }
    if (isCertificateType(parsed.key.type)) {
      // sshd never matches a certificate written here: trust is given to its CA instead.
      warn(
        `${source}: skipped: a certificate is not an authorized key; trust its CA with ${optionName(names, "trustedUserCaKeys")}`,
      );
      return;
    }
    let options: KeyOptions;
    try {
      options = parseKeyOptions(parsed.options);
    } catch (err) {
      if (!(err instanceof OptionError)) throw err;
      warn(`${source}: key skipped: ${peerText(err.message)}`);
      return;
    }
    if (options.expiresAt !== undefined && options.expiresAt <= now) {
      warn(`${source}: key expired on ${new Date(options.expiresAt).toISOString()}; it will be refused`);
    }
    for (const p of options.from ?? []) {
      if (p.glob !== undefined && /[^0-9a-f:.*?]/.test(p.glob)) {
        warn(`${source}: from= pattern "${peerText(p.glob)}" names hosts; only client addresses are matched (no DNS)`);
      }
    }
    out.push({ key: parsed.key, source, line: i + 1, ...options });
  });
  return out;
}

/**
 * The options of one authorized_keys line, as `parseAuthorizedKeysLine` split them (values
 * still quoted). Throws a TypeError naming the option when the key cannot be used as written.
 */
export function parseKeyOptions(options: readonly string[]): KeyOptions {
  const o: {
    portForwarding: boolean;
    permitOpen: HostPortRule[] | undefined;
    permitListen: HostPortRule[] | undefined;
    from: AddressPattern[] | undefined;
    expiresAt: number | undefined;
  } = { portForwarding: true, permitOpen: undefined, permitListen: undefined, from: undefined, expiresAt: undefined };
  for (const opt of options) {
    const eq = opt.indexOf("=");
    const name = (eq < 0 ? opt : opt.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : dequote(name, opt.slice(eq + 1));
    const flag = () => {
      if (value !== undefined) throw new OptionError(`option "${name}" takes no value`);
    };
    const needValue = (): string => {
      if (value === undefined) throw new OptionError(`option "${name}" needs a value: ${name}="…"`);
      return value;
    };
    switch (name) {
      case "restrict":
      case "no-port-forwarding":
        flag();
        o.portForwarding = false;
        break;
      case "port-forwarding":
        flag();
        o.portForwarding = true;
        break;
      case "permitopen":
        o.permitOpen ??= [];
        o.permitOpen.push(parseHostPort(needValue(), "permitopen"));
        break;
      case "permitlisten":
        o.permitListen ??= [];
        o.permitListen.push(parseHostPort(needValue(), "permitlisten"));
        break;
      case "from":
        if (o.from)
          throw new OptionError('more than one from= option (sshd refuses that too): join the lists with ","');
        o.from = parseAddressPatterns(needValue());
        break;
      case "expiry-time": {
        const t = parseExpiryTime(needValue());
        if (o.expiresAt === undefined || t < o.expiresAt) o.expiresAt = t;
        break;
      }
      default:
        if (!HARMLESS.has(name)) throw new OptionError(`option "${name}" is not supported by tunnel serve`);
        flag();
    }
  }
  return o;
}

/** `"value"` → value, with `\"` inside for a quote (sshd(8): values are double-quoted). */
function dequote(name: string, raw: string): string {
  if (raw.length < 2 || !raw.startsWith('"') || !raw.endsWith('"')) {
    throw new OptionError(`option "${name}": the value must be in double quotes, e.g. ${name}="…"`);
  }
  return raw.slice(1, -1).replace(/\\"/g, '"');
}

/**
 * `host:port` (permitopen) or `[host:]port` (permitlisten, where a bare port means any host):
 * IPv6 hosts in brackets, ports 1–65535 or `*` (as sshd: 0 is not a port here). Returns the
 * rule, or what is wrong with the text.
 */
function hostPort(spec: string, barePort: boolean): HostPortRule | string {
  let host: string;
  let port: string;
  if (spec.startsWith("[")) {
    const close = spec.indexOf("]");
    if (close < 0 || spec[close + 1] !== ":") return "expected [IPv6 address]:port";
    host = spec.slice(1, close);
    port = spec.slice(close + 2);
  } else {
    const colon = spec.indexOf(":");
    if (colon < 0) {
      if (!barePort) return "expected host:port";
      host = "*";
      port = spec;
    } else {
      host = spec.slice(0, colon);
      port = spec.slice(colon + 1);
      if (port.includes(":")) return "an IPv6 address must be in brackets: [address]:port";
    }
  }
  if (host === "" || /[\s,"]/.test(host)) return "expected a host name or address before the port";
  // permitlisten hosts are patterns, matched without regard to case.
  const h = barePort ? host.toLowerCase() : host;
  if (port === "*") return { host: h, port: "*" };
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    return `"${port}" is not a port; expected 1-65535 or *`;
  }
  return { host: h, port: Number(port) };
}

/** permitopen="host:port" or permitlisten="[host:]port"; a TypeError naming the option if malformed. */
export function parseHostPort(spec: string, option: "permitopen" | "permitlisten"): HostPortRule {
  const r = hostPort(spec, option === "permitlisten");
  if (typeof r === "string") throw new OptionError(`${option}="${spec}": ${r}`);
  return r;
}

/**
 * The server's `allow` as text, `host:port,…`: the server-wide direct-tcpip destinations, in
 * permitopen's syntax. Errors name the option as `names` says (option-names.ts).
 */
export function parseAllowList(text: string, names?: OptionNames): HostPortRule[] {
  if (text.trim() === "") return [];
  return text.split(",").map((raw) => {
    const item = raw.trim();
    const r = hostPort(item, false);
    if (typeof r === "string") {
      throw new TypeError(
        `${optionName(names, "allow")}: "${item}": ${r}; expected host:port,… with * for any host or port`,
      );
    }
    return r;
  });
}

/**
 * permitopen (and the server's `allow`): the host as written or `*`, the port or `*` (sshd compares
 * hosts without lookup; DNS names are compared without regard to case).
 */
export function permitOpenAllows(rules: readonly HostPortRule[] | undefined, host: string, port: number): boolean {
  if (!rules) return true;
  return rules.some(
    (r) => (r.host === "*" || r.host.toLowerCase() === host.toLowerCase()) && (r.port === "*" || r.port === port),
  );
}

/** permitlisten: the requested address (lower case) against the host pattern; port exact or `*`. */
export function permitListenAllows(rules: readonly HostPortRule[] | undefined, address: string, port: number): boolean {
  if (!rules) return true;
  const a = address.toLowerCase();
  return rules.some((r) => (r.port === "*" || r.port === port) && globMatch(a, r.host));
}

// ---------------------------------------------------------------- from=

/** A `from=` pattern list: `pattern[,pattern…]`, each maybe `!`-negated. */
export function parseAddressPatterns(list: string): AddressPattern[] {
  const out: AddressPattern[] = [];
  for (const raw of list.split(",")) {
    const negated = raw.startsWith("!");
    const p = (negated ? raw.slice(1) : raw).trim().toLowerCase();
    if (p === "") throw new OptionError(`from="${list}": an empty pattern`);
    if (p.includes("/")) {
      const [addr = "", bits = ""] = p.split("/", 2);
      const bytes = parseIp(addr);
      if (!bytes) throw new OptionError(`from="${list}": "${p}" is not an address/bits block`);
      const n = /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
      if (n < 0 || n > bytes.length * 8) {
        throw new OptionError(`from="${list}": "${p}" has a prefix length outside 0-${bytes.length * 8}`);
      }
      if (!hostBitsZero(bytes, n)) throw new OptionError(`from="${list}": "${p}" has bits set past its /${n} prefix`);
      out.push({ negated, cidr: { bytes, bits: n } });
      continue;
    }
    const bytes = parseIp(p);
    if (bytes) out.push({ negated, cidr: { bytes, bits: bytes.length * 8 } });
    else out.push({ negated, glob: p });
  }
  return out;
}

/**
 * Does the client's address pass `from=`? A negated match refuses; otherwise any positive
 * match admits (ssh_config(5) PATTERNS).
 */
export function fromAllows(patterns: readonly AddressPattern[] | undefined, address: string): boolean {
  if (!patterns) return true;
  const text = normaliseAddress(address);
  const bytes = parseIp(text);
  let positive = false;
  for (const p of patterns) {
    const hit = p.cidr
      ? bytes !== undefined && inBlock(bytes, p.cidr.bytes, p.cidr.bits)
      : globMatch(text, p.glob ?? "");
    if (!hit) continue;
    if (p.negated) return false;
    positive = true;
  }
  return positive;
}

/** IPv4-mapped IPv6 (a dual-stack listener's view of an IPv4 client) as the IPv4 address. */
function normaliseAddress(address: string): string {
  const a = address.toLowerCase().replace(/%.*$/, "");
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return m ? (m[1] as string) : a;
}

function hostBitsZero(bytes: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    if (((bytes[i] as number) & ~mask & 0xff) !== 0) return false;
  }
  return true;
}

function inBlock(addr: Uint8Array, block: Uint8Array, bits: number): boolean {
  if (addr.length !== block.length) return false;
  for (let i = 0; i < addr.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((addr[i] as number) & mask) !== ((block[i] as number) & mask)) return false;
  }
  return true;
}

/** Dotted-quad IPv4 (4 bytes) or RFC 4291 §2.2 IPv6 text (16 bytes); undefined for anything else. */
export function parseIp(text: string): Uint8Array | undefined {
  const v4 = (s: string): number[] | undefined => {
    const parts = s.split(".");
    if (parts.length !== 4) return undefined;
    const out: number[] = [];
    for (const p of parts) {
      if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
      out.push(Number(p));
    }
    return out;
  };
  if (!text.includes(":")) {
    const b = v4(text);
    return b ? Uint8Array.from(b) : undefined;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const words = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    const groups = s.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] as string;
      if (i === groups.length - 1 && g.includes(".")) {
        const b = v4(g);
        if (!b) return undefined;
        out.push(((b[0] as number) << 8) | (b[1] as number), ((b[2] as number) << 8) | (b[3] as number));
      } else if (/^[0-9a-f]{1,4}$/i.test(g)) out.push(Number.parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = words(halves[0] as string);
  const tail = halves.length === 2 ? words(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** ssh_config(5) PATTERNS: `*` any run of characters, `?` exactly one; the whole string. */
export function globMatch(text: string, pattern: string): boolean {
  // Iterative with one backtrack point: linear in practice, never exponential.
  let t = 0;
  let p = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    const c = pattern[p];
    if (c === "?" || (c !== undefined && c !== "*" && c === text[t])) {
      t++;
      p++;
    } else if (c === "*") {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else return false;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

// ---------------------------------------------------------------- expiry-time=

/** `YYYYMMDD[HHMM[SS]][Z]`: local time, or UTC with Z (sshd(8) expiry-time). Milliseconds. */
export function parseExpiryTime(spec: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?([zZ])?$/.exec(spec);
  if (!m)
    throw new OptionError(`expiry-time="${spec}": expected YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, maybe with Z`);
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? "0", m[5] ?? "0", m[6] ?? "0"].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const utc = m[7] !== undefined;
  const date = utc ? new Date(Date.UTC(y, mo - 1, d, h, mi, s)) : new Date(y, mo - 1, d, h, mi, s);
  const back = utc
    ? [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes()]
    : [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes()];
  // Out-of-range fields (month 13, 30 February, hour 24) roll over in Date: refuse them instead.
  // (A local time skipped by a daylight-saving change rolls over too, and is refused the same way.)
  if (back.join(",") !== [y, mo, d, h, mi].join(",") || s > 59) {
    throw new OptionError(`expiry-time="${spec}": not a valid date and time`);
  }
  return date.getTime();
}

// ---------------------------------------------------------------- matching a login

export type KeyMatch = { entry: AuthorizedKey; refusals: string[] } | { entry: undefined; refusals: string[] };

/**
 * The first line for this key whose `from=` and `expiry-time=` admit this client now (sshd
 * reads on past a line its options refuse); `refusals` says why earlier lines for the same
 * key did not.
 */
export function matchAuthorizedKey(
  keys: readonly AuthorizedKey[],
  key: PublicKey,
  address: string,
  now = Date.now(),
): KeyMatch {
  const refusals: string[] = [];
  for (const k of keys) {
    if (!publicKeyEquals(k.key, key)) continue;
    if (k.expiresAt !== undefined && now >= k.expiresAt) {
      refusals.push(`${k.source}: the key expired on ${new Date(k.expiresAt).toISOString()}`);
      continue;
    }
    if (!fromAllows(k.from, address)) {
      refusals.push(`${k.source}: from= does not admit ${address}`);
      continue;
    }
    return { entry: k, refusals };
  }
  return { entry: undefined, refusals };
}

/** The first line for this key, whatever its options (for callers without a client address). */
export function findAuthorizedKey(keys: readonly AuthorizedKey[], key: PublicKey): AuthorizedKey | undefined {
  return keys.find((k) => publicKeyEquals(k.key, key));
}
