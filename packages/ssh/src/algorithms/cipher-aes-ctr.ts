/**
 * AES-CTR ciphers (RFC 4344 §4) with a separate MAC: plain (RFC 4253 §6.4, MAC over
 * seq ‖ plaintext packet) or encrypt-then-MAC (OpenSSH PROTOCOL §1.5, MAC over
 * seq ‖ uint32 length ‖ ciphertext, the length in clear).
 *
 * The counter is the IV, a 128-bit big-endian integer that runs on across packets; every
 * chunk we process is a whole number of 16-byte blocks, so the state is the counter alone.
 */
import { type CryptoProvider, equalBytes, type HmacStream, wipe } from "../crypto/provider.ts";
import { macError } from "../errors.ts";
import { CIPHER_NAME } from "./cipher-names.ts";
import type { CipherAlgorithm, DirectionKeys, MacAlgorithm, PacketOpener, PacketSealer } from "./types.ts";

const BLOCK = 16;

/** Adds `blocks` to the 128-bit big-endian counter in place. */
export function addCounter(ctr: Uint8Array, blocks: number): void {
  let carry = blocks;
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const v = (ctr[i] as number) + (carry % 256);
    ctr[i] = v & 0xff;
    carry = Math.floor(carry / 256) + (v >> 8);
  }
}

class CtrStream {
  readonly counter: Uint8Array;
  constructor(
    private readonly provider: CryptoProvider,
    private readonly key: Uint8Array,
    iv: Uint8Array,
  ) {
    this.counter = iv.slice(0, BLOCK);
  }
  /** Encrypts/decrypts whole blocks and advances the counter. */
  apply(data: Uint8Array): Uint8Array {
    const out = this.provider.aesCtr(this.key, this.counter, data);
    addCounter(this.counter, data.length / BLOCK);
    return out;
  }
  dispose(): void {
    wipe(this.key, this.counter);
  }
}

function seqBytes(seq: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, seq);
  return b;
}

function requireMac(keys: DirectionKeys): { algorithm: MacAlgorithm; key: Uint8Array } {
  if (!keys.mac) throw new TypeError("aes-ctr needs a MAC key");
  return keys.mac;
}

class CtrSealer implements PacketSealer {
  readonly blockSize = BLOCK;
  readonly lengthApart: boolean;
  readonly overhead: number;
  readonly impl: string;
  private readonly stream: CtrStream;
  private readonly mac: HmacStream;
  constructor(keys: DirectionKeys, provider: CryptoProvider) {
    const m = requireMac(keys);
    this.lengthApart = m.algorithm.etm;
    this.overhead = m.algorithm.macLength;
    this.stream = new CtrStream(provider, keys.key.slice(), keys.iv);
    this.mac = provider.hmacStream(m.algorithm.hash, m.key);
    this.impl = `${provider.implementation("aes-ctr")}+${provider.implementation("hmac")}`;
  }
  seal(seq: number, packet: Uint8Array): Uint8Array {
    const out = new Uint8Array(packet.length + this.overhead);
    if (this.lengthApart) {
      out.set(packet.subarray(0, 4));
      out.set(this.stream.apply(packet.subarray(4)), 4);
      out.set(this.mac.mac([seqBytes(seq), out.subarray(0, packet.length)]), packet.length);
    } else {
      const tag = this.mac.mac([seqBytes(seq), packet]);
      out.set(this.stream.apply(packet));
      out.set(tag, packet.length);
    }
    return out;
  }
  dispose(): void {
    this.stream.dispose();
    this.mac.dispose();
  }
}

class CtrOpener implements PacketOpener {
  readonly blockSize = BLOCK;
  readonly lengthApart: boolean;
  readonly overhead: number;
  readonly headerSize: number;
  readonly impl: string;
  private readonly stream: CtrStream;
  private readonly mac: HmacStream;
  /** Plain mode: the first block, decrypted by peekLength (the counter has moved past it). */
  private firstBlock: Uint8Array | undefined;
  constructor(keys: DirectionKeys, provider: CryptoProvider) {
    const m = requireMac(keys);
    this.lengthApart = m.algorithm.etm;
    this.overhead = m.algorithm.macLength;
    this.headerSize = this.lengthApart ? 4 : BLOCK;
    this.stream = new CtrStream(provider, keys.key.slice(), keys.iv);
    this.mac = provider.hmacStream(m.algorithm.hash, m.key);
    this.impl = `${provider.implementation("aes-ctr")}+${provider.implementation("hmac")}`;
  }
  peekLength(_seq: number, header: Uint8Array): number {
    if (this.lengthApart) return new DataView(header.buffer, header.byteOffset, 4).getUint32(0);
    this.firstBlock = this.stream.apply(header.slice(0, BLOCK));
    return new DataView(this.firstBlock.buffer, this.firstBlock.byteOffset, 4).getUint32(0);
  }
  open(seq: number, wire: Uint8Array): Uint8Array {
    const end = wire.length - this.overhead;
    const tag = wire.subarray(end);
    if (this.lengthApart) {
      // Encrypt-then-MAC: authenticate before decrypting anything.
      const want = this.mac.mac([seqBytes(seq), wire.subarray(0, end)]);
      if (!equalBytes(want, tag)) throw macError();
      return this.stream.apply(wire.subarray(4, end));
    }
    const first = this.firstBlock;
    if (!first) throw new TypeError("peekLength must run before open");
    this.firstBlock = undefined;
    const plain = new Uint8Array(end);
    plain.set(first);
    plain.set(this.stream.apply(wire.subarray(BLOCK, end)), BLOCK);
    const want = this.mac.mac([seqBytes(seq), plain]);
    if (!equalBytes(want, tag)) throw macError();
    return plain.subarray(4);
  }
  dispose(): void {
    this.stream.dispose();
    this.mac.dispose();
  }
}

const ctr = (name: string, keyLength: number): CipherAlgorithm => ({
  name,
  keyLength,
  ivLength: BLOCK,
  blockSize: BLOCK,
  aead: false,
  createSealer: (keys, provider) => new CtrSealer(keys, provider),
  createOpener: (keys, provider) => new CtrOpener(keys, provider),
});

export const AES_CTR_CIPHERS: readonly CipherAlgorithm[] = [
  ctr(CIPHER_NAME.AES128_CTR, 16),
  ctr(CIPHER_NAME.AES192_CTR, 24),
  ctr(CIPHER_NAME.AES256_CTR, 32),
];
