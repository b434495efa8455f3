/**
 * Engine: which keys a connection offers, and in which order — ssh(1)'s (OpenSSH 9.2, as
 * `ssh -v` lists them in "Will attempt key"):
 *
 *   1. keys the agent holds that match a configured identity file, in the agent's order,
 *      named by their file and signed by the agent (their private key is never read);
 *   2. the agent's other keys and certificates, in its order, unless IdentitiesOnly;
 *   3. the configured files the agent does not hold, in their order, with their private keys.
 *
 * Certificates (certificate-files.ts): those of CertificateFile lines before all of these, a
 * `<key>-cert.pub` right after its key file's place in step 3.
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
  certificateProblem,
  equalBytes,
  type Identity,
  type PrivateKey,
  peerText,
  SshError,
} from "@tunnel/ssh";
import { type Runtime, runtime } from "@tunnel/ssh/runtime";
import { type CertificateEntry, certificateIdentity, findCertificates } from "./certificate-files.ts";
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
  /**
   * CertificateFile lines, in order: offered first, each signed by the key it certifies. Without
   * any, `<identity file>-cert.pub` files are offered after their keys.
   */
  certificateFiles?: readonly string[] | undefined;
  /** The login name: a certificate that does not list it (or is not valid now) is noted, still offered. */
  user?: string | undefined;
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
 * and the certificates (`certificates`, certificate-files.ts) in ssh's order (see the top of
 * this file): certificates from CertificateFile lines come first, a `<key>-cert.pub` right
 * after its key file. A certificate the agent holds itself is offered as the agent's, named by
 * its file; one it does not is signed by the key it certifies (the agent's, else the file's).
 * Pure, apart from loading the private key of a file the agent does not hold; `sign` reaches
 * the agent through `agent`.
 */
export function orderIdentities(
  files: readonly FileEntry[],
  agentKeys: readonly AgentKey[],
  agent: AgentClient | undefined,
  identitiesOnly: boolean,
  loadOptions: LoadIdentityOptions = {},
  certificates: readonly CertificateEntry[] = [],
): { identities: Identity[]; notes: string[] } {
  const remaining = [...files];
  const certsLeft = [...certificates];
  const matched: Identity[] = [];
  const others: Identity[] = [];
  const notes: string[] = [];
  /** Certificates the agent holds, by the entry they came from. */
  const heldCerts = new Map<CertificateEntry, Identity>();
  for (const key of agentKeys) {
    if (key.signatureAlgorithms.length === 0) {
      notes.push(
        `skipped: ${peerText(key.comment, { max: 120 }) || "(no comment)"} ${key.type} (agent; a key type we cannot use)`,
      );
      continue;
    }
    // An agent key matches a file by its exact blob: a certificate matches only a certificate.
    const at = remaining.findIndex((f) => f.publicBlob !== undefined && equalBytes(f.publicBlob, key.blob));
    const cert = certsLeft.findIndex((c) => equalBytes(c.blob, key.blob));
    if (cert >= 0 && agent) {
      const [entry] = certsLeft.splice(cert, 1) as [CertificateEntry];
      heldCerts.set(entry, agentIdentity(agent, key, entry.file));
    } else if (at >= 0 && agent) {
      const [entry] = remaining.splice(at, 1) as [FileEntry];
      matched.push(agentIdentity(agent, key, entry.file));
    } else if (!identitiesOnly && agent) {
      others.push(agentIdentity(agent, key));
    }
  }
  const certIdentity = (c: CertificateEntry): Identity | undefined => {
    const held = heldCerts.get(c);
    if (held) return held;
    const signer = certificateSigner(c, files, agentKeys, agent, loadOptions);
    if (signer) return certificateIdentity(c, signer);
    notes.push(
      `skipped: ${c.file} (neither the agent nor an identity file holds the ${c.certificate.keyType} key it certifies)`,
    );
    return undefined;
  };
  const configured: Identity[] = [];
  for (const c of certificates) {
    if (!c.configured) continue;
    const id = certIdentity(c);
    if (id) configured.push(id);
  }
  const fromFiles: Identity[] = [];
  for (const entry of files) {
    if (remaining.includes(entry)) {
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
    for (const c of certificates) {
      if (c.configured || c.keyFile !== entry.file) continue;
      const id = certIdentity(c);
      if (id) fromFiles.push(id);
    }
  }
  return { identities: [...configured, ...matched, ...others, ...fromFiles], notes };
}

/**
 * Who signs for a certificate: the agent when it holds the certified key, else the identity
 * file beside the certificate, else any identity file whose key it is (loaded if need be).
 */
function certificateSigner(
  c: CertificateEntry,
  files: readonly FileEntry[],
  agentKeys: readonly AgentKey[],
  agent: AgentClient | undefined,
  loadOptions: LoadIdentityOptions,
): Identity | undefined {
  const keyBlob = c.certificate.keyBlob;
  const held = agentKeys.find((k) => !k.certificate && k.signatureAlgorithms.length > 0 && equalBytes(k.blob, keyBlob));
  if (held && agent) return agentIdentity(agent, held, c.keyFile);
  const candidates = [
    ...files.filter((f) => f.file === c.keyFile),
    ...files.filter((f) => f.file !== c.keyFile && f.publicBlob !== undefined && equalBytes(f.publicBlob, keyBlob)),
  ];
  for (const entry of candidates) {
    load(entry, loadOptions);
    if (entry.key && equalBytes(entry.key.publicKey.blob, keyBlob)) return fileIdentity(entry.file, entry.key);
  }
  return undefined;
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

  const found = findCertificates(o.certificateFiles?.map(expandHome), paths);
  notes.push(...found.notes);
  for (const c of found.certificates) {
    // Offered anyway, as ssh offers it (the server may map principals otherwise), but a
    // refusal then comes with the likely reason.
    const problem = certificateProblem(c.certificate, {
      role: "user",
      principal: o.user ?? c.certificate.principals[0] ?? "",
      requirePrincipal: o.user !== undefined,
      now: Date.now() / 1000,
    });
    if (problem)
      notes.push(
        `certificate ${c.file} (id ${JSON.stringify(peerText(c.certificate.keyId, { max: 80 }))}): ${problem}`,
      );
  }
  let ordered: { identities: Identity[]; notes: string[] };
  try {
    ordered = orderIdentities(files, agentKeys, agent, o.identitiesOnly ?? false, o.load, found.certificates);
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
