/**
 * aes128-gcm@openssh.com and aes256-gcm@openssh.com (RFC 5647 §7 as OpenSSH uses them,
 * OpenSSH PROTOCOL §1.6): the 4-byte packet length is authenticated as AAD but sent in clear;
 * the 12-byte nonce is a 4-byte fixed field and an 8-byte invocation counter that increases by
 * one per packet (RFC 5647 §7.1). The negotiated MAC is ignored (§5.1).
 */
import { type CryptoProvider, wipe } from "../crypto/provider.ts";
import { macError } from "../errors.ts";
import { CIPHER_NAME } from "./cipher-names.ts";
import type { CipherAlgorithm, DirectionKeys, PacketOpener, PacketSealer } from "./types.ts";

const TAG = 16;

class Nonce {
  readonly iv: Uint8Array;
  constructor(iv: Uint8Array) {
    this.iv = iv.slice(0, 12);
  }
  /** RFC 5647 §7.1: invocation_counter += 1, as a 64-bit big-endian integer. */
  next(): void {
    for (let i = 11; i >= 4; i--) {
      this.iv[i] = ((this.iv[i] as number) + 1) & 0xff;
      if (this.iv[i] !== 0) break;
    }
  }
}

/** The packet sealed from its parts: clear length, then ciphertext and tag as the provider gives them. */
function sealParts(
  p: CryptoProvider,
  key: Uint8Array,
  nonce: Nonce,
  head: Uint8Array,
  body: Uint8Array,
  padding: Uint8Array,
): Uint8Array[] {
  // The clear length goes out first; `head` is the writer's scratch buffer, so it is copied.
  const aad = head.slice(0, 4);
  const pieces = p.aesGcmSeal(key, nonce.iv, [head.subarray(4), body, padding], aad);
  pieces.unshift(aad);
  nonce.next();
  return pieces;
}

class GcmSealer implements PacketSealer {
  readonly blockSize = 16;
  readonly lengthApart = true;
  readonly overhead = TAG;
  readonly impl: string;
  private readonly key: Uint8Array;
  private readonly nonce: Nonce;
  constructor(
    keys: DirectionKeys,
    private readonly provider: CryptoProvider,
  ) {
    this.key = keys.key.slice();
    this.nonce = new Nonce(keys.iv);
    this.impl = provider.implementation("aes-gcm");
    if (provider.streams?.includes("aes-gcm"))
      this.sealParts = (_seq, head, body, padding) => sealParts(provider, this.key, this.nonce, head, body, padding);
  }
  sealParts?: PacketSealer["sealParts"];
  seal(_seq: number, packet: Uint8Array): Uint8Array {
    // RFC 5647 §7.3: the clear length field is the AAD, and goes out in front of the ciphertext.
    const aad = packet.subarray(0, 4);
    const out = this.provider.aesGcmEncrypt(this.key, this.nonce.iv, packet.subarray(4), aad, aad);
    this.nonce.next();
    return out;
  }
  dispose(): void {
    wipe(this.key, this.nonce.iv);
  }
}

class GcmOpener implements PacketOpener {
  readonly blockSize = 16;
  readonly lengthApart = true;
  readonly overhead = TAG;
  readonly headerSize = 4;
  readonly impl: string;
  private readonly key: Uint8Array;
  private readonly nonce: Nonce;
  constructor(
    keys: DirectionKeys,
    private readonly provider: CryptoProvider,
  ) {
    this.key = keys.key.slice();
    this.nonce = new Nonce(keys.iv);
    this.impl = provider.implementation("aes-gcm");
  }
  peekLength(_seq: number, header: Uint8Array): number {
    return new DataView(header.buffer, header.byteOffset, 4).getUint32(0);
  }
  open(_seq: number, wire: Uint8Array): Uint8Array {
    let plain: Uint8Array;
    try {
      plain = this.provider.aesGcmDecrypt(this.key, this.nonce.iv, wire.subarray(4), wire.subarray(0, 4));
    } catch {
      throw macError();
    }
    this.nonce.next();
    return plain;
  }
  dispose(): void {
    wipe(this.key, this.nonce.iv);
  }
}

const gcm = (name: string, keyLength: number): CipherAlgorithm => ({
  name,
  keyLength,
  ivLength: 12,
  blockSize: 16,
  aead: true,
  createSealer: (keys, provider) => new GcmSealer(keys, provider),
  createOpener: (keys, provider) => new GcmOpener(keys, provider),
});

export const AES_GCM_CIPHERS: readonly CipherAlgorithm[] = [
  gcm(CIPHER_NAME.AES128_GCM, 16),
  gcm(CIPHER_NAME.AES256_GCM, 32),
];
