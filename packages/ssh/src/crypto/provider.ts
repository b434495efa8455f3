/**
 * Crypto provider seam (docs/ARCHITECTURE.md, "The layers of `@tunnel/ssh`").
 *
 * The protocol code asks this interface for every primitive. `noble.ts` implements all of
 * it in pure JS; the runtime's accelerators (`native.ts`) override single members only after a
 * known-answer test against noble passes at load.
 *
 * Randomness is not part of the provider: it is a `RandomSource` passed to the transport so
 * that tests can replay recorded sessions with a fixed RNG.
 */

export type HashName = "sha1" | "sha256" | "sha384" | "sha512";
export type EcCurveName = "p256" | "p384" | "p521";

export interface KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export interface HashStream {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

export interface HmacStream {
  /** HMAC over the concatenation of `parts` with the key fixed at creation. */
  mac(parts: readonly Uint8Array[]): Uint8Array;
  dispose(): void;
}

/** Primitive families an accelerator may take over. */
export type Primitive = "aes-gcm" | "aes-ctr" | "chacha20" | "poly1305" | "hmac" | "hash";

/** Sealing speed (bytes per second) of the AEAD constructions, measured at load by accelerated providers. */
export interface AeadSpeeds {
  "aes-gcm": number;
  "chacha20-poly1305": number;
}

/** Successive calls XOR successive bytes of one ChaCha20 keystream (see `chacha20Stream`). */
export type ChaCha20Stream = (data: Uint8Array) => Uint8Array;

/** The primitives the protocol needs (hashes, HMAC, AEADs, curves, signatures), from one implementation. */
export interface CryptoProvider {
  /** A label for reports: `noble`, or `native` when the runtime's crypto took over any primitive. */
  readonly name: string;
  /** Which implementation carries `primitive` ("noble", "node:crypto", …), for reports. */
  implementation(primitive: Primitive): string;
  /** What the default cipher order is chosen by; absent for noble (OpenSSH's order then). */
  readonly speeds?: AeadSpeeds;
  /**
   * Primitives whose streaming forms (`aesGcmSeal`, `chacha20Stream`) take parts of any length
   * at no extra cost, so the packet path hands them a packet's parts instead of joining them
   * first. Elsewhere (noble wants whole, aligned blocks) joining once is the cheaper way.
   */
  readonly streams?: readonly Primitive[];
  /** The digest of `data`. */
  hash(name: HashName, data: Uint8Array): Uint8Array;
  /** A digest fed in parts: `update` any number of times, then `digest` once. */
  hashStream(name: HashName): HashStream;
  /** HMAC (RFC 2104) of `data` under `key`. */
  hmac(name: HashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  /** An HMAC whose key is set once, for many messages (the per-packet MAC, RFC 4253 §6.4). */
  hmacStream(name: HashName, key: Uint8Array): HmacStream;
  /**
   * Returns ciphertext ‖ 16-byte tag, or `prefix` ‖ ciphertext ‖ tag when a prefix is given
   * (an SSH packet's clear length field goes in front without a second copy).
   */
  aesGcmEncrypt(
    key: Uint8Array,
    iv: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
    prefix?: Uint8Array,
  ): Uint8Array;
  /**
   * The same encryption over a plaintext in parts (a packet's header, its data, its padding),
   * encrypted as if joined and handed back in pieces whose concatenation is ciphertext ‖ tag:
   * what a streaming implementation produces part by part, left for the socket to gather
   * rather than copied together here.
   */
  aesGcmSeal(key: Uint8Array, iv: Uint8Array, parts: readonly Uint8Array[], aad: Uint8Array): Uint8Array[];
  /** Throws on tag mismatch. */
  aesGcmDecrypt(key: Uint8Array, iv: Uint8Array, ciphertextAndTag: Uint8Array, aad: Uint8Array): Uint8Array;
  /** AES-CTR with a 16-byte big-endian counter block `iv`. */
  aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /** The bare AES block function: one 16-byte `block` encrypted under `key`, no mode. */
  aesEncryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array;
  /** ChaCha20 keystream XOR: an 8-byte nonce selects DJB's original form (64-bit block counter), 12 bytes RFC 8439. */
  chacha20(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter: number): Uint8Array;
  /** The same keystream as a stream from block `counter`: each call XORs the next `data.length` bytes. */
  chacha20Stream(key: Uint8Array, nonce: Uint8Array, counter: number): ChaCha20Stream;
  /** The tag of `data`, or of its parts as if joined (a packet's pieces as they will be sent). */
  poly1305(key: Uint8Array, data: Uint8Array | readonly Uint8Array[]): Uint8Array;
  /** X25519 (RFC 7748), for curve25519-sha256 (RFC 8731) and the hybrid exchanges built on it. */
  x25519: {
    generate(): KeyPair;
    /** Throws if the result is all zero (low-order point). */
    shared(secretKey: Uint8Array, peerPublic: Uint8Array): Uint8Array;
  };
  /** ECDH over NIST P-256, P-384 and P-521, for ecdh-sha2-nistp* key exchange (RFC 5656 §4). */
  ecdh: {
    /** publicKey is the uncompressed SEC1 point. */
    generate(curve: EcCurveName): KeyPair;
    /** Shared x coordinate; throws if the peer point is not on the curve. */
    shared(curve: EcCurveName, secretKey: Uint8Array, peerPublic: Uint8Array): Uint8Array;
    validatePoint(curve: EcCurveName, point: Uint8Array): void;
  };
  /** Ed25519 (RFC 8032), for ssh-ed25519 keys (RFC 8709); the secret key is the 32-byte seed. */
  ed25519: {
    generate(): KeyPair;
    publicFromSecret(seed: Uint8Array): Uint8Array;
    sign(seed: Uint8Array, msg: Uint8Array): Uint8Array;
    verify(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean;
  };
  /**
   * ECDSA over the NIST curves, for ecdsa-sha2-nistp* keys (RFC 5656 §3): `sign` and `verify`
   * hash `msg` with the curve's hash (RFC 5656 §6.2.1); signatures are `r` and `s`.
   */
  ecdsa: {
    generate(curve: EcCurveName): KeyPair;
    publicFromSecret(curve: EcCurveName, secretKey: Uint8Array): Uint8Array;
    sign(curve: EcCurveName, secretKey: Uint8Array, msg: Uint8Array): { r: Uint8Array; s: Uint8Array };
    verify(curve: EcCurveName, publicKey: Uint8Array, msg: Uint8Array, r: Uint8Array, s: Uint8Array): boolean;
  };
}

/** Returns `n` cryptographically random bytes. */
export type RandomSource = (n: number) => Uint8Array;

/** Default randomness: the Web Crypto API, present in Node ≥ 20, Bun and Deno. */
export const systemRandom: RandomSource = (n) => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) globalThis.crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
};

/** Overwrite secret material (docs/ARCHITECTURE.md, "Conventions"). */
export function wipe(...bufs: (Uint8Array | undefined)[]): void {
  for (const b of bufs) b?.fill(0);
}

/** A plaintext given in parts, as one buffer (a single part is returned as it is). */
export function joinParts(parts: Uint8Array | readonly Uint8Array[]): Uint8Array {
  if (parts instanceof Uint8Array) return parts;
  if (parts.length === 1) return parts[0] as Uint8Array;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Constant-time comparison for MACs and tags. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}
