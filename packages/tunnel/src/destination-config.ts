/**
 * Engine: a destination (`[user@]host[:port]`, or a Host alias) resolved for connecting —
 * its ssh_config(5) settings (ssh-config/) under the command line's flags, which win, as
 * ssh(1)'s command line wins over its files. HostName, User, Port; IdentityFile (after
 * `--identity`), IdentitiesOnly, IdentityAgent, CertificateFile; UserKnownHostsFile and
 * GlobalKnownHostsFile (unless `--known-hosts`), HostKeyAlias (the name keys are looked up and recorded under),
 * StrictHostKeyChecking; ServerAliveInterval/CountMax, ConnectTimeout; the algorithm lists,
 * in OpenSSH's +/-/^ syntax, without the names ssh knows but we do not implement;
 * PasswordAuthentication; ProxyCommand, and the jump hosts of ProxyJump (or `--jump`, which
 * beats the files' ProxyJump and ProxyCommand, as ssh -J does), each resolved as a destination
 * of its own under the same flags (hop-chain.ts connects through them). Without a
 * configuration (embedders) a destination means what it always meant: that host, port 22,
 * the local user, ~/.ssh/known_hosts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  CIPHERS,
  type HostKeyVerifier,
  KEX_METHODS,
  MACS,
  SIGNATURE_ALGORITHMS,
  SshError,
  selectAlgorithms,
} from "@tunnel/ssh";
import type { AlgorithmOptions } from "./algorithms.ts";
import { hostPortLabel, parseDestination } from "./destination.ts";
import { expandHome } from "./identity.ts";
import {
  type HostKeyPolicy,
  knownHostKeyTypesIn,
  knownHostsVerifier,
  type VerifierEvents,
} from "./known-hosts-file.ts";
import { localUserName } from "./local-user.ts";
import { type OptionNames, optionName } from "./option-names.ts";
import {
  type ConfigOrigin,
  type ConfigSource,
  type LocalContext,
  type ProxySetting,
  parseJumpList,
  proxyCommandLine,
  resolveHostConfig,
  resolveJumpChain,
  type SshHostConfig,
} from "./ssh-config/index.ts";
import { matchPattern } from "./ssh-config/patterns.ts";

/** The global known_hosts files ssh reads when no GlobalKnownHostsFile says otherwise. */
export const DEFAULT_GLOBAL_KNOWN_HOSTS = ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"];

export interface DestinationOptions {
  destination: string;
  /**
   * ssh_config to read: `true` for ~/.ssh/config then /etc/ssh/ssh_config, a path for that
   * file only (ssh -F; `none` for no file). Absent or false: none.
   */
  sshConfig?: string | boolean | undefined;
  /** `--identity`: tried first, before the configuration's IdentityFile lines. */
  identity?: string | undefined;
  /** `--known-hosts`: the one known_hosts file, replacing the configuration's. */
  knownHosts?: string | undefined;
  hostKeyCheck?: HostKeyPolicy | undefined;
  kexAlgorithms?: string | undefined;
  hostKeyAlgorithms?: string | undefined;
  ciphers?: string | undefined;
  macs?: string | undefined;
  keepaliveMs?: number | undefined;
  keepaliveCountMax?: number | undefined;
  connectTimeoutMs?: number | undefined;
  /**
   * `--jump` (ssh -J): `[user@]host[:port],…`, first hop first, or `none`; it replaces the
   * configuration's ProxyJump and ProxyCommand, as ssh's command line does.
   */
  jump?: string | undefined;
  /** How errors name these options (`jump`, `sshConfig`…; option-names.ts); a CLI passes its flags. */
  optionNames?: OptionNames | undefined;
  /** Tests: who and where we are (home, local user…). */
  context?: LocalContext | undefined;
}

export interface ResolvedDestination {
  host: string;
  port: number;
  user: string;
  /** The name and port known_hosts is searched (and written) under: HostKeyAlias, else the host. */
  hostKeyName: { host: string; port: number };
  /** Searched, and the first one written to. */
  userKnownHosts: string[];
  /** Searched only. */
  globalKnownHosts: string[];
  /** The command line's policy, else StrictHostKeyChecking (`ask`, which we cannot do, is `yes`). */
  hostKeyCheck: HostKeyPolicy | undefined;
  /** `--identity` then IdentityFile paths that exist (or whose `.pub` does); undefined: the defaults. */
  identityFiles: string[] | undefined;
  identitiesOnly: boolean | undefined;
  /** CertificateFile paths, in order (empty: none configured, `<key>-cert.pub` files are looked for). */
  certificateFiles: string[];
  /** IdentityAgent, expanded. */
  agent: string | undefined;
  /** Algorithm lists to hand to `resolveAlgorithms`: flags, else the configuration's. */
  algorithms: Pick<AlgorithmOptions, "kexAlgorithms" | "hostKeyAlgorithms" | "ciphers" | "macs">;
  keepaliveMs: number | undefined;
  keepaliveCountMax: number | undefined;
  connectTimeoutMs: number | undefined;
  /** PasswordAuthentication no: never offer a password. */
  passwordAuthentication: boolean;
  /**
   * Jump hosts before this one (`--jump`, else ProxyJump), first connected first; each resolved
   * through the configuration under the same flags. The first may have its own `proxyCommand`.
   */
  jumps: ResolvedDestination[];
  /** ProxyCommand with its tokens expanded, when the connection runs over a command. */
  proxyCommand: string | undefined;
  /** The configuration's view, when one was read. */
  config: SshHostConfig | undefined;
}

function origin(o: ConfigOrigin | undefined): string {
  return o ? `${o.file}:${o.line}` : "ssh_config";
}

const ALGORITHM_LISTS = [
  {
    option: "kexAlgorithms",
    keyword: "KexAlgorithms",
    setting: "kexalgorithms",
    supported: () => [...KEX_METHODS.keys()],
  },
  {
    option: "hostKeyAlgorithms",
    keyword: "HostKeyAlgorithms",
    setting: "hostkeyalgorithms",
    supported: () => [...SIGNATURE_ALGORITHMS.keys()],
  },
  { option: "ciphers", keyword: "Ciphers", setting: "ciphers", supported: () => [...CIPHERS.keys()] },
  { option: "macs", keyword: "MACs", setting: "macs", supported: () => [...MACS.keys()] },
] as const;

/**
 * A configuration's algorithm list without the names we do not implement (a config written
 * for ssh may name aes128-cbc for an old server; ssh-only names are not errors here): undefined
 * when nothing of ours is left of a `+`/`^` list (the defaults then stand). Throws when a
 * full list names nothing we implement.
 */
function configAlgorithms(spec: string, supported: readonly string[], label: string): string | undefined {
  const op = /^[-+^]/.test(spec) ? spec[0]! : "";
  const names = spec.slice(op.length).split(",");
  const ours = op === "-" ? names : names.filter((n) => supported.some((a) => matchPattern(a, n)));
  if (ours.length === 0) {
    if (op !== "") return undefined;
    throw new TypeError(
      `${label} lists only algorithms tunnel does not implement (${spec}); we have ${supported.join(",")}`,
    );
  }
  const result = `${op}${ours.join(",")}`;
  // Checked here, where the message can name the line: nothing left after "-", say.
  try {
    selectAlgorithms(label, result, op === "-" ? supported : [], supported);
  } catch (err) {
    throw new TypeError((err as Error).message);
  }
  return result;
}

function policyOf(v: SshHostConfig["strictHostKeyChecking"]): HostKeyPolicy | undefined {
  if (v === undefined) return undefined;
  return v === "ask" ? "yes" : v;
}

/** A destination resolved through the configuration (when asked for) under the flags. */
export function resolveDestination(o: DestinationOptions): ResolvedDestination {
  // Port 0 stands for "not given", so the configuration's Port can apply.
  const dest = parseDestination(o.destination, 0);
  const explicitPort = dest.port === 0 ? undefined : dest.port;
  const identity = o.identity ? expandHome(o.identity) : undefined;
  const noConfig = o.sshConfig === undefined || o.sshConfig === false;
  if (noConfig && o.jump === undefined) {
    const port = explicitPort ?? 22;
    return {
      host: dest.host,
      port,
      user: dest.user ?? localUserName(),
      hostKeyName: { host: dest.host, port },
      userKnownHosts: [expandHome(o.knownHosts ?? path.join(os.homedir(), ".ssh", "known_hosts"))],
      globalKnownHosts: [],
      hostKeyCheck: o.hostKeyCheck,
      identityFiles: identity ? [identity] : undefined,
      identitiesOnly: undefined,
      certificateFiles: [],
      agent: undefined,
      algorithms: {
        kexAlgorithms: o.kexAlgorithms,
        hostKeyAlgorithms: o.hostKeyAlgorithms,
        ciphers: o.ciphers,
        macs: o.macs,
      },
      keepaliveMs: o.keepaliveMs,
      keepaliveCountMax: o.keepaliveCountMax,
      connectTimeoutMs: o.connectTimeoutMs,
      passwordAuthentication: true,
      jumps: [],
      proxyCommand: undefined,
      config: undefined,
    };
  }
  // Jump hosts without a configuration (embedders): read no file, as ssh -F none.
  const source: ConfigSource = noConfig
    ? { file: "none" }
    : o.sshConfig === true
      ? {}
      : { file: o.sshConfig as string, optionNames: o.optionNames };
  const proxy = o.jump === undefined ? undefined : jumpSetting(o.jump, o.optionNames);
  const config = resolveHostConfig({ host: dest.host, user: dest.user, port: explicitPort, proxy }, source, o.context);
  const resolved = fromConfig(config, o);
  if (config.proxy?.kind === "jump")
    resolved.jumps = resolveJumpChain(config, source, o.context).map((hop) => fromConfig(hop, o));
  return resolved;
}

/** The `jump` option's value as ssh -J takes it. */
function jumpSetting(spec: string, names: OptionNames | undefined): ProxySetting {
  try {
    return { kind: "jump", hops: parseJumpList(spec), spec };
  } catch {
    throw new TypeError(
      `${optionName(names, "jump")}: "${spec}" is not [user@]host[:port] hops separated by commas (or none)`,
    );
  }
}

/** One host's settings from its resolved configuration, under the command line's flags. */
function fromConfig(config: SshHostConfig, o: DestinationOptions): ResolvedDestination {
  const identity = o.identity ? expandHome(o.identity) : undefined;
  const home = o.context?.home ?? os.homedir();
  const fromConfig = config.identityFiles
    .map((f) => f.path)
    .filter((f) => fs.existsSync(f) || fs.existsSync(`${f}.pub`));
  const identityFiles =
    identity || config.identityFiles.length > 0 ? [...(identity ? [identity] : []), ...fromConfig] : undefined;
  const algorithms: ResolvedDestination["algorithms"] = {};
  for (const list of ALGORITHM_LISTS) {
    const flag = o[list.option];
    const spec = config[list.option];
    algorithms[list.option] =
      flag ??
      (spec === undefined
        ? undefined
        : configAlgorithms(spec, list.supported(), `${list.keyword} (${origin(config.origins[list.setting])})`));
  }
  const userFiles = config.userKnownHostsFiles?.filter((f) => f !== "none") ?? [
    path.join(home, ".ssh", "known_hosts"),
    path.join(home, ".ssh", "known_hosts2"),
  ];
  const alias = config.hostKeyAlias;
  return {
    host: config.hostname,
    port: config.port,
    user: config.user,
    hostKeyName: alias !== undefined ? { host: alias, port: 22 } : { host: config.hostname, port: config.port },
    userKnownHosts: o.knownHosts !== undefined ? [expandHome(o.knownHosts)] : userFiles,
    globalKnownHosts:
      o.knownHosts !== undefined
        ? []
        : (config.globalKnownHostsFiles?.filter((f) => f !== "none") ?? DEFAULT_GLOBAL_KNOWN_HOSTS),
    hostKeyCheck: o.hostKeyCheck ?? policyOf(config.strictHostKeyChecking),
    identityFiles,
    identitiesOnly: config.identitiesOnly,
    certificateFiles: config.certificateFiles.map((f) => f.path),
    agent: config.identityAgent,
    algorithms,
    keepaliveMs:
      o.keepaliveMs ?? (config.serverAliveInterval !== undefined ? config.serverAliveInterval * 1000 : undefined),
    keepaliveCountMax: o.keepaliveCountMax ?? config.serverAliveCountMax,
    connectTimeoutMs:
      o.connectTimeoutMs ?? (config.connectTimeout !== undefined ? config.connectTimeout * 1000 : undefined),
    passwordAuthentication: config.passwordAuthentication ?? true,
    jumps: [],
    proxyCommand: proxyCommandLine(config),
    config,
  };
}

/** The configuration lines that applied, as `file:line: text` (for `--verbose`). */
export function appliedConfigLines(d: ResolvedDestination): string[] {
  return d.config ? d.config.applied.map((a) => `${a.file}:${a.line}: ${a.text}`) : [];
}

/** The host key types the known_hosts files pin for the destination (to offer those first). */
export function knownKeyTypesFor(d: ResolvedDestination): string[] {
  const types: string[] = [];
  for (const file of [...d.userKnownHosts, ...d.globalKnownHosts]) {
    for (const t of knownHostKeyTypesIn(file, d.hostKeyName.host, d.hostKeyName.port))
      if (!types.includes(t)) types.push(t);
  }
  return types;
}

/**
 * Host key verification over every known_hosts file, as ssh looks keys up: a key @revoked
 * anywhere is refused; a match in any file is accepted; otherwise a conflicting entry in any
 * file refuses; otherwise the host is unknown and the policy decides, recording in the first
 * user file. Keys are looked up under `hostKeyName` (HostKeyAlias). Refusals name options as
 * `names` says (option-names.ts).
 */
export function destinationVerifier(
  d: ResolvedDestination,
  policy: HostKeyPolicy,
  events?: VerifierEvents,
  names?: OptionNames,
): HostKeyVerifier {
  const files = [...d.userKnownHosts, ...d.globalKnownHosts];
  const first = d.userKnownHosts[0];
  return async (shown) => {
    const info = { ...shown, host: d.hostKeyName.host, port: d.hostKeyName.port };
    if (policy === "no") return knownHostsVerifier(first ?? files[0] ?? "", "no", events, names)(info);
    const failures: SshError[] = [];
    for (const file of files) {
      try {
        if (await knownHostsVerifier(file, "yes", {}, names)(info)) return true;
      } catch (err) {
        if (!(err instanceof SshError)) throw err;
        if (err.code === "HOST_KEY_REJECTED") throw err;
        if (err.code !== "HOST_KEY_UNKNOWN") failures.push(err);
      }
    }
    if (failures[0]) throw failures[0];
    if (first !== undefined) return knownHostsVerifier(first, policy, events, names)(info);
    if (policy === "accept-new") {
      events?.unchecked?.(info);
      return true;
    }
    throw new SshError(
      "HOST_KEY_UNKNOWN",
      `host key for ${hostPortLabel(info.host, info.port)} is not known (${info.key.type} ${info.fingerprint}) and UserKnownHostsFile is none`,
    );
  };
}
