/**
 * Expansions in ssh_config(5) values (its TOKENS and ENVIRONMENT VARIABLES sections), as
 * OpenSSH's misc.c does them: a leading `~` or `~user` (tilde_expand), then `%x` tokens and
 * `${VAR}` in one left-to-right pass (vdollar_percent_expand), replacements never re-read.
 * An unknown token, a `%` at the end, or an unset variable is an error, as in ssh.
 */
import { createHash } from "node:crypto";
import { findPasswdEntry } from "../local-user.ts";

/** The values behind the tokens, for one destination. */
export interface TokenValues {
  /** %h: the remote host name after HostName. */
  host: string;
  /** %n: the host as given on the command line. */
  originalHost: string;
  /** %p */
  port: number;
  /** %r: the remote user name. */
  user: string;
  /** %k: HostKeyAlias if set, else the original host. */
  hostKeyAlias: string;
  /** %u */
  localUser: string;
  /** %d */
  home: string;
  /** %i */
  uid: number;
  /** %l (gethostname); %L is its first label. */
  localHostname: string;
}

/** Tokens of CertificateFile, IdentityAgent, IdentityFile, UserKnownHostsFile (and ControlPath…). */
export const FILE_TOKENS = "CdhikLlnpru";
/** Tokens of HostName. */
export const HOSTNAME_TOKENS = "h";
/** Tokens of ProxyCommand and ProxyJump. */
export const PROXY_TOKENS = "hnpr";

/** %C: SHA-1 of %l%h%p%r, in hex (OpenSSH 9.2; later versions add the ProxyJump). */
export function connectionHash(v: TokenValues): string {
  return createHash("sha1").update(`${v.localHostname}${v.host}${v.port}${v.user}`).digest("hex");
}

/** The value of a `%x` token, or undefined for a key outside `allowed`. */
export type TokenLookup = (key: string) => string | undefined;

/** Looks tokens up in `v`, allowing only the keys in `allowed` (e.g. FILE_TOKENS). */
export function tokenLookup(v: TokenValues, allowed: string): TokenLookup {
  return (key) => {
    if (!allowed.includes(key)) return undefined;
    switch (key) {
      case "C":
        return connectionHash(v);
      case "d":
        return v.home;
      case "h":
        return v.host;
      case "i":
        return String(v.uid);
      case "k":
        return v.hostKeyAlias;
      case "L":
        return v.localHostname.split(".")[0] ?? "";
      case "l":
        return v.localHostname;
      case "n":
        return v.originalHost;
      case "p":
        return String(v.port);
      case "r":
        return v.user;
      case "u":
        return v.localUser;
      default:
        return undefined;
    }
  };
}

/**
 * `%x` tokens and (with `env`, for the keywords that allow it) `${VAR}` expanded in one
 * pass. Throws `RangeError` naming the problem: an unknown token, a lone `%` at the end, an
 * unset or unterminated variable.
 */
export function expandTokens(
  s: string,
  lookup: TokenLookup,
  env?: Readonly<Record<string, string | undefined>> | undefined,
): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (env && c === "$" && s[i + 1] === "{") {
      const end = s.indexOf("}", i + 2);
      if (end < 0) throw new RangeError(`environment variable "${s.slice(i + 2)}" has no closing "}"`);
      const name = s.slice(i + 2, end);
      if (name === "") throw new RangeError(`empty environment variable name "$\{}"`);
      const value = env[name];
      if (value === undefined) throw new RangeError(`environment variable \${${name}} is not set`);
      out += value;
      i = end;
      continue;
    }
    if (c !== "%") {
      out += c;
      continue;
    }
    const key = s[i + 1];
    i++;
    if (key === "%") {
      out += "%";
      continue;
    }
    if (key === undefined) throw new RangeError(`"%" at the end of "${s}"; write %% for a literal %`);
    const value = lookup(key);
    if (value === undefined) throw new RangeError(`unknown token %${key} in "${s}"`);
    out += value;
  }
  return out;
}

/** A user's home directory from the passwd file (getpwnam's answer), or undefined. */
export function homeOfUser(name: string): string | undefined {
  return findPasswdEntry((e) => e.name === name)?.home;
}

/**
 * A leading `~` (our home) or `~user` (theirs), with misc.c's tilde_expand spelling: the
 * result always has one `/` after the home directory, so `~` alone is `HOME/`.
 */
export function expandTilde(s: string, home: string, lookupHome: (user: string) => string | undefined = homeOfUser) {
  if (!s.startsWith("~")) return s;
  const rest = s.slice(1);
  const slash = rest.indexOf("/");
  const user = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash).replace(/^\/+/, "");
  let dir = home;
  if (user !== "") {
    const found = lookupHome(user);
    if (found === undefined) throw new RangeError(`no such user "${user}" in "${s}"`);
    dir = found;
  }
  return `${dir}${dir.endsWith("/") ? "" : "/"}${path}`;
}
