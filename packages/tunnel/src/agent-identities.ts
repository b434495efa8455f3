/**
 * Engine: which keys a connection offers, and in which order — ssh(1)'s (OpenSSH 9.2, as
 * `ssh -v` lists them in "Will attempt key"):
 *
 *   1. keys the agent holds that match a configured identity file, in the agent's order,
 *      named by their file and signed by the agent (their private key is never read);
 *   2. the agent's other keys and certificates, in its order, unless IdentitiesOnly;
 *   3. the configured files the agent does not hold, in their order, with their private keys.
 *
 * sshd counts every refused key against MaxAuthTries (6 by default) and hangs up after that,
 * which is why the configured keys go first and IdentitiesOnly exists; `ClientAuth` names
 * the keys offered when it happens.
 *
 * The agent is found as ssh finds it: IdentityAgent (`none` turns it off, `SSH_AUTH_SOCK` or
 * `$VAR` read the environment, anything else is a path, `~` expanded), else SSH_AUTH_SOCK. An
 * agent that cannot be reached is skipped, as ssh skips it, and named in the notes a failure
 * message carries. Protocol: draft-miller-ssh-agent through `AgentClient` (@tunnel/ssh).
 */
import * as fs from "node:fs";
import {
  AgentClient,
  type AgentKey,
  agentIdentity,
  equalBytes,
  type Identity,
  type PrivateKey,
  peerText,
  SshError,
} from "@tunnel/ssh";
import { type Runtime, runtime } from "@tunnel/ssh/runtime";
import {
  defaultIdentityPaths,
  expandHome,
  identityPublicBlob,
  type LoadIdentityOptions,
  loadIdentity,
} from "./identity.ts";

type Env = Readonly<Record<string, string | undefined>>;

export interface AuthIdentityOptions {
  /** `--identity`: one key file the user named. */
  identity?: string | undefined;
  /**
   * Identity files in order (`--identity` first, then IdentityFile lines from ssh_config);
   * given, they replace `identity` and the defaults. Without either: ~/.ssh/id_ed25519,
   * id_ecdsa, id_rsa, those that exist.
   */
  identityFiles?: readonly string[] | undefined;
  /** IdentitiesOnly: offer only the configured files' keys, even when the agent holds others. */
  identitiesOnly?: boolean | undefined;
  /**
   * IdentityAgent: a socket path, `none` (no agent), `SSH_AUTH_SOCK` or `$VAR`. Absent: the
   * SSH_AUTH_SOCK environment variable, if set.
   */
  agent?: string | undefined;
  /** The socket adapter that reaches the agent (default: the runtime's). */
  sockets?: Runtime | undefined;
  /** How a key file the agent does not hold is opened (its passphrase asked, or not: BatchMode). */
  load?: LoadIdentityOptions | undefined;
  env?: Env;
}

export interface AuthIdentities {
  /** What to offer, in order. */
  identities: Identity[];
  /** Why a key or the agent was left out: lines for a failure message (`ClientAuthOptions.notes`). */
  notes: string[];
  /** The agent's socket, when one was used. */
  agentPath: string | undefined;
  /** Closes the agent connection: call it once authentication is over. */
  close(): void;
}

/**
 * Where the agent is, or undefined for none: `setting` is IdentityAgent as written (tokens
 * already expanded), `env` the process environment.
 */
export function agentSocketPath(setting: string | undefined, env: Env = process.env): string | undefined {
  const value = setting === undefined || setting === "SSH_AUTH_SOCK" ? env.SSH_AUTH_SOCK : setting;
  if (value === undefined || value === "" || value === "none") return undefined;
  if (value.startsWith("$")) {
    const fromEnv = env[value.slice(1)];
    return fromEnv === undefined || fromEnv === "" || fromEnv === "none" ? undefined : fromEnv;
  }
  return expandHome(value);
}

/** A configured key file, before we know whether the agent holds its key. */
export interface FileEntry {
  file: string;
  /** Named by the user (`--identity`, IdentityFile): a file that cannot be loaded is an error. */
  userProvided: boolean;
  /** Its public key blob, known without a passphrase (`<file>.pub`, an openssh-key-v1 header), else once loaded. */
  publicBlob: Uint8Array | undefined;
  key: PrivateKey | undefined;
  error: Error | undefined;
}

/** A loaded key file as an identity, named by its path in messages. */
export function fileIdentity(file: string, key: PrivateKey): Identity {
  return {
    type: key.type,
    publicKey: key.publicKey,
    signatureAlgorithms: key.signatureAlgorithms,
    source: file,
    sign: (data, algorithm) => key.sign(data, algorithm),
  };
}

function load(entry: FileEntry, options: LoadIdentityOptions): void {
  if (entry.key || entry.error) return;
  try {
    entry.key = loadIdentity(entry.file, options);
    entry.publicBlob ??= entry.key.publicKey.blob;
  } catch (err) {
    entry.error = err as Error;
  }
}

/**
 * Merges the agent's keys (`agentKeys`, in its order) with the key files (`files`, in theirs)
 * in ssh's order (see the top of this file). Pure, apart from loading the private key of a
 * file the agent does not hold; `sign` reaches the agent through `agent`.
 */
export function orderIdentities(
  files: readonly FileEntry[],
  agentKeys: readonly AgentKey[],
  agent: AgentClient | undefined,
  identitiesOnly: boolean,
  loadOptions: LoadIdentityOptions = {},
): { identities: Identity[]; notes: string[] } {
  const remaining = [...files];
  const matched: Identity[] = [];
  const others: Identity[] = [];
  const notes: string[] = [];
  for (const key of agentKeys) {
    if (key.signatureAlgorithms.length === 0) {
      notes.push(
        `skipped: ${peerText(key.comment, { max: 120 }) || "(no comment)"} ${key.type} (agent; a key type we cannot use)`,
      );
      continue;
    }
    // An agent key matches a file by its exact blob: a certificate matches only a certificate.
    const at = remaining.findIndex((f) => f.publicBlob !== undefined && equalBytes(f.publicBlob, key.blob));
    if (at >= 0 && agent) {
      const [entry] = remaining.splice(at, 1) as [FileEntry];
      matched.push(agentIdentity(agent, key, entry.file));
    } else if (!identitiesOnly && agent) {
      others.push(agentIdentity(agent, key));
    }
  }
  const fromFiles: Identity[] = [];
  for (const entry of remaining) {
    load(entry, loadOptions);
    if (entry.key) fromFiles.push(fileIdentity(entry.file, entry.key));
    else if (entry.error) {
      // A file the user named must exist and be sound (an error before connecting) but may stay
      // locked; a default that cannot be used is skipped. Either way ssh moves on to the rest.
      const locked = entry.error instanceof SshError && entry.error.code === "KEY_ENCRYPTED";
      if (entry.userProvided && !locked) throw entry.error;
      notes.push(`skipped: ${entry.file} (${entry.error.message})`);
    }
  }
  return { identities: [...matched, ...others, ...fromFiles], notes };
}

/**
 * The identities to offer for one connection: the agent's keys and the key files, in ssh's
 * order. The agent connection stays open for signing; `close()` it after authentication.
 */
export async function resolveAuthIdentities(o: AuthIdentityOptions = {}): Promise<AuthIdentities> {
  const env = o.env ?? process.env;
  const named = o.identityFiles ?? (o.identity ? [o.identity] : undefined);
  const paths = named ? named.map(expandHome) : defaultIdentityPaths().filter((f) => fs.existsSync(f));
  const files: FileEntry[] = paths.map((file) => ({
    file,
    userProvided: named !== undefined,
    publicBlob: identityPublicBlob(file),
    key: undefined,
    error: undefined,
  }));

  const notes: string[] = [];
  const agentPath = agentSocketPath(o.agent, env);
  let agent: AgentClient | undefined;
  let agentKeys: AgentKey[] = [];
  if (agentPath === undefined) {
    notes.push(
      o.agent === "none"
        ? "agent not used: IdentityAgent is none"
        : o.agent === undefined || o.agent === "SSH_AUTH_SOCK"
          ? "no agent: SSH_AUTH_SOCK is not set"
          : `no agent: ${o.agent} is not set`,
    );
  } else {
    const sockets = o.sockets ?? runtime;
    try {
      if (!sockets.connectUnix) throw new Error(`the ${sockets.name} socket adapter cannot reach Unix sockets`);
      agent = new AgentClient(await sockets.connectUnix(agentPath, { timeoutMs: 5000 }), {
        name: `the agent at ${agentPath}`,
      });
      agentKeys = await agent.listIdentities();
    } catch (err) {
      agent?.close();
      agent = undefined;
      notes.push(`agent not used: ${(err as Error).message}`);
    }
  }
  // A file whose public key is not known without its private half (a PEM key with no .pub) is
  // matched by the key once loaded, as ssh does; an encrypted one stays unmatched unasked.
  const quiet: LoadIdentityOptions = { ...o.load, passphrase: false };
  if (agentKeys.length > 0) for (const f of files) if (f.publicBlob === undefined) load(f, quiet);
  for (const f of files) if (f.error instanceof SshError && f.error.code === "KEY_ENCRYPTED") f.error = undefined;

  let ordered: { identities: Identity[]; notes: string[] };
  try {
    ordered = orderIdentities(files, agentKeys, agent, o.identitiesOnly ?? false, o.load);
  } catch (err) {
    agent?.close();
    throw err;
  }
  if (agent && agentKeys.length === 0) notes.push(`the agent at ${agentPath} holds no keys`);
  const used = agent;
  return {
    identities: ordered.identities,
    notes: [...notes, ...ordered.notes],
    agentPath: used ? agentPath : undefined,
    close: () => used?.close(),
  };
}
