/**
 * Keys layer: the client side of the SSH agent protocol (draft-miller-ssh-agent, "SSH Agent
 * Protocol", as OpenSSH's ssh-agent speaks it): list the keys an agent holds ("Requesting a
 * list of keys": SSH_AGENTC_REQUEST_IDENTITIES → SSH_AGENT_IDENTITIES_ANSWER) and have it sign
 * ("Private key operations": SSH_AGENTC_SIGN_REQUEST → SSH_AGENT_SIGN_RESPONSE, with the
 * SSH_AGENT_RSA_SHA2_256 / _512 "Signature flags" for rsa-sha2-*, RFC 8332). Certificates the
 * agent holds (OpenSSH PROTOCOL.certkeys, `*-cert-v01@openssh.com`) are listed and offered as
 * they are: the certificate blob is the public key sent, the agent signs with the key inside.
 *
 * Runs over any `Conn` (a Unix socket from `Runtime.connectUnix`); nothing here knows the
 * runtime. The agent is a peer like any other: every reply is framed with a bounded length
 * (OpenSSH's 256 KiB), checked field by field, and a count it sends is never used to
 * preallocate: a list claiming more keys than its bytes could hold is refused before the first
 * key is read.
 */
import { ECDSA_SHA2_PREFIX } from "../algorithms/sig-ecdsa.ts";
import { SSH_ED25519 } from "../algorithms/sig-ed25519.ts";
import { RSA_SHA2_256, RSA_SHA2_512, SSH_RSA } from "../algorithms/sig-rsa.ts";
import type { Identity } from "../auth/client.ts";
import { protocolError, SshError } from "../errors.ts";
import type { Conn } from "../runtime/types.ts";
import { peerText } from "../wire/peer-text.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";
import { parsePublicKeyBlob } from "./public-key.ts";

/** Message numbers (draft-miller-ssh-agent, "Message numbers"). */
export const AGENT_MSG = {
  FAILURE: 5,
  SUCCESS: 6,
  REQUEST_IDENTITIES: 11,
  IDENTITIES_ANSWER: 12,
  SIGN_REQUEST: 13,
  SIGN_RESPONSE: 14,
  EXTENSION_FAILURE: 28,
} as const;

/** Flags of SSH_AGENTC_SIGN_REQUEST (draft-miller-ssh-agent, "Signature flags"). */
export const AGENT_SIGN_FLAGS = { RSA_SHA2_256: 0x02, RSA_SHA2_512: 0x04 } as const;

/** The largest message we accept from an agent: OpenSSH's own bound (AGENT_MAX_LEN). */
export const AGENT_MAX_MESSAGE = 256 * 1024;
/** The most keys we take from one list: OpenSSH's MAX_AGENT_IDENTITIES. */
export const AGENT_MAX_IDENTITIES = 2048;
/** How long one request may wait for its reply. An agent asking its user to confirm (`ssh-add -c`) needs some. */
export const AGENT_TIMEOUT_MS = 30_000;

const CERT_SUFFIX = "-cert-v01@openssh.com";

/** One key (or certificate) as the agent listed it. */
export interface AgentKey {
  /** The blob as the agent holds it: a plain key (RFC 4253 §6.6) or an OpenSSH certificate. */
  readonly blob: Uint8Array;
  /** The agent's comment for it (raw: pass it through `peerText` before showing it). */
  readonly comment: string;
  /** The type the blob names: `ssh-ed25519`, `ssh-rsa-cert-v01@openssh.com`, … */
  readonly type: string;
  /** Whether `type` is an OpenSSH certificate type (`*-cert-v01@openssh.com`). */
  readonly certificate: boolean;
  /** The plain key type (for a certificate, the key inside it). */
  readonly keyType: string;
  /** The plain key blob (for a certificate, the key inside it): fingerprints and matching key files use it. */
  readonly keyBlob: Uint8Array;
  /** What it can sign as, preferred first; empty for a type we do not know (it is listed, never offered). */
  readonly signatureAlgorithms: readonly string[];
}

const agentError = (message: string) => new SshError("AGENT_REFUSED", message);

// ------------------------------------------------------------------ codec

/** A whole request on the wire: uint32 length, then the message. */
export function frameAgentMessage(message: Uint8Array): Uint8Array {
  return new Writer(message.length + 4).string(message).bytes();
}

export function encodeRequestIdentities(): Uint8Array {
  return frameAgentMessage(Uint8Array.of(AGENT_MSG.REQUEST_IDENTITIES));
}

export function encodeSignRequest(keyBlob: Uint8Array, data: Uint8Array, flags: number): Uint8Array {
  return frameAgentMessage(
    new Writer(keyBlob.length + data.length + 16)
      .byte(AGENT_MSG.SIGN_REQUEST)
      .string(keyBlob)
      .string(data)
      .uint32(flags)
      .bytes(),
  );
}

/** The flags that ask for `algorithm` (rsa-sha2-256/512 and their certificate forms; 0 otherwise). */
export function signFlagsFor(algorithm: string): number {
  if (algorithm.startsWith(RSA_SHA2_256)) return AGENT_SIGN_FLAGS.RSA_SHA2_256;
  if (algorithm.startsWith(RSA_SHA2_512)) return AGENT_SIGN_FLAGS.RSA_SHA2_512;
  return 0;
}

/** The signature type a signature made as `algorithm` carries: a certificate signs as its plain key. */
export function signatureTypeFor(algorithm: string): string {
  return algorithm.endsWith(CERT_SUFFIX) ? algorithm.slice(0, -CERT_SUFFIX.length) : algorithm;
}

/** Agent comments are free text; undecodable bytes become U+FFFD rather than failing the list. */
const lossy = new TextDecoder("utf-8", { fatal: false });

/** Parses SSH_AGENT_IDENTITIES_ANSWER (its type byte included). */
export function parseIdentitiesAnswer(message: Uint8Array): AgentKey[] {
  const r = new Reader(message);
  const type = r.byte("agent message type");
  if (type !== AGENT_MSG.IDENTITIES_ANSWER) throw unexpected(type, "a list of keys", AGENT_MSG.IDENTITIES_ANSWER);
  const count = r.uint32("number of keys");
  if (count > AGENT_MAX_IDENTITIES)
    throw protocolError(`agent claims ${count} keys; at most ${AGENT_MAX_IDENTITIES} are accepted`);
  // Each key is at least two empty strings: a count its bytes cannot hold is refused up front.
  if (count * 8 > r.remaining)
    throw protocolError(`agent claims ${count} keys but only ${r.remaining} bytes follow (each needs at least 8)`);
  const keys: AgentKey[] = [];
  for (let i = 0; i < count; i++) {
    const blob = r.string(`agent key ${i + 1} blob`).slice();
    const comment = lossy.decode(r.string(`agent key ${i + 1} comment`));
    keys.push(describeAgentKey(blob, comment, i + 1));
  }
  r.done("agent list of keys");
  return keys;
}

/** Parses SSH_AGENT_SIGN_RESPONSE; the signature must be of the type `algorithm` makes. */
export function parseSignResponse(message: Uint8Array, algorithm: string): Uint8Array {
  const r = new Reader(message);
  const type = r.byte("agent message type");
  if (type !== AGENT_MSG.SIGN_RESPONSE) throw unexpected(type, "a signature", AGENT_MSG.SIGN_RESPONSE);
  const signature = r.string("agent signature").slice();
  r.done("agent signature response");
  const s = new Reader(signature);
  const sigType = s.ascii("agent signature type");
  s.string("agent signature bytes");
  s.done("agent signature blob");
  // An agent that ignores the rsa-sha2 flags answers with ssh-rsa (SHA-1), which a server
  // checking rsa-sha2-512 would refuse with a message that says nothing about why.
  const want = signatureTypeFor(algorithm);
  if (sigType !== want)
    throw protocolError(`agent signed as ${peerText(sigType, { max: 64 })} where ${want} was asked for`);
  return signature;
}

function unexpected(type: number, what: string, expected: number): SshError {
  if (type === AGENT_MSG.FAILURE || type === AGENT_MSG.EXTENSION_FAILURE)
    return agentError(`the agent refused to send ${what}`);
  return protocolError(
    `agent sent message type ${type} where ${what} (type ${expected}) or a failure (5) was expected`,
  );
}

/** The plain-key fields that follow type and nonce in each certificate type (OpenSSH PROTOCOL.certkeys). */
function certificateKeyFields(plain: string): number | undefined {
  if (plain === SSH_ED25519) return 1; // string pk
  if (plain === SSH_RSA) return 2; // mpint e, mpint n
  if (plain.startsWith(ECDSA_SHA2_PREFIX)) return 2; // string curve, string Q
  return undefined;
}

/** Types and algorithms for one listed blob. Unknown types are kept (listed) with no algorithms. */
export function describeAgentKey(blob: Uint8Array, comment: string, index = 1): AgentKey {
  let type: string;
  try {
    type = new Reader(blob).ascii("key type");
  } catch {
    throw protocolError(`agent key ${index} has no readable key type`);
  }
  const certificate = type.endsWith(CERT_SUFFIX);
  const plainType = certificate ? type.slice(0, -CERT_SUFFIX.length) : type;
  const fields = certificateKeyFields(plainType);
  if (fields === undefined) {
    return { blob, comment, type, certificate, keyType: plainType, keyBlob: blob, signatureAlgorithms: [] };
  }
  let keyBlob = blob;
  try {
    if (certificate) {
      // string type, string nonce, then the key's own fields: the plain blob is its type and those.
      const r = new Reader(blob);
      r.string("certificate type");
      r.string("certificate nonce");
      const start = r.pos;
      for (let i = 0; i < fields; i++) r.string("certificate key field");
      keyBlob = new Writer(r.pos - start + plainType.length + 4)
        .string(plainType)
        .raw(blob.subarray(start, r.pos))
        .bytes();
    }
    parsePublicKeyBlob(keyBlob);
  } catch (err) {
    throw protocolError(`agent key ${index} (${type}) is malformed: ${(err as Error).message}`);
  }
  const rsa = plainType === SSH_RSA;
  const suffix = certificate ? CERT_SUFFIX : "";
  const signatureAlgorithms = rsa ? [`${RSA_SHA2_512}${suffix}`, `${RSA_SHA2_256}${suffix}`] : [type];
  return { blob, comment, type, certificate, keyType: plainType, keyBlob, signatureAlgorithms };
}

/**
 * Reassembles the agent's framed replies. The length is checked (1 … AGENT_MAX_MESSAGE) as
 * soon as its four bytes are in; the message is joined only once all of it has arrived, so
 * what is held is what the agent sent, never what it claimed.
 */
export class AgentFramer {
  private chunks: Uint8Array[] = [];
  private held = 0;

  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.held += chunk.length;
    }
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.held < 4) return out;
      const head = this.peek(4);
      const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
      if (len === 0) throw protocolError("agent sent an empty message");
      if (len > AGENT_MAX_MESSAGE)
        throw protocolError(`agent message of ${len} bytes; at most ${AGENT_MAX_MESSAGE} are accepted`);
      if (this.held < 4 + len) return out;
      const all = this.take(4 + len);
      out.push(all.subarray(4));
    }
  }

  /** Bytes of an unfinished message still held. */
  get pending(): number {
    return this.held;
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    if (first.length >= n) return first;
    return this.join().subarray(0, n);
  }

  private take(n: number): Uint8Array {
    const all = this.join();
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.held = rest.length;
    return all.subarray(0, n);
  }

  private join(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0] as Uint8Array;
    const all = new Uint8Array(this.held);
    let off = 0;
    for (const c of this.chunks) {
      all.set(c, off);
      off += c.length;
    }
    this.chunks = [all];
    return all;
  }
}

// ------------------------------------------------------------------ client

interface Pending {
  resolve(message: Uint8Array): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** How an `AgentClient` waits and names its agent. */
export interface AgentClientOptions {
  /** How long each request may wait for its reply (default AGENT_TIMEOUT_MS; 0: no limit). */
  timeoutMs?: number;
  /** Names the agent in messages, e.g. its socket path (default "the agent"). */
  name?: string;
}

/**
 * One connection to an agent. Requests go one at a time in order (the protocol has no
 * request ids: the agent answers in order); any malformed reply, a reply nobody asked for, or
 * a timeout ends the connection and fails what is pending.
 */
export class AgentClient {
  private readonly framer = new AgentFramer();
  private readonly queue: Pending[] = [];
  private failed: Error | undefined;
  private readonly timeoutMs: number;
  /** How errors name the agent (`options.name`; "the agent" by default). */
  readonly name: string;

  constructor(
    private readonly conn: Conn,
    options: AgentClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? AGENT_TIMEOUT_MS;
    this.name = options.name ?? "the agent";
    conn.setHandlers({
      data: (chunk) => this.onData(chunk),
      drain: () => {},
      end: () => this.fail(new SshError("CONNECTION_LOST", `${this.name} closed the connection`)),
      close: (err) =>
        this.fail(
          new SshError(
            "CONNECTION_LOST",
            `${this.name} closed the connection${err ? `: ${err.message}` : ""}`,
            err ? { cause: err } : undefined,
          ),
        ),
    });
  }

  /** Every key the agent holds, in its order (OpenSSH's `ssh-add -L` order). */
  async listIdentities(): Promise<AgentKey[]> {
    return parseIdentitiesAnswer(await this.request(encodeRequestIdentities()));
  }

  /**
   * Has the agent sign `data` with `key` as `algorithm` (one of its `signatureAlgorithms`).
   * Returns the SSH signature blob (`string type, string signature`). A refusal (the key was
   * removed, confirmation denied) is an `SshError` AGENT_REFUSED naming the key.
   */
  async sign(key: AgentKey, data: Uint8Array, algorithm: string): Promise<Uint8Array> {
    if (!key.signatureAlgorithms.includes(algorithm))
      throw new RangeError(
        `algorithm "${algorithm}" is not one that ${key.type} key signs with (${key.signatureAlgorithms.join(", ") || "none"})`,
      );
    const reply = await this.request(encodeSignRequest(key.blob, data, signFlagsFor(algorithm)));
    if (reply[0] === AGENT_MSG.FAILURE || reply[0] === AGENT_MSG.EXTENSION_FAILURE)
      throw agentError(
        `${this.name} refused to sign with ${key.type} key "${peerText(key.comment, { max: 80 })}" (removed, or its confirmation was denied?)`,
      );
    return parseSignResponse(reply, algorithm);
  }

  /** Closes the connection; pending requests fail. */
  close(): void {
    this.fail(new SshError("CONNECTION_LOST", `connection to ${this.name} closed`));
  }

  private request(framed: Uint8Array): Promise<Uint8Array> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<Uint8Array>((resolve, reject) => {
      const pending: Pending = { resolve, reject, timer: undefined };
      if (this.timeoutMs > 0) {
        pending.timer = setTimeout(
          () => this.fail(new SshError("TIMEOUT", `${this.name} did not answer within ${this.timeoutMs} ms`)),
          this.timeoutMs,
        );
      }
      this.queue.push(pending);
      this.conn.write(framed);
    });
  }

  private onData(chunk: Uint8Array): void {
    if (this.failed) return;
    let messages: Uint8Array[];
    try {
      messages = this.framer.push(chunk);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    for (const message of messages) {
      const pending = this.queue.shift();
      if (!pending) {
        this.fail(protocolError(`${this.name} sent message type ${message[0]} with no request outstanding`));
        return;
      }
      clearTimeout(pending.timer);
      pending.resolve(message);
    }
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    for (const p of this.queue.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.conn.destroy();
  }
}

/**
 * An agent key as an identity for publickey authentication: the public key the agent listed
 * (a certificate blob goes out as it is, named by its certificate algorithm), signatures made
 * by the agent. `file`: the configured key file it matched, which names it in messages (ssh -v
 * does the same). Keys of types we do not know have no algorithms: `ClientAuth` skips them.
 */
export function agentIdentity(agent: AgentClient, key: AgentKey, file?: string): Identity {
  return {
    type: key.type,
    publicKey: { blob: key.blob, comment: key.comment },
    signatureAlgorithms: key.signatureAlgorithms,
    agent: true,
    ...(file !== undefined ? { source: file } : {}),
    keyBlob: key.keyBlob,
    sign: (data, algorithm) => agent.sign(key, data, algorithm),
  };
}
