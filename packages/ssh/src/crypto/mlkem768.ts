/**
 * ML-KEM-768 (FIPS 203), @noble/post-quantum's (reached through crypto/noble.ts, as every use of
 * @noble is): the randomness is passed in (the key
 * generation seed d ‖ z of §7.1, the encapsulation message m of §7.2), so that the caller's
 * injected RandomSource decides every secret.
 */
import { nobleMlKem768 as ml_kem768 } from "./noble.ts";

/** FIPS 203 Table 3, ML-KEM-768: encapsulation key 1184 bytes, ciphertext 1088, shared secret 32. */
export const MLKEM768_PUBLIC_KEY_BYTES = 1184;
export const MLKEM768_CIPHERTEXT_BYTES = 1088;

/** `seed` is d ‖ z, 64 bytes. */
export function mlkem768KeyPair(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  return ml_kem768.keygen(seed);
}

/** `m` is 32 bytes. Throws if the encapsulation key fails FIPS 203 §7.2's modulus check. */
export function mlkem768Encapsulate(
  publicKey: Uint8Array,
  m: Uint8Array,
): { ciphertext: Uint8Array; sharedSecret: Uint8Array } {
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey, m);
  return { ciphertext: cipherText, sharedSecret };
}

/** Implicit rejection: a forged ciphertext gives a pseudorandom secret, not an error. */
export function mlkem768Decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ml_kem768.decapsulate(ciphertext, secretKey);
}
