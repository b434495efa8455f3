/**
 * A destination's resolved ssh_config settings, in the form the engine uses: host, user and
 * port always filled (ssh's defaults where no file says otherwise: port 22, the local user),
 * other settings present only when a file (or the command line) set them, paths expanded as
 * ssh expands them (`~`, `%` tokens, `${VAR}` for IdentityFile, CertificateFile,
 * IdentityAgent, UserKnownHostsFile; GlobalKnownHostsFile is taken as written, as ssh does).
 * Each value keeps the file and line it came from, for `--verbose` and for messages.
 */
import type { SettingName } from "./keywords.ts";
import type { LocalContext } from "./resolve.ts";
import type { AppliedLine, ConfigOrigin, ProxySetting, SettingsState, SettingValues, Sourced } from "./settings.ts";
import { expandTilde, expandTokens, FILE_TOKENS, PROXY_TOKENS, type TokenValues, tokenLookup } from "./tokens.ts";
import type { AddressFamily, StrictHostKeyChecking } from "./values.ts";

/** A path setting: as written, and expanded. */
export interface ConfigPath {
  raw: string;
  path: string;
  origin: ConfigOrigin;
}

export interface SshHostConfig {
  /** The host as given (%n). */
  originalHost: string;
  /** The host to connect to (%h): HostName, lower-cased, numeric addresses canonical. */
  hostname: string;
  user: string;
  port: number;
  identityFiles: ConfigPath[];
  certificateFiles: ConfigPath[];
  identitiesOnly?: boolean | undefined;
  /** Expanded; `none`, `SSH_AUTH_SOCK` and `$VAR` as written. */
  identityAgent?: string | undefined;
  /** ProxyJump or ProxyCommand, whichever came first; `{ kind: "none" }` when set to none. */
  proxy?: ProxySetting | undefined;
  /** Expanded; `none` as written. */
  userKnownHostsFiles?: string[] | undefined;
  globalKnownHostsFiles?: string[] | undefined;
  strictHostKeyChecking?: StrictHostKeyChecking | undefined;
  hostKeyAlias?: string | undefined;
  /** Seconds. */
  serverAliveInterval?: number | undefined;
  serverAliveCountMax?: number | undefined;
  /** Seconds. */
  connectTimeout?: number | undefined;
  ciphers?: string | undefined;
  kexAlgorithms?: string | undefined;
  hostKeyAlgorithms?: string | undefined;
  macs?: string | undefined;
  pubkeyAcceptedAlgorithms?: string | undefined;
  preferredAuthentications?: string | undefined;
  passwordAuthentication?: boolean | undefined;
  kbdInteractiveAuthentication?: boolean | undefined;
  batchMode?: boolean | undefined;
  addressFamily?: AddressFamily | undefined;
  /** Where each value came from (file 'command line', line 0, for what the command line fixed). */
  origins: Partial<Record<SettingName, ConfigOrigin>>;
  /** The lines that took effect, in the order read: blocks entered and settings used. */
  applied: AppliedLine[];
  /** Things we did differently from ssh, one line each, naming file:line. */
  warnings: string[];
  /** The files read, in order. */
  files: string[];
  /** What the `%` tokens stand for with this destination. */
  tokens: TokenValues;
}

class ExpansionError extends TypeError {
  constructor(origin: ConfigOrigin, message: string) {
    super(`${origin.file}:${origin.line}: ${message}`);
    this.name = "SshConfigError";
  }
}

/** A path setting's value expanded: `~` first, then tokens and `${VAR}` (ssh.c's order). */
export function expandConfigPath(raw: string, tokens: TokenValues, env: Readonly<Record<string, string | undefined>>) {
  return expandTokens(expandTilde(raw, tokens.home), tokenLookup(tokens, FILE_TOKENS), env);
}

export function settingsToConfig(
  state: SettingsState,
  r: { originalHost: string; hostname: string; ctx: LocalContext; files: string[]; warnings: string[] },
): SshHostConfig {
  const user = state.value("user") ?? r.ctx.localUser;
  const port = state.value("port") ?? 22;
  const alias = state.value("hostkeyalias");
  const tokens: TokenValues = {
    host: r.hostname,
    originalHost: r.originalHost,
    port,
    user,
    hostKeyAlias: alias ?? r.originalHost,
    localUser: r.ctx.localUser,
    home: r.ctx.home,
    uid: r.ctx.uid,
    localHostname: r.ctx.localHostname,
  };
  const expand = (s: Sourced<string>): ConfigPath => {
    try {
      return { raw: s.value, path: expandConfigPath(s.value, tokens, r.ctx.env), origin: s.origin };
    } catch (err) {
      throw new ExpansionError(s.origin, (err as Error).message);
    }
  };
  const origins: Partial<Record<SettingName, ConfigOrigin>> = {};
  const v = <K extends keyof SettingValues>(k: K): SettingValues[K] | undefined => {
    const s = state.get(k);
    if (s) origins[k] = s.origin;
    return s?.value;
  };
  const knownHosts = state.get("userknownhostsfile");
  const agent = state.get("identityagent");
  if (state.proxy) {
    origins[state.proxy.value.kind === "command" ? "proxycommand" : "proxyjump"] = state.proxy.origin;
  }
  return {
    originalHost: r.originalHost,
    hostname: r.hostname,
    user,
    port,
    identityFiles: state.identityFiles.map(expand),
    certificateFiles: state.certificateFiles.map(expand),
    identitiesOnly: v("identitiesonly"),
    identityAgent: agent ? expand(agent).path : undefined,
    proxy: state.proxy?.value,
    userKnownHostsFiles: knownHosts
      ? knownHosts.value.map((f) => expand({ value: f, origin: knownHosts.origin }).path)
      : undefined,
    globalKnownHostsFiles: v("globalknownhostsfile"),
    strictHostKeyChecking: v("stricthostkeychecking"),
    hostKeyAlias: v("hostkeyalias"),
    serverAliveInterval: v("serveraliveinterval"),
    serverAliveCountMax: v("serveralivecountmax"),
    connectTimeout: v("connecttimeout"),
    ciphers: v("ciphers"),
    kexAlgorithms: v("kexalgorithms"),
    hostKeyAlgorithms: v("hostkeyalgorithms"),
    macs: v("macs"),
    pubkeyAcceptedAlgorithms: v("pubkeyacceptedalgorithms"),
    preferredAuthentications: v("preferredauthentications"),
    passwordAuthentication: v("passwordauthentication"),
    kbdInteractiveAuthentication: v("kbdinteractiveauthentication"),
    batchMode: v("batchmode"),
    addressFamily: v("addressfamily"),
    origins: { ...origins, ...pick(state, ["hostname", "user", "port", "userknownhostsfile", "identityagent"]) },
    applied: [...state.applied],
    warnings: r.warnings,
    files: r.files,
    tokens,
  };
}

function pick(state: SettingsState, keys: (keyof SettingValues)[]): Partial<Record<SettingName, ConfigOrigin>> {
  const out: Partial<Record<SettingName, ConfigOrigin>> = {};
  for (const k of keys) {
    const s = state.get(k);
    if (s) out[k] = s.origin;
  }
  return out;
}

/**
 * The ProxyCommand to run, its `%h %n %p %r %%` tokens expanded (sshconnect.c does this just
 * before running it through the shell); undefined when the connection is not proxied by a command.
 */
export function proxyCommandLine(config: SshHostConfig): string | undefined {
  if (config.proxy?.kind !== "command") return undefined;
  try {
    return expandTokens(config.proxy.command, tokenLookup(config.tokens, PROXY_TOKENS));
  } catch (err) {
    const o = config.origins.proxycommand;
    throw o ? new ExpansionError(o, (err as Error).message) : err;
  }
}
