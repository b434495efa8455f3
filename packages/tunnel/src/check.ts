/**
 * `tunnel check`: connect, verify the host key, authenticate, report what was negotiated,
 * disconnect cleanly.
 */

import {
  decodeCertificate,
  fingerprintSha256,
  isCertificateType,
  isPostQuantumKex,
  nobleProvider,
  type PublicKey,
  peerText,
  type SshClient,
} from "@tunnel/ssh";
import type { AuthIdentityOptions } from "./agent-identities.ts";
import { type AlgorithmOptions, providerFor } from "./algorithms.ts";
import { appliedConfigLines, type ResolvedDestination, resolveDestination } from "./destination-config.ts";
import { type ConnectOne, connectChain } from "./hop-chain.ts";
import { loginTo } from "./hop-login.ts";
import type { HostKeyPolicy, VerifierEvents } from "./known-hosts-file.ts";
import type { PassphrasePrompter } from "./passphrase.ts";
import { postQuantumWarning } from "./pq-warning.ts";

/** What `runCheck` connects to, how it verifies the host key, and how it logs in. */
export interface CheckOptions extends AlgorithmOptions, Pick<AuthIdentityOptions, "identityFiles" | "identitiesOnly"> {
  /** The host to check: `[user@]host[:port]`, or a Host of ssh_config when `sshConfig` is read. */
  destination: string;
  /** `--jump`: jump hosts `[user@]host[:port],…` (or `none`), replacing ssh_config's ProxyJump and ProxyCommand. */
  jump?: string | undefined;
  /**
   * ssh_config to resolve the destination through: `true` for ~/.ssh/config then
   * /etc/ssh/ssh_config, a path for that file only (ssh -F; `none`: none); absent: none.
   */
  sshConfig?: string | boolean | undefined;
  /** A private key file, offered before ssh_config's IdentityFile ones; the CLI's `--identity`. */
  identity?: string | undefined;
  /** IdentityAgent: a socket path, `none`, `SSH_AUTH_SOCK` or `$VAR` (default: SSH_AUTH_SOCK). */
  agent?: string | undefined;
  /** How to offer a password, shown when authentication fails and the server takes one. */
  passwordHint?: string | undefined;
  /**
   * The one known_hosts file to check host keys against and record new ones in, instead of
   * ssh_config's UserKnownHostsFile and GlobalKnownHostsFile or ssh's defaults (without
   * ssh_config: ~/.ssh/known_hosts); the CLI's `--known-hosts`.
   */
  knownHosts?: string | undefined;
  /**
   * What to do with a host key known_hosts does not vouch for, on every host of the chain
   * (default: ssh_config's StrictHostKeyChecking, else `yes`); the CLI's `--host-key-check`.
   */
  hostKeyCheck?: HostKeyPolicy;
  /** A password given up front (TUNNEL_PASSWORD): used for password and keyboard-interactive, never asked. */
  password?: string | undefined;
  /** How to ask for a password when the server takes one: default as ssh asks; `false` never (BatchMode). */
  prompter?: PassphrasePrompter | false | undefined;
  /** Milliseconds each host of the chain has for its handshake and login (default 30 s). */
  timeoutMs?: number;
  /** What the check reports as it goes: host keys added or accepted unchecked, the banner, config lines, warnings. */
  events?: VerifierEvents & {
    /** The server's login banner, characters a terminal would act on escaped (its lines kept). */
    banner?(text: string): void;
    /** The ssh_config lines that applied, `file:line: text` (--verbose). */
    verbose?(line: string): void;
    /** Where we differ from ssh on this configuration (a Match exec we do not run). */
    warning?(line: string): void;
    /** The whole warning line when the key exchange is not post-quantum and the user did not choose it. */
    notPostQuantum?(line: string): void;
  };
}

/** What `runCheck` found: the server, what was negotiated, the host key and how the login went. */
export interface CheckReport {
  /** The host connected to (after ssh_config's HostName). */
  host: string;
  /** Its port. */
  port: number;
  /** The user logged in as. */
  user: string;
  /** The server's version line (`SSH-2.0-…`), escaped for display. */
  serverVersion: string;
  /** The key exchange method negotiated. */
  kex: string;
  /** Whether the key exchange resists a quantum adversary recording today (a KEM hybrid). */
  postQuantum: boolean;
  /** The host key algorithm negotiated. */
  hostKeyAlgorithm: string;
  /** The host key's `SHA256:` fingerprint; for a host certificate, that of the key inside. */
  hostKeyFingerprint: string;
  /** The cipher negotiated, each direction. */
  cipher: { clientToServer: string; serverToClient: string };
  /** The MAC negotiated, each direction; `implicit` with an AEAD cipher. */
  mac: { clientToServer: string; serverToClient: string };
  /** Which implementation carries each direction. */
  implementation: { clientToServer: string; serverToClient: string };
  /** Both sides agreed on strict key exchange (kex-strict, the fix for CVE-2023-48795). */
  strictKex: boolean;
  /** "none" when the server let us in without checking any key or password (`noneAuthWarning`). */
  authMethod: string;
  /** The key that let us in; `agent` when an ssh-agent signed. A certificate's fingerprint is its key's. */
  userKey: { type: string; fingerprint: string; agent?: true } | null;
  /** The jump hosts passed through, first first, each host key verified under its own name. */
  jumps?: JumpReport[];
}

export interface JumpReport {
  host: string;
  port: number;
  user: string;
  hostKeyAlgorithm: string;
  hostKeyFingerprint: string;
}

function hopReport(d: ResolvedDestination, client: SshClient): JumpReport {
  const info = client.info;
  return {
    host: d.host,
    port: d.port,
    user: d.user,
    hostKeyAlgorithm: info.negotiated?.hostKey ?? "",
    hostKeyFingerprint: info.hostKey ? hostKeyFingerprint(info.hostKey) : (info.hostKeyFingerprint ?? ""),
  };
}

/** Connects, verifies the host key, logs in, reports what was negotiated, and disconnects. */
export async function runCheck(o: CheckOptions): Promise<CheckReport> {
  const dest = resolveDestination(o);
  for (const line of dest.config?.warnings ?? []) o.events?.warning?.(line);
  for (const line of appliedConfigLines(dest)) o.events?.verbose?.(line);
  const provider = providerFor(o.crypto, o.optionNames);
  const verified: CheckReport["jumps"] = [];
  const connectOne: ConnectOne = async (d, conn, hop) => {
    const client = await loginTo(o, d, conn, hop, {
      provider,
      prompter: o.prompter,
      passwordHint: o.passwordHint,
      policy: "yes",
      client: {
        timeoutMs: o.timeoutMs ?? 30_000,
        ...(o.events?.banner ? { onBanner: o.events.banner } : {}),
      },
    });
    if (hop) verified.push(hopReport(d, client));
    return client;
  };
  const { client } = await connectChain(
    dest,
    { sockets: o.sockets, connectTimeoutMs: dest.connectTimeoutMs },
    connectOne,
  );
  const user = dest.user;
  const info = client.info;
  const neg = info.negotiated;
  if (!neg || !info.hostKeyFingerprint)
    throw new Error("internal error: no negotiated algorithms after authentication");
  const auth = client.auth;
  const report: CheckReport = {
    host: dest.host,
    port: dest.port,
    user,
    serverVersion: peerText(info.serverVersion),
    kex: neg.kex,
    postQuantum: isPostQuantumKex(neg.kex),
    hostKeyAlgorithm: neg.hostKey,
    hostKeyFingerprint: info.hostKey ? hostKeyFingerprint(info.hostKey) : info.hostKeyFingerprint,
    cipher: { clientToServer: neg.cipherC2S, serverToClient: neg.cipherS2C },
    mac: { clientToServer: neg.macC2S, serverToClient: neg.macS2C },
    implementation: { clientToServer: info.implC2S, serverToClient: info.implS2C },
    strictKex: info.strictKex,
    authMethod: auth?.method ?? "none",
    userKey: auth?.key
      ? {
          type: auth.key.type,
          fingerprint: fingerprintOfKey(auth.key.keyBlob ?? auth.key.publicKey.blob),
          ...(auth.key.agent ? { agent: true as const } : {}),
        }
      : null,
  };
  const pq = postQuantumWarning(neg.kex, dest.algorithms.kexAlgorithms !== undefined);
  if (verified.length > 0) report.jumps = verified;
  if (pq) o.events?.notPostQuantum?.(pq);
  await closeCleanly(client);
  return report;
}

/** A host key's fingerprint; a host certificate's is that of the key inside, as ssh prints it. */
function hostKeyFingerprint(key: PublicKey): string {
  return fingerprintOfKey(isCertificateType(key.type) ? decodeCertificate(key.blob).keyBlob : key.blob);
}

function fingerprintOfKey(blob: Uint8Array): string {
  return fingerprintSha256(nobleProvider, blob);
}

/** DISCONNECT, then wait (briefly) for the socket to close. */
function closeCleanly(client: SshClient): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, 1000);
    client.onceClosed(() => {
      clearTimeout(t);
      resolve();
    });
    client.close();
  });
}
