/**
 * Tunnel targets: what `tunnel open TARGET` reaches through the bastion.
 *
 * TARGET is an environment variable name (its value a service URL), a literal URL, or
 * `host:port`. URL schemes carry their default ports; a rewritten URL keeps credentials,
 * path and query and swaps host and port for the local end of the tunnel.
 *
 * URLs are split as RFC 3986 §3.2 says, by hand rather than by the WHATWG parser (which
 * treats some schemes specially and rewrites what it parses): the authority ends at the first
 * `/`, `?` or `#`; the host starts after the last `@` in it (a raw `@` in a password is taken
 * as libpq and browsers take it); user name and password are percent-decoded (§2.1). A raw
 * `/`, `?` or `#` in a password ends the authority early and would send the tunnel to a host
 * made of the user name — such a URL has an `@` after its authority, and is refused with a
 * line saying how to encode it (a raw `@` in a path or query is refused with it: the two
 * cannot be told apart, and written %40 it passes). The password never appears in a
 * message: errors show URLs through `mask`, and the rewritten URL people see has it as
 * `****`; only the full rewritten URL (`--json`) carries it, as the user gave it.
 */
import { type OptionNames, optionName } from "./option-names.ts";

/** Default ports by scheme (IANA / each server's documentation). */
export const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  postgres: 5432,
  postgresql: 5432,
  mysql: 3306,
  mariadb: 3306,
  mongodb: 27017,
  redis: 6379,
  rediss: 6379,
  amqp: 5672,
  amqps: 5671,
  http: 80,
  https: 443,
};

/** A service URL, split per RFC 3986. */
export interface ServiceUrl {
  /** The URL exactly as given, password included: never put it in a message. */
  href: string;
  /** The scheme as written (its lower-case form picks the default port). */
  scheme: string;
  /** The userinfo as written (still percent-encoded), when the URL has one. */
  userinfo: string | undefined;
  /** The user name, percent-decoded; undefined without userinfo. */
  user: string | undefined;
  /** The password, percent-decoded; undefined when none was given. Never put it in a message. */
  password: string | undefined;
  /** Path, query and fragment as written. */
  tail: string;
}

/** A service to reach: host and port, and the URL and variable it came from. */
export interface Target {
  /** What the user typed (a variable name, URL or host:port). */
  spec: string;
  /** The environment variable the URL came from, if any. */
  variable: string | undefined;
  /** The service's host name or address (an IPv6 address without brackets). */
  host: string;
  /** Its port: as written, else the URL scheme's default (`DEFAULT_PORTS`). */
  port: number;
  /** The service URL, when the target was one. */
  url: ServiceUrl | undefined;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Resolves TARGET. `env` is the merged environment (process env over .env files).
 * Throws `TypeError` with a one-line message saying what was wrong and what was expected
 * (naming options as `names` says, option-names.ts); no message contains a password.
 */
export function resolveTarget(
  spec: string,
  env: Readonly<Record<string, string | undefined>>,
  names?: OptionNames,
): Target {
  const s = spec.trim();
  if (s === "") throw new TypeError("empty target; expected an environment variable name, a URL or host:port");
  if (ENV_NAME.test(s)) {
    const value = env[s];
    if (value === undefined || value.trim() === "") {
      throw new TypeError(
        `environment variable ${s} is not set; expected it to hold a service URL (set it, or use ${optionName(names, "envFile")})`,
      );
    }
    const t = parseTargetValue(value.trim(), `${s}`);
    return { ...t, spec: s, variable: s };
  }
  return { ...parseTargetValue(s, `target "${mask(s)}"`), spec: s, variable: undefined };
}

function parseTargetValue(value: string, what: string): Omit<Target, "spec" | "variable"> {
  if (value.includes("://")) return parseUrlTarget(value, what);
  // An IPv6 address in brackets, or a host with no bracket at all: a lone "[" or "]" used to
  // be stripped, leaving "]:80" a target with an empty host (found by test/fuzz/).
  const m = /^(?:\[([^\]]+)\]|([^:/\s[\]]+)):(\d+)$/.exec(value);
  if (!m) throw new TypeError(`${what}: "${mask(value)}" is not a URL or host:port`);
  const host = (m[1] ?? m[2]) as string;
  return { host, port: checkPort(m[3] as string, what), url: undefined };
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
/** RFC 3986 §3.2.2 reg-name without percent-encoding: unreserved and sub-delims, minus `,` (lists of hosts). */
const REG_NAME = /^[A-Za-z0-9\-._~!$&'()*+;=]+$/;
/** An IPv6 address inside brackets, with an RFC 6874 zone (`%25eth0`) allowed. */
const IPV6 = /^[0-9A-Fa-f:.]+(?:%25[A-Za-z0-9\-._~]+)?$/;
const SEVERAL_HOSTS = "URLs with several hosts are not supported; expected one host (a tunnel reaches one address)";

function parseUrlTarget(value: string, what: string): Omit<Target, "spec" | "variable"> {
  const sep = value.indexOf("://");
  const scheme = value.slice(0, sep);
  const lower = scheme.toLowerCase();
  if (lower === "mongodb+srv") {
    throw new TypeError(
      `${what}: mongodb+srv URLs resolve hosts through DNS SRV records and cannot be tunnelled; use a mongodb:// URL with one host`,
    );
  }
  if (!SCHEME.test(scheme)) {
    throw new TypeError(`${what}: "${mask(value)}" is not a valid URL; expected scheme://host:port`);
  }
  if (/[\s\x00-\x1f\x7f]/.test(value)) {
    throw new TypeError(`${what}: the URL contains a space or control character; percent-encode it (a space is %20)`);
  }
  const rest = value.slice(sep + 3);
  // RFC 3986 §3.2: the authority ends at the first "/", "?" or "#".
  const authEnd = rest.search(/[/?#]/);
  const authority = authEnd < 0 ? rest : rest.slice(0, authEnd);
  const tail = authEnd < 0 ? "" : rest.slice(authEnd);
  if (tail.includes("@")) {
    throw new TypeError(
      `${what}: the URL has an "@" after its host; if the user name or password contains "/", "?" or "#", write them as %2F, %3F and %23 (and an "@" in the path or query as %40)`,
    );
  }
  const at = authority.lastIndexOf("@");
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  let user: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    // RFC 3986 §3.2.1: the user name ends at the first ":"; the password may hold more.
    const colon = userinfo.indexOf(":");
    user = percentDecode(colon < 0 ? userinfo : userinfo.slice(0, colon), "user name", what);
    if (colon >= 0) password = percentDecode(userinfo.slice(colon + 1), "password", what);
  }
  if (hostPort.includes(",")) throw new TypeError(`${what}: ${SEVERAL_HOSTS}`);
  const { host, portText } = splitHostPort(hostPort, what);
  let port: number;
  if (portText !== undefined && portText !== "") {
    // The port is never quoted: with a raw "/" or "#" in a password it could be part of it.
    if (!/^\d+$/.test(portText))
      throw new TypeError(`${what}: the URL's port is not a number; expected ${lower}://host:port`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw new TypeError(`${what}: the URL's port is out of range; expected 1-65535`);
  } else {
    // RFC 3986 §3.2.3: no port, or an empty one, means the scheme's default.
    const d = DEFAULT_PORTS[lower];
    if (d === undefined)
      throw new TypeError(`${what}: scheme "${scheme}" has no default port; expected ${scheme}://host:port`);
    port = d;
  }
  return { host, port, url: { href: value, scheme, userinfo, user, password, tail } };
}

function splitHostPort(hostPort: string, what: string): { host: string; portText: string | undefined } {
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    const inside = close < 0 ? "" : hostPort.slice(1, close);
    const after = close < 0 ? "" : hostPort.slice(close + 1);
    if (close < 0 || !IPV6.test(inside) || (after !== "" && !after.startsWith(":"))) {
      throw new TypeError(
        `${what}: "${hostPort.slice(0, 60)}" is not an IPv6 address in brackets; expected [address]:port`,
      );
    }
    return { host: inside.replace("%25", "%"), portText: after === "" ? undefined : after.slice(1) };
  }
  const colon = hostPort.indexOf(":");
  if (colon >= 0 && hostPort.indexOf(":", colon + 1) >= 0) {
    throw new TypeError(`${what}: an IPv6 address in a URL goes in brackets; expected scheme://[address]:port`);
  }
  const raw = colon < 0 ? hostPort : hostPort.slice(0, colon);
  if (raw === "") throw new TypeError(`${what}: the URL has no host; expected scheme://host:port`);
  const host = percentDecode(raw, "host", what);
  if (!REG_NAME.test(host)) {
    throw new TypeError(
      `${what}: "${raw.slice(0, 60)}" is not a host name; expected letters, digits, "-" and "." (international names in their xn-- form)`,
    );
  }
  return { host, portText: colon < 0 ? undefined : hostPort.slice(colon + 1) };
}

/** RFC 3986 §2.1 percent-decoding, then UTF-8 (§2.5). Errors name the field, never its value. */
function percentDecode(raw: string, field: string, what: string): string {
  if (!raw.includes("%")) return raw;
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) {
    throw new TypeError(
      `${what}: the URL's ${field} has a "%" not followed by two hex digits; write "%" itself as %25`,
    );
  }
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new TypeError(`${what}: the URL's ${field} is not UTF-8 once percent-decoded`);
  }
}

function checkPort(text: string, what: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new TypeError(`${what}: port ${text} is out of range; expected 1-65535`);
  return port;
}

/**
 * The URL a local client should use: host and port replaced by the local end, everything
 * else kept as the user wrote it. `masked` (for people) shows the password as `****`, also in
 * a `password=` query parameter; unmasked (for `--json`) it is the URL the user asked for.
 */
export function rewriteUrl(target: Target, localHost: string, localPort: number, masked = false): string | undefined {
  const url = target.url;
  if (!url) return undefined;
  let userinfo = url.userinfo === undefined ? "" : `${url.userinfo}@`;
  if (masked && url.userinfo !== undefined && url.password) {
    userinfo = `${url.userinfo.slice(0, url.userinfo.indexOf(":"))}:****@`;
  }
  const hostPart = localHost.includes(":") ? `[${localHost}]` : localHost;
  const tail = masked ? maskQueryPassword(url.tail) : url.tail;
  return `${url.scheme}://${userinfo}${hostPart}:${localPort}${tail}`;
}

/**
 * A URL-ish string with its password hidden, for messages: everything between the user name's
 * end and the last `@` becomes `****` (the password, wherever a raw `@`, `/` or `#` in it
 * would make a parser stop), and so does a `password=` query parameter.
 */
export function mask(value: string): string {
  const sep = value.indexOf("://");
  const start = sep < 0 ? 0 : sep + 3;
  const at = value.lastIndexOf("@");
  let out = value;
  if (at >= start) {
    const colon = value.indexOf(":", start);
    if (colon >= 0 && colon < at) out = `${value.slice(0, colon)}:****${value.slice(at)}`;
  }
  return maskQueryPassword(out);
}

function maskQueryPassword(s: string): string {
  return s.replace(/([?&;](?:ssl)?password=)[^&;#]*/gi, "$1****");
}

/** Parses a .env file: KEY=VALUE lines, `export` prefix, quotes, `#` comments. */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new TypeError(`${file}:${i + 1}: expected KEY=VALUE, got "${mask(line).slice(0, 60)}"`);
    let v = (m[2] as string).trim();
    if (
      (v.startsWith('"') && v.endsWith('"') && v.length >= 2) ||
      (v.startsWith("'") && v.endsWith("'") && v.length >= 2)
    ) {
      const quote = v[0];
      v = v.slice(1, -1);
      if (quote === '"') v = v.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    } else {
      v = v.replace(/\s+#.*$/, "");
    }
    out[m[1] as string] = v;
  }
  return out;
}
