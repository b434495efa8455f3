/**
 * chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305).
 *
 * The 64-byte key is K_2 (first 32 bytes, the main key) ‖ K_1 (last 32, the length key).
 * The nonce is the packet sequence number as a 64-bit big-endian integer, with DJB's original
 * ChaCha20 (64-bit nonce, 64-bit block counter). The length is encrypted with K_1 at block 0;
 * the Poly1305 key is the first 32 bytes of K_2's block 0; the payload is encrypted with K_2
 * from block 1; the tag covers the encrypted length and the ciphertext.
 *
 * K_2's keystream is drawn as one stream (`chacha20Stream`): block 0 for the Poly1305 key, then
 * the payload, given in parts or whole, from block 1 on — one cipher set-up per packet for it.
 */
import { type ChaCha20Stream, type CryptoProvider, equalBytes, wipe } from "../crypto/provider.ts";
import { macError } from "../errors.ts";
import { CIPHER_NAME } from "./cipher-names.ts";
import type { CipherAlgorithm, DirectionKeys, PacketOpener, PacketSealer } from "./types.ts";

const TAG = 16;
/** K_2's block 0: its first 32 bytes are the Poly1305 key; the payload starts at block 1. */
const BLOCK0 = new Uint8Array(64);

function nonceOf(seq: number): Uint8Array {
  const n = new Uint8Array(8);
  new DataView(n.buffer).setUint32(4, seq);
  return n;
}

class Keys {
  readonly main: Uint8Array;
  readonly header: Uint8Array;
  constructor(key: Uint8Array) {
    if (key.length !== 64) throw new TypeError(`chacha20-poly1305 needs a 64-byte key, got ${key.length}`);
    this.main = key.slice(0, 32);
    this.header = key.slice(32, 64);
  }
  /** K_2's keystream for this packet, and the Poly1305 key taken from its block 0. */
  payloadStream(
    provider: CryptoProvider,
    nonce: Uint8Array,
  ): { stream: ChaCha20Stream; block0: Uint8Array; polyKey: Uint8Array } {
    const stream = provider.chacha20Stream(this.main, nonce, 0);
    const block0 = stream(BLOCK0);
    return { stream, block0, polyKey: block0.subarray(0, 32) };
  }
  dispose(): void {
    wipe(this.main, this.header);
  }
}

/**
 * The packet in pieces as they are sealed — encrypted length, ciphertext of each part, tag —
 * with the tag taken over the pieces: nothing is copied together, the socket gathers them.
 */
function sealParts(
  p: CryptoProvider,
  keys: Keys,
  seq: number,
  head: Uint8Array,
  body: Uint8Array,
  padding: Uint8Array,
): Uint8Array[] {
  const nonce = nonceOf(seq);
  const pieces = [p.chacha20(keys.header, nonce, head.subarray(0, 4), 0)];
  const { stream, block0, polyKey } = keys.payloadStream(p, nonce);
  for (const part of [head.subarray(4), body, padding]) if (part.length > 0) pieces.push(stream(part));
  pieces.push(p.poly1305(polyKey, pieces));
  wipe(block0);
  return pieces;
}

class ChachaSealer implements PacketSealer {
  readonly blockSize = 8;
  readonly lengthApart = true;
  readonly overhead = TAG;
  readonly impl: string;
  private readonly keys: Keys;
  constructor(
    keys: DirectionKeys,
    private readonly provider: CryptoProvider,
  ) {
    this.keys = new Keys(keys.key);
    this.impl = `${provider.implementation("chacha20")}+${provider.implementation("poly1305")}`;
    if (provider.streams?.includes("chacha20"))
      this.sealParts = (seq, head, body, padding) => sealParts(provider, this.keys, seq, head, body, padding);
  }
  /** Only where ChaCha20 streams natively: noble's fast path wants the payload whole and aligned. */
  sealParts?: PacketSealer["sealParts"];
  seal(seq: number, packet: Uint8Array): Uint8Array {
    const p = this.provider;
    const nonce = nonceOf(seq);
    const out = new Uint8Array(packet.length + TAG);
    out.set(p.chacha20(this.keys.header, nonce, packet.subarray(0, 4), 0));
    const { stream, block0, polyKey } = this.keys.payloadStream(p, nonce);
    out.set(stream(packet.subarray(4)), 4);
    out.set(p.poly1305(polyKey, out.subarray(0, packet.length)), packet.length);
    wipe(block0);
    return out;
  }
  dispose(): void {
    this.keys.dispose();
  }
}

class ChachaOpener implements PacketOpener {
  readonly blockSize = 8;
  readonly lengthApart = true;
  readonly overhead = TAG;
  readonly headerSize = 4;
  readonly impl: string;
  private readonly keys: Keys;
  constructor(
    keys: DirectionKeys,
    private readonly provider: CryptoProvider,
  ) {
    this.keys = new Keys(keys.key);
    this.impl = `${provider.implementation("chacha20")}+${provider.implementation("poly1305")}`;
  }
  peekLength(seq: number, header: Uint8Array): number {
    const len = this.provider.chacha20(this.keys.header, nonceOf(seq), header.subarray(0, 4), 0);
    return new DataView(len.buffer, len.byteOffset, 4).getUint32(0);
  }
  open(seq: number, wire: Uint8Array): Uint8Array {
    const p = this.provider;
    const nonce = nonceOf(seq);
    const end = wire.length - TAG;
    const { stream, block0, polyKey } = this.keys.payloadStream(p, nonce);
    const want = p.poly1305(polyKey, wire.subarray(0, end));
    wipe(block0);
    // Authenticate before decrypting (PROTOCOL.chacha20poly1305).
    if (!equalBytes(want, wire.subarray(end))) throw macError();
    return stream(wire.subarray(4, end));
  }
  dispose(): void {
    this.keys.dispose();
  }
}

export const CHACHA20_POLY1305: CipherAlgorithm = {
  name: CIPHER_NAME.CHACHA20_POLY1305,
  keyLength: 64,
  ivLength: 0,
  blockSize: 8,
  aead: true,
  createSealer: (keys, provider) => new ChachaSealer(keys, provider),
  createOpener: (keys, provider) => new ChachaOpener(keys, provider),
};
