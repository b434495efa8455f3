/**
 * Crypto layer: bcrypt-pbkdf, the key derivation of OpenSSH's `openssh-key-v1` files (OpenSSH
 * PROTOCOL.key, kdfname "bcrypt", kdfoptions `string salt, uint32 rounds`). Defined by
 * OpenBSD's bcrypt_pbkdf(3): PBKDF2's structure (RFC 8018 §5.2) with SHA-512 collapsing the
 * password and each round's salt, and a bcrypt-like hash as the pseudo-random function:
 *
 *   hash(P, S): state = eksblowfish setup with salt S and key P (both 64 bytes), then 64 times
 *   ExpandKey(S) and ExpandKey(P); encrypt "OxychromaticBlowfishSwatDynamite" 64 times (ECB);
 *   output its 8 words little-endian (32 bytes).
 *
 *   Block `count` (from 1): T = hash(SHA512(pass), SHA512(salt ‖ count as uint32 BE)); then
 *   rounds − 1 more times T' = hash(SHA512(pass), SHA512(T')), T ^= T'. The blocks' bytes are
 *   interleaved in the output: byte i of block `count` lands at i·stride + count − 1, where
 *   stride = ⌈keylen / 32⌉ (so every part of the key needs every block).
 *
 * Cost: 129 key expansions per hash, 2·rounds hashes for a 48-byte key (ssh-keygen's default
 * aes256-ctr with 16 rounds: 32 hashes, about 2.2 million Blowfish block encryptions).
 */
import { encryptBlocks, expand0State, expandState, initialState, streamWords } from "./blowfish.ts";
import { wipe } from "./provider.ts";

/** The largest key bcrypt_pbkdf(3) produces: 32 blocks of 32 bytes. */
export const BCRYPT_PBKDF_MAX_KEY = 32 * 32;

const MAGIC = streamWords(new TextEncoder().encode("OxychromaticBlowfishSwatDynamite"), 8);

/** The per-block hash: 32 bytes from the SHA-512 digests of password and salt. */
function bcryptHash(passWords: Int32Array, saltWords: Int32Array, out: Uint8Array): void {
  const st = initialState();
  expandState(st, saltWords, passWords);
  for (let i = 0; i < 64; i++) {
    expand0State(st, saltWords);
    expand0State(st, passWords);
  }
  const cdata = MAGIC.slice();
  for (let i = 0; i < 64; i++) encryptBlocks(st, cdata);
  for (let i = 0; i < 8; i++) {
    const w = cdata[i] as number;
    out[4 * i] = w & 0xff;
    out[4 * i + 1] = (w >>> 8) & 0xff;
    out[4 * i + 2] = (w >>> 16) & 0xff;
    out[4 * i + 3] = w >>> 24;
  }
  st.fill(0);
  cdata.fill(0);
}

/**
 * Derives `keyLength` bytes. `sha512` is the hash to use (the provider's). Arguments outside
 * bcrypt_pbkdf(3)'s domain — an empty password or salt, no rounds, a key of 0 or more than
 * 1,024 bytes — are a RangeError naming the parameter.
 */
export function bcryptPbkdf(
  sha512: (data: Uint8Array) => Uint8Array,
  password: Uint8Array,
  salt: Uint8Array,
  rounds: number,
  keyLength: number,
): Uint8Array {
  if (password.length === 0) throw new RangeError("bcryptPbkdf: password must not be empty");
  if (salt.length === 0 || salt.length > 1 << 20)
    throw new RangeError(`bcryptPbkdf: salt must be 1 to 1048576 bytes, got ${salt.length}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`bcryptPbkdf: rounds must be ≥ 1, got ${rounds}`);
  if (!Number.isInteger(keyLength) || keyLength < 1 || keyLength > BCRYPT_PBKDF_MAX_KEY)
    throw new RangeError(`bcryptPbkdf: keyLength must be 1 to ${BCRYPT_PBKDF_MAX_KEY}, got ${keyLength}`);
  const stride = Math.ceil(keyLength / 32);
  const perBlock = Math.ceil(keyLength / stride);
  const key = new Uint8Array(keyLength);
  const sha2pass = sha512(password);
  const passWords = streamWords(sha2pass, 16);
  const countSalt = new Uint8Array(salt.length + 4);
  countSalt.set(salt);
  const out = new Uint8Array(32);
  const tmp = new Uint8Array(32);
  let remaining = keyLength;
  for (let count = 1; remaining > 0; count++) {
    new DataView(countSalt.buffer).setUint32(salt.length, count);
    let saltDigest = sha512(countSalt);
    bcryptHash(passWords, streamWords(saltDigest, 16), tmp);
    out.set(tmp);
    for (let i = 1; i < rounds; i++) {
      wipe(saltDigest);
      saltDigest = sha512(tmp);
      bcryptHash(passWords, streamWords(saltDigest, 16), tmp);
      for (let j = 0; j < 32; j++) out[j] = (out[j] as number) ^ (tmp[j] as number);
    }
    wipe(saltDigest);
    const amount = Math.min(perBlock, remaining);
    let i = 0;
    for (; i < amount; i++) {
      const dest = i * stride + count - 1;
      if (dest >= keyLength) break;
      key[dest] = out[i] as number;
    }
    remaining -= i;
  }
  wipe(sha2pass);
  passWords.fill(0);
  wipe(countSalt);
  wipe(out);
  wipe(tmp);
  return key;
}
