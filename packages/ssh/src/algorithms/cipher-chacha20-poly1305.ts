/**
 * chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305).
 *
 * The 64-byte key is K_2 (first 32 bytes, the main key) ‖ K_1 (last 32, the length key).
 * The nonce is the packet sequence number as a 64-bit big-endian integer, with DJB's original
 * ChaCha20 (64-bit nonce, 64-bit block counter). The length is encrypted with K_1 at block 0;
 * the Poly1305 key is the first 32 bytes of K_2's block 0; the payload is encrypted with K_2
 * from block 1; the tag covers the encrypted length and the ciphertext.
 */
import { type CryptoProvider, equalBytes, wipe } from "../crypto/provider.ts";
import { macError } from "./cipher-aes-ctr.ts";
import type { CipherAlgorithm, DirectionKeys, PacketOpener, PacketSealer } from "./types.ts";

const TAG = 16;
const ZERO32 = new Uint8Array(32);

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
  polyKey(provider: CryptoProvider, nonce: Uint8Array): Uint8Array {
    return provider.chacha20(this.main, nonce, ZERO32, 0);
  }
  dispose(): void {
    wipe(this.main, this.header);
  }
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
  }
  seal(seq: number, packet: Uint8Array): Uint8Array {
    const p = this.provider;
    const nonce = nonceOf(seq);
    const out = new Uint8Array(packet.length + TAG);
    out.set(p.chacha20(this.keys.header, nonce, packet.subarray(0, 4), 0));
    out.set(p.chacha20(this.keys.main, nonce, packet.subarray(4), 1), 4);
    const polyKey = this.keys.polyKey(p, nonce);
    out.set(p.poly1305(polyKey, out.subarray(0, packet.length)), packet.length);
    wipe(polyKey);
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
    const polyKey = this.keys.polyKey(p, nonce);
    const want = p.poly1305(polyKey, wire.subarray(0, end));
    wipe(polyKey);
    // Authenticate before decrypting (PROTOCOL.chacha20poly1305).
    if (!equalBytes(want, wire.subarray(end))) throw macError();
    return p.chacha20(this.keys.main, nonce, wire.subarray(4, end), 1);
  }
  dispose(): void {
    this.keys.dispose();
  }
}

export const CHACHA20_POLY1305: CipherAlgorithm = {
  name: "chacha20-poly1305@openssh.com",
  keyLength: 64,
  ivLength: 0,
  blockSize: 8,
  aead: true,
  createSealer: (keys, provider) => new ChachaSealer(keys, provider),
  createOpener: (keys, provider) => new ChachaOpener(keys, provider),
};
