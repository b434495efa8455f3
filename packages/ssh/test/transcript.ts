/**
 * Key exchange transcripts: one recorded session between our side (client or server) and a
 * real OpenSSH, that our side must reproduce byte for byte from the same fixed randomness and
 * complete against the recorded peer bytes (the idea of Go x/crypto/ssh's testdata/Client-*).
 *
 * The same code runs our side when recording (test/harness/record-kex-transcripts.ts, over a
 * TCP socket to the OpenSSH under test, through `TapConn`) and when replaying
 * (kex-transcripts.test.ts, over `ReplayConn`): the fixed user and host keys, the seeded
 * randomness, the software version and the algorithm lists are all here, so a recording
 * replays as long as our wire behaviour does not change. When it changes on purpose, record
 * again (README, "Tests").
 */
import { sha512 } from "@noble/hashes/sha2.js";
import { SshClient } from "../src/client.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import type { RandomSource } from "../src/crypto/provider.ts";
import { ed25519FromSeed } from "../src/keys/generate.ts";
import type { PrivateKey } from "../src/keys/types.ts";
import type { Conn, ConnHandlers } from "../src/runtime/types.ts";
import { SshServerConnection } from "../src/server.ts";
import type { AlgorithmLists } from "../src/transport/transport.ts";

export interface TranscriptChunk {
  /** Who sent the bytes: our side or the OpenSSH peer. */
  from: "us" | "peer";
  /** Base64. */
  data: string;
}

export interface Transcript {
  /** What this is, for a reader of the file. */
  description: string;
  /** The key exchange method, the only one either side offered. */
  kex: string;
  /** The role our side played. */
  ourRole: "client" | "server";
  /** The peer's identification line. */
  peerVersion: string;
  /** Seeds our randomness (`seededRandom`). */
  seed: string;
  user: string;
  /** The peer's key blob (base64): the server's host key, or the client's user key. */
  peerKey: string;
  /** Every chunk either side sent, in the order our side wrote or received them. */
  chunks: TranscriptChunk[];
}

/** Identification software of our side in transcripts (not the product's, so a version bump does not break them). */
export const TRANSCRIPT_SOFTWARE = "tunnel_transcript";

const encoder = new TextEncoder();

/** A deterministic RandomSource: SHA-512(seed ‖ counter) blocks, as one stream. */
export function seededRandom(seed: string): RandomSource {
  const key = encoder.encode(seed);
  let counter = 0;
  let block = new Uint8Array(0);
  let pos = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let at = 0; at < n; ) {
      if (pos === block.length) {
        const input = new Uint8Array(key.length + 4);
        input.set(key);
        new DataView(input.buffer).setUint32(key.length, counter++);
        block = sha512(input);
        pos = 0;
      }
      const take = Math.min(n - at, block.length - pos);
      out.set(block.subarray(pos, pos + take), at);
      at += take;
      pos += take;
    }
    return out;
  };
}

function fixedKey(label: string): PrivateKey {
  return ed25519FromSeed(nobleProvider, sha512(encoder.encode(label)).subarray(0, 32), label);
}

/** Our user key when we are the client; our host key when we are the server. Fixed, test-only. */
export const ourClientKey = (): PrivateKey => fixedKey("tunnel kex transcript: user key");
export const ourHostKey = (): PrivateKey => fixedKey("tunnel kex transcript: host key");

export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * Every list pinned, not our defaults: a change of default order must not change what a
 * transcript session sends. ChaCha20-Poly1305 (an AEAD, so the MAC list goes unused but is
 * still in KEXINIT) because OpenSSH offers it first.
 */
function transcriptAlgorithms(kex: string): AlgorithmLists {
  return {
    kex: [kex],
    hostKey: ["ssh-ed25519"],
    cipher: ["chacha20-poly1305@openssh.com"],
    mac: ["hmac-sha2-256-etm@openssh.com"],
  };
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

export interface OurSideResult {
  /** The method negotiated. */
  kex: string | undefined;
  /** How the client logged in. */
  method: string;
  user: string;
}

/**
 * Our client: offers only `kex` and ssh-ed25519 host keys, accepts only the host key
 * `peerKey`, logs in as `user` with `ourClientKey()`, then disconnects.
 */
export async function runOurClient(
  conn: Conn,
  t: Pick<Transcript, "kex" | "seed" | "user" | "peerKey">,
): Promise<OurSideResult> {
  const want = fromBase64(t.peerKey);
  const client = new SshClient(conn, {
    host: "127.0.0.1",
    port: 22,
    username: t.user,
    identities: [ourClientKey()],
    verifyHostKey: (info) => sameBytes(info.key.blob, want),
    algorithms: transcriptAlgorithms(t.kex),
    provider: nobleProvider,
    random: seededRandom(t.seed),
    software: TRANSCRIPT_SOFTWARE,
  });
  const auth = await client.start(20_000);
  const result = { kex: client.info.negotiated?.kex, method: auth.method, user: t.user };
  client.close("transcript done");
  return result;
}

/**
 * Our server: offers only `kex` and our ssh-ed25519 host key, lets `user` in with the key
 * `peerKey` only, and disconnects once the client has logged in.
 */
export function runOurServer(
  conn: Conn,
  t: Pick<Transcript, "kex" | "seed" | "user" | "peerKey">,
): Promise<OurSideResult> {
  const want = fromBase64(t.peerKey);
  const server = new SshServerConnection(conn, {
    hostKeys: [ourHostKey()],
    auth: { publicKey: (user, key) => (user === t.user && sameBytes(key.blob, want) ? {} : false) },
    algorithms: transcriptAlgorithms(t.kex),
    provider: nobleProvider,
    random: seededRandom(t.seed),
    software: TRANSCRIPT_SOFTWARE,
    loginGraceMs: 0,
  });
  return new Promise((resolve, reject) => {
    server.onceClosed((err) => reject(err ?? new Error("the connection closed before the client logged in")));
    server.authenticated.then((auth) => {
      resolve({ kex: server.info.negotiated?.kex, method: auth.method, user: auth.user });
      server.close("transcript done");
    }, reject);
  });
}

/** Wraps a live connection and records every chunk written and received, in order. */
export class TapConn implements Conn {
  readonly chunks: TranscriptChunk[] = [];
  /** Resolves when the connection is gone. */
  readonly closed: Promise<void>;
  private markClosed!: () => void;
  constructor(private readonly inner: Conn) {
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
  }
  write(data: Uint8Array): boolean {
    this.chunks.push({ from: "us", data: toBase64(data) });
    return this.inner.write(data);
  }
  setHandlers(handlers: ConnHandlers): void {
    this.inner.setHandlers({
      ...handlers,
      data: (chunk) => {
        this.chunks.push({ from: "peer", data: toBase64(chunk) });
        handlers.data(chunk);
      },
      close: (error) => {
        handlers.close(error);
        this.markClosed();
      },
    });
  }
  end(): void {
    this.inner.end();
  }
  destroy(): void {
    this.inner.destroy();
  }
  reset(): void {
    this.inner.reset();
  }
  pause(): void {
    this.inner.pause();
  }
  resume(): void {
    this.inner.resume();
  }
  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }
  get remotePort(): number {
    return this.inner.remotePort;
  }
  get localAddress(): string {
    return this.inner.localAddress;
  }
  get localPort(): number {
    return this.inner.localPort;
  }
}

/**
 * Plays the peer of a transcript. A peer chunk is delivered once our side has written as many
 * bytes as it had when that chunk arrived in the recording (so nothing arrives earlier than
 * it did); every byte we write is compared with the recording, and the first difference is
 * kept in `mismatch`. After the last peer chunk, and once we have written everything we wrote
 * in the recording, the peer closes.
 */
export class ReplayConn implements Conn {
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort = 22;
  readonly localAddress = "127.0.0.1";
  readonly localPort = 50000;
  /** The first byte where our side departed from the recording, described; undefined while it has not. */
  mismatch: string | undefined;
  private readonly expected: Uint8Array;
  private readonly peer: { after: number; data: Uint8Array }[] = [];
  private written = 0;
  private next = 0;
  private paused = false;
  private ended = false;
  private scheduled = false;
  private handlers: ConnHandlers | undefined;
  /** Resolves once the connection is closed, by either side. */
  readonly closed: Promise<void>;
  private markClosed!: () => void;

  constructor(chunks: readonly TranscriptChunk[]) {
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    const ours: Uint8Array[] = [];
    let count = 0;
    for (const c of chunks) {
      const data = fromBase64(c.data);
      if (c.from === "us") {
        ours.push(data);
        count += data.length;
      } else this.peer.push({ after: count, data });
    }
    this.expected = new Uint8Array(count);
    let at = 0;
    for (const d of ours) {
      this.expected.set(d, at);
      at += d.length;
    }
  }

  /** Bytes our side wrote / was expected to write in all. */
  get progress(): { written: number; expected: number; peerChunksDelivered: number; peerChunks: number } {
    return {
      written: this.written,
      expected: this.expected.length,
      peerChunksDelivered: this.next,
      peerChunks: this.peer.length,
    };
  }

  write(data: Uint8Array): boolean {
    if (this.ended) return false;
    for (let i = 0; i < data.length && this.mismatch === undefined; i++) {
      const at = this.written + i;
      if (at >= this.expected.length) this.mismatch = `we wrote more than the ${this.expected.length} bytes recorded`;
      else if (data[i] !== this.expected[at])
        this.mismatch = `byte ${at} of what we wrote is ${data[i]}; the recording has ${this.expected[at]}`;
    }
    this.written += data.length;
    this.schedule();
    return true;
  }

  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.ended) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      this.pump();
    }, 0);
  }

  private pump(): void {
    const h = this.handlers;
    if (!h || this.ended || this.paused) return;
    const chunk = this.peer[this.next];
    if (chunk && chunk.after <= this.written) {
      this.next++;
      h.data(chunk.data.slice());
      this.schedule();
      return;
    }
    if (!chunk && this.written >= this.expected.length) {
      this.ended = true;
      h.end();
      h.close();
      this.markClosed();
    }
  }

  end(): void {
    this.schedule();
  }
  destroy(): void {
    if (this.ended) return;
    this.ended = true;
    const h = this.handlers;
    setTimeout(() => {
      h?.close();
      this.markClosed();
    }, 0);
  }
  reset(): void {
    this.destroy();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.schedule();
  }
}
