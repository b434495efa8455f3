/**
 * Tunnel targets: what `tunnel open TARGET` reaches through the bastion.
 *
 * TARGET is an environment variable name (its value a service URL), a literal URL, or
 * `host:port`. URL schemes carry their default ports; a rewritten URL keeps credentials,
 * path and query and swaps host and port for the local end of the tunnel.
 */

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

export interface Target {
  /** What the user typed (a variable name, URL or host:port). */
  spec: string;
  /** The environment variable the URL came from, if any. */
  variable: string | undefined;
  host: string;
  port: number;
  /** The service URL, when the target was one. */
  url: URL | undefined;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Resolves TARGET. `env` is the merged environment (process env over .env files).
 * Throws `TypeError` with a one-line message saying what was wrong and what was expected.
 */
export function resolveTarget(spec: string, env: Readonly<Record<string, string | undefined>>): Target {
  const s = spec.trim();
  if (s === "") throw new TypeError("empty target; expected an environment variable name, a URL or host:port");
  if (ENV_NAME.test(s)) {
    const value = env[s];
    if (value === undefined || value.trim() === "") {
      throw new TypeError(
        `environment variable ${s} is not set; expected it to hold a service URL (set it, or use --env-file)`,
      );
    }
    const t = parseTargetValue(value.trim(), `${s}`);
    return { ...t, spec: s, variable: s };
  }
  return { ...parseTargetValue(s, `target "${s}"`), spec: s, variable: undefined };
}

function parseTargetValue(value: string, what: string): Omit<Target, "spec" | "variable"> {
  if (value.includes("://")) return parseUrlTarget(value, what);
  const m = /^(\[[^\]]+\]|[^:/\s]+):(\d+)$/.exec(value);
  if (!m) throw new TypeError(`${what}: "${mask(value)}" is not a URL or host:port`);
  const host = (m[1] as string).replace(/^\[|\]$/g, "");
  return { host, port: checkPort(m[2] as string, what), url: undefined };
}

function parseUrlTarget(value: string, what: string): Omit<Target, "spec" | "variable"> {
  const scheme = value.slice(0, value.indexOf("://")).toLowerCase();
  if (scheme === "mongodb+srv") {
    throw new TypeError(
      `${what}: mongodb+srv URLs resolve hosts through DNS SRV records and cannot be tunnelled; use a mongodb:// URL with one host`,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Multi-host URLs (mongodb://a:1,b:2/db) fail WHATWG parsing; say so clearly.
    const authority = value.slice(value.indexOf("://") + 3).split(/[/?#]/)[0] ?? "";
    if (authority.replace(/^.*@/, "").includes(",")) {
      throw new TypeError(
        `${what}: URLs with several hosts are not supported; expected one host (a tunnel reaches one address)`,
      );
    }
    throw new TypeError(`${what}: "${mask(value)}" is not a valid URL`);
  }
  if (url.hostname.includes(",")) {
    throw new TypeError(
      `${what}: URLs with several hosts are not supported; expected one host (a tunnel reaches one address)`,
    );
  }
  if (url.hostname === "") throw new TypeError(`${what}: URL "${mask(value)}" has no host`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let port: number;
  if (url.port !== "") port = Number(url.port);
  else if (hasExplicitPort(value)) port = DEFAULT_PORTS[scheme] ?? 0;
  else {
    const d = DEFAULT_PORTS[scheme];
    if (d === undefined)
      throw new TypeError(`${what}: scheme "${scheme}" has no default port; expected ${scheme}://host:port`);
    port = d;
  }
  if (port === 0)
    throw new TypeError(`${what}: scheme "${scheme}" has no default port; expected ${scheme}://host:port`);
  return { host, port, url };
}

/** The WHATWG parser drops a port equal to the special scheme's default (http:80): keep it. */
function hasExplicitPort(value: string): boolean {
  const authority = value.slice(value.indexOf("://") + 3).split(/[/?#]/)[0] ?? "";
  return /:\d+$/.test(authority.replace(/^.*@/, ""));
}

function checkPort(text: string, what: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new TypeError(`${what}: port ${text} is out of range; expected 1-65535`);
  return port;
}

/**
 * The URL a local client should use: host and port replaced by the local end, everything
 * else kept. Built by string surgery so schemes the WHATWG parser treats specially keep
 * their exact form. `masked` hides the password.
 */
export function rewriteUrl(target: Target, localHost: string, localPort: number, masked = false): string | undefined {
  const url = target.url;
  if (!url) return undefined;
  const original = url.href;
  const scheme = original.slice(0, original.indexOf("://"));
  const rest = original.slice(original.indexOf("://") + 3);
  const authEnd = rest.search(/[/?#]/);
  const authority = authEnd < 0 ? rest : rest.slice(0, authEnd);
  const tail = authEnd < 0 ? "" : rest.slice(authEnd);
  const at = authority.lastIndexOf("@");
  let userinfo = at >= 0 ? authority.slice(0, at + 1) : "";
  if (masked && url.password !== "") userinfo = `${url.username}:****@`;
  const hostPart = localHost.includes(":") ? `[${localHost}]` : localHost;
  return `${scheme}://${userinfo}${hostPart}:${localPort}${tail}`;
}

/** A URL-ish string with its password hidden, for messages. */
export function mask(value: string): string {
  return value.replace(/(\/\/[^:/@\s]*:)[^@/\s]*@/, "$1****@");
}

/** Parses a .env file: KEY=VALUE lines, `export` prefix, quotes, `#` comments. */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new TypeError(`${file}:${i + 1}: expected KEY=VALUE, got "${mask(line.slice(0, 60))}"`);
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
