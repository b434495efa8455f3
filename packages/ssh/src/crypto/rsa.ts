/**
 * RSA with BigInt (noble has none): RSASSA-PKCS1-v1_5 (RFC 8017 §8.2, EMSA-PKCS1-v1_5 §9.2)
 * for ssh-rsa, rsa-sha2-256 and rsa-sha2-512 (RFC 8332). Signing uses the CRT.
 */
import { SshError } from "../errors.ts";
import { bigintToBytes } from "../wire/writer.ts";
import { bitLength, bytesToBigint, modPow } from "./bigint.ts";
import type { CryptoProvider } from "./provider.ts";

export interface RsaPublicKey {
  n: bigint;
  e: bigint;
}

export interface RsaPrivateKey extends RsaPublicKey {
  d: bigint;
  p: bigint;
  q: bigint;
  iqmp: bigint;
}

export type RsaHash = "sha1" | "sha256" | "sha512";

/** RFC 8017 §9.2 note 1: DER DigestInfo prefixes. */
const DIGEST_INFO: Record<RsaHash, string> = {
  sha1: "3021300906052b0e03021a05000414",
  sha256: "3031300d060960864801650304020105000420",
  sha512: "3051300d060960864801650304020305000440",
};

const hexBytes = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16));

/** OpenSSH refuses RSA keys under 1024 bits (SSH_RSA_MINIMUM_MODULUS_SIZE). */
export const RSA_MIN_BITS = 1024;
/**
 * And over 16,384 bits (SSH_RSA_MAXIMUM_MODULUS_SIZE): a verification costs about the cube of
 * the size, so a peer must not choose it freely (issue 12, item 1).
 */
export const RSA_MAX_BITS = 16384;
/**
 * The public exponent is at most 64 bits: real keys use 65537, and a verification costs one
 * squaring per exponent bit, so a longer one is only ever an attack on our CPU.
 */
export const RSA_MAX_EXPONENT_BITS = 64;

export { bitLength };

/**
 * RFC 8017 §3.1 public key checks, sizes first: nothing here does arithmetic on a number whose
 * size has not been bounded (the exponent is only printed once it is known to be small).
 */
export function checkRsaPublic(key: RsaPublicKey): void {
  const bits = bitLength(key.n);
  if (bits < RSA_MIN_BITS)
    throw new SshError("KEY_FORMAT", `RSA modulus has ${bits} bits; at least ${RSA_MIN_BITS} are required`);
  if (bits > RSA_MAX_BITS)
    throw new SshError("KEY_FORMAT", `RSA modulus has ${bits} bits; at most ${RSA_MAX_BITS} are allowed`);
  const eBits = bitLength(key.e);
  if (eBits > RSA_MAX_EXPONENT_BITS)
    throw new SshError(
      "KEY_FORMAT",
      `RSA public exponent has ${eBits} bits; at most ${RSA_MAX_EXPONENT_BITS} are allowed (65537 is usual)`,
    );
  if (key.e < 3n || key.e % 2n === 0n)
    throw new SshError("KEY_FORMAT", `RSA public exponent ${key.e} is invalid; expected an odd value ≥ 3`);
}

/** EMSA-PKCS1-v1_5 encoding of `message` to `k` bytes. */
function emsa(provider: CryptoProvider, hash: RsaHash, message: Uint8Array, k: number): Uint8Array {
  const digest = provider.hash(hash, message);
  const prefix = hexBytes(DIGEST_INFO[hash]);
  const tLen = prefix.length + digest.length;
  if (k < tLen + 11) throw new SshError("KEY_FORMAT", "RSA modulus too short for this hash");
  const em = new Uint8Array(k).fill(0xff);
  em[0] = 0;
  em[1] = 1;
  em[k - tLen - 1] = 0;
  em.set(prefix, k - tLen);
  em.set(digest, k - digest.length);
  return em;
}

export function rsaPkcs1v15Verify(
  provider: CryptoProvider,
  pub: RsaPublicKey,
  hash: RsaHash,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const k = (bitLength(pub.n) + 7) >> 3;
  // RFC 8332 §3 / RFC 8017 §8.2.2: the signature is exactly k bytes. OpenSSH also accepts a
  // shorter one (some signers strip leading zeros); we do too, left-padding it, never longer.
  if (signature.length > k || signature.length === 0) return false;
  const s = bytesToBigint(signature);
  if (s >= pub.n) return false;
  const m = modPow(s, pub.e, pub.n);
  const em = bigintToBytes(m, k);
  const want = emsa(provider, hash, message, k);
  let diff = 0;
  for (let i = 0; i < k; i++) diff |= (em[i] as number) ^ (want[i] as number);
  return diff === 0;
}

export function rsaPkcs1v15Sign(
  provider: CryptoProvider,
  key: RsaPrivateKey,
  hash: RsaHash,
  message: Uint8Array,
): Uint8Array {
  const k = (bitLength(key.n) + 7) >> 3;
  const m = bytesToBigint(emsa(provider, hash, message, k));
  // CRT (RFC 8017 §5.1.2): s1 = m^dP mod p, s2 = m^dQ mod q, h = qInv (s1 − s2) mod p.
  const dp = key.d % (key.p - 1n);
  const dq = key.d % (key.q - 1n);
  const s1 = modPow(m, dp, key.p);
  const s2 = modPow(m, dq, key.q);
  const h = (((s1 - s2) % key.p) + key.p) % key.p;
  const s = s2 + key.q * ((key.iqmp * h) % key.p);
  // Guard against a CRT fault revealing the key: check before releasing the signature.
  if (modPow(s, key.e, key.n) !== m)
    throw new SshError("KEY_FORMAT", "RSA signature self-check failed: the private key is inconsistent");
  return bigintToBytes(s, k);
}
