/**
 * Signature (host key / user key) algorithm registry, keyed by wire name.
 *
 * Left out of the defaults: ssh-rsa (SHA-1 signatures, RFC 8332 §1 and OpenSSH 8.8's
 * deprecation) — defined for verification only when asked; ssh-dss (1024-bit DSA, removed
 * from OpenSSH) — not implemented at all.
 */
import { ECDSA_SIGNATURES } from "./sig-ecdsa.ts";
import { ed25519Signature } from "./sig-ed25519.ts";
import { RSA_SIGNATURES } from "./sig-rsa.ts";
import type { SignatureAlgorithm } from "./types.ts";

export const SIGNATURE_ALGORITHMS: ReadonlyMap<string, SignatureAlgorithm> = new Map(
  [ed25519Signature, ...ECDSA_SIGNATURES, ...RSA_SIGNATURES].map((s) => [s.name, s]),
);

export const DEFAULT_HOST_KEY_ALGORITHMS: readonly string[] = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
];
