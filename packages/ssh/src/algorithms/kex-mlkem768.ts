/**
 * mlkem768x25519-sha256 (draft-ietf-sshm-mlkem-hybrid-kex; OpenSSH 9.9+, its default from
 * 10.0): ML-KEM-768 (FIPS 203, crypto/mlkem768.ts) with X25519 and SHA-256, in kex-hybrid.ts's
 * shape. The key generation seed and the encapsulation message come from the injected randomness.
 */
import {
  MLKEM768_CIPHERTEXT_BYTES,
  MLKEM768_PUBLIC_KEY_BYTES,
  mlkem768Decapsulate,
  mlkem768Encapsulate,
  mlkem768KeyPair,
} from "../crypto/mlkem768.ts";
import { hybridKex, type Kem } from "./kex-hybrid.ts";
import { KEX_NAME } from "./kex-names.ts";

export const MLKEM768: Kem = {
  name: "ML-KEM-768",
  publicKeyLength: MLKEM768_PUBLIC_KEY_BYTES,
  ciphertextLength: MLKEM768_CIPHERTEXT_BYTES,
  keygen: (random) => mlkem768KeyPair(random(64)),
  encapsulate: (publicKey, random) => mlkem768Encapsulate(publicKey, random(32)),
  decapsulate: mlkem768Decapsulate,
};

export const MLKEM768_X25519_KEX = hybridKex(KEX_NAME.MLKEM768_X25519_SHA256, MLKEM768, "sha256");
