/**
 * sntrup761x25519-sha512 and its first name sntrup761x25519-sha512@openssh.com (OpenSSH
 * 8.5+, its default from 9.0 to 9.9; draft-ietf-sshm-ntruprime-ssh §2): Streamlined NTRU
 * Prime 761 (crypto/sntrup761.ts) with X25519 and SHA-512, in kex-hybrid.ts's shape. The
 * client's value is its sntrup761 public key (1158 bytes) ‖ X25519 public key, the server's
 * the sntrup761 ciphertext (1039 bytes) ‖ its X25519 public key; K = SHA-512(sntrup761 shared
 * secret ‖ X25519 shared secret) as a string. All randomness (the KEM's and X25519's) comes
 * from the transport's injected source.
 */
import {
  SNTRUP761_CIPHERTEXT_BYTES,
  SNTRUP761_PUBLIC_KEY_BYTES,
  sntrup761Decapsulate,
  sntrup761Encapsulate,
  sntrup761KeyPair,
} from "../crypto/sntrup761.ts";
import { hybridKex, type Kem } from "./kex-hybrid.ts";
import { KEX_NAME } from "./kex-names.ts";

/**
 * Every byte string of the right length is a public key sntrup761 can encapsulate to (its
 * encoding reduces each digit), and a malformed ciphertext decapsulates to the implicit-
 * rejection key: the lengths, which the hybrid layer checks first, are the only checks.
 */
export const SNTRUP761: Kem = {
  name: "sntrup761",
  publicKeyLength: SNTRUP761_PUBLIC_KEY_BYTES,
  ciphertextLength: SNTRUP761_CIPHERTEXT_BYTES,
  keygen: sntrup761KeyPair,
  encapsulate: sntrup761Encapsulate,
  decapsulate: sntrup761Decapsulate,
};

export const SNTRUP761_X25519_KEX = [
  hybridKex(KEX_NAME.SNTRUP761_X25519_SHA512, SNTRUP761, "sha512"),
  hybridKex(KEX_NAME.SNTRUP761_X25519_SHA512_OPENSSH, SNTRUP761, "sha512"),
];
