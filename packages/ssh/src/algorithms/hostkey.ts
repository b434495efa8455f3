/**
 * Signature (host key / user key) algorithm registry, keyed by wire name.
 *
 * Left out of the defaults: ssh-rsa (SHA-1 signatures, RFC 8332 §1 and OpenSSH 8.8's
 * deprecation) — defined for verification only when asked; ssh-dss (1024-bit DSA, removed
 * from OpenSSH) — not implemented at all.
 */
import { type CertificateType, certificateName, certificateSignature } from "../keys/certificate.ts";
import { ECDSA_SIGNATURES } from "./sig-ecdsa.ts";
import { ed25519Signature } from "./sig-ed25519.ts";
import { RSA_SIGNATURES, SSH_RSA } from "./sig-rsa.ts";
import type { SignatureAlgorithm } from "./types.ts";

/** The plain signature algorithms, in order of preference. */
const PLAIN_SIGNATURES = [ed25519Signature, ...ECDSA_SIGNATURES, ...RSA_SIGNATURES];

/**
 * Every signature algorithm, plain and as an OpenSSH certificate (PROTOCOL.certkeys:
 * `ssh-ed25519-cert-v01@openssh.com`, `rsa-sha2-512-cert-v01@openssh.com`, …).
 */
export const SIGNATURE_ALGORITHMS: ReadonlyMap<string, SignatureAlgorithm> = new Map(
  [
    ...PLAIN_SIGNATURES,
    ...PLAIN_SIGNATURES.map((s) => certificateSignature(s, certificateName(s.keyType) as CertificateType)),
  ].map((s) => [s.name, s]),
);

/**
 * The host key algorithms a client asks for, in order, when it is not told otherwise: every
 * plain signature algorithm in the order above but SHA-1 `ssh-rsa`.
 */
export const DEFAULT_HOST_KEY_ALGORITHMS: readonly string[] = PLAIN_SIGNATURES.map((s) => s.name).filter(
  (name) => name !== SSH_RSA,
);

/**
 * Host certificate algorithms, in the order of the plain defaults. A client offers them
 * first for a host a known_hosts `@cert-authority` line names (as ssh(1) orders them), and
 * after the plain ones otherwise; a server offers those its host certificates can sign.
 */
export const CERT_HOST_KEY_ALGORITHMS: readonly string[] = DEFAULT_HOST_KEY_ALGORITHMS.map(certificateName);
