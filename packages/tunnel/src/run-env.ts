/**
 * `tunnel run`: which variable each tunnel's local address goes into, for the command it runs.
 *
 * TARGET is `NAME` (an environment variable holding a service URL or host:port, as for
 * `tunnel open`) or `NAME=URL` / `NAME=host:port` (the target written out, the variable
 * named). The command finds in NAME the same URL with host and port swapped for the local end
 * of the tunnel (credentials, path and query kept), or `127.0.0.1:PORT` where the target was
 * host:port. A URL or host:port with no name is refused: the command would have no way to
 * learn where its tunnel is.
 *
 * libpq's clients (psql, pg_dump) read no URL variable but PGHOST, PGPORT and friends: when
 * exactly one target is a postgres:// URL, the command also gets those, from the rewritten
 * URL (PGHOST, PGPORT; PGUSER, PGPASSWORD, PGDATABASE and PGSSLMODE where the URL has them),
 * so `tunnel run DATABASE_URL -- psql -c 'select 1'` needs no connection arguments.
 */
import type { OpenedTarget } from "./open.ts";
import type { OptionNames } from "./option-names.ts";
import { mask, resolveTarget, type Target } from "./target.ts";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A target of `tunnel run` with the variable that will hold its local address. */
export interface RunTarget extends Target {
  variable: string;
}

/** One TARGET of `tunnel run`; errors name options as `names` says (option-names.ts). */
export function resolveRunTarget(
  spec: string,
  env: Readonly<Record<string, string | undefined>>,
  names?: OptionNames,
): RunTarget {
  const eq = spec.indexOf("=");
  if (eq > 0 && ENV_NAME.test(spec.slice(0, eq))) {
    const variable = spec.slice(0, eq);
    const value = spec.slice(eq + 1);
    if (ENV_NAME.test(value.trim())) {
      throw new TypeError(
        `${variable}=${value}: expected a URL or host:port after "="; to take another variable's value, write ${value.trim()} alone`,
      );
    }
    return { ...resolveTarget(value, env, names), variable };
  }
  const t = resolveTarget(spec, env, names);
  if (t.variable === undefined) {
    const example = t.url ? "DATABASE_URL" : "REDIS_ADDR";
    throw new TypeError(
      `"${mask(spec)}" names no variable for the command to find its local address in; ` +
        `write it as NAME=${mask(spec)} (e.g. ${example}=${mask(spec)}: the command then reads the local address from $${example})`,
    );
  }
  return { ...t, variable: t.variable };
}

/** Resolves every TARGET of `tunnel run`; one variable may be named once. */
export function resolveRunTargets(
  specs: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  names?: OptionNames,
): RunTarget[] {
  const seen = new Set<string>();
  return specs.map((spec) => {
    const t = resolveRunTarget(spec, env, names);
    if (seen.has(t.variable)) throw new TypeError(`${t.variable} is named twice; expected each variable once`);
    seen.add(t.variable);
    return t;
  });
}

const POSTGRES = new Set(["postgres", "postgresql"]);

/** What the command gets: each variable set to its tunnel's local URL, or `host:port`; libpq's for one postgres URL. */
export function runVariables(opened: readonly OpenedTarget[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of opened) {
    const variable = o.target.variable;
    if (variable === undefined) continue;
    const hostPart = o.localHost.includes(":") ? `[${o.localHost}]` : o.localHost;
    out[variable] = o.url ?? `${hostPart}:${o.localPort}`;
  }
  const pg = opened.filter((o) => POSTGRES.has(o.target.url?.scheme.toLowerCase() ?? ""));
  if (pg.length === 1) Object.assign(out, libpqVariables(pg[0] as OpenedTarget));
  return out;
}

/** PGHOST and friends (libpq's environment variables) for a postgres URL's local end. */
export function libpqVariables(o: OpenedTarget): Record<string, string> {
  const url = o.target.url;
  const out: Record<string, string> = { PGHOST: o.localHost, PGPORT: String(o.localPort) };
  if (!url) return out;
  if (url.user) out.PGUSER = url.user;
  if (url.password !== undefined) out.PGPASSWORD = url.password;
  const path = url.tail.replace(/[?#].*$/s, "").replace(/^\//, "");
  const query = /\?([^#]*)/.exec(url.tail)?.[1] ?? "";
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if (path !== "") out.PGDATABASE = decode(path);
  for (const pair of query.split("&")) {
    const [k, v] = pair.split("=");
    if (k === "sslmode" && v) out.PGSSLMODE = decode(v);
  }
  return out;
}
