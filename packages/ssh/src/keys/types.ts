/**
 * Key contracts (RFC 4253 §6.6 public key blobs, OpenSSH PROTOCOL.key private keys).
 */

import { ECDSA_SHA2_NISTP256, ECDSA_SHA2_NISTP384, ECDSA_SHA2_NISTP521 } from "../algorithms/sig-ecdsa.ts";
import { SSH_ED25519 } from "../algorithms/sig-ed25519.ts";
import { SSH_RSA } from "../algorithms/sig-rsa.ts";
import type { CertificateType } from "./certificate.ts";

/** Every plain key type, as named on the wire. */
export const KEY_TYPES = [SSH_ED25519, ECDSA_SHA2_NISTP256, ECDSA_SHA2_NISTP384, ECDSA_SHA2_NISTP521, SSH_RSA] as const;

/** A plain key type, as named on the wire. */
export type KeyType = (typeof KEY_TYPES)[number];

/** A plain key type, or an OpenSSH certificate type (keys/certificate.ts). */
export type PublicKeyType = KeyType | CertificateType;

/**
 * A parsed public key. `blob` is the RFC 4253 §6.6 wire encoding, or an OpenSSH certificate
 * (PROTOCOL.certkeys) when `type` is a `*-cert-v01@openssh.com` type.
 */
export interface PublicKey {
  /** The key type the blob names. */
  readonly type: PublicKeyType;
  /** The wire encoding: an RFC 4253 §6.6 key blob, or a whole certificate. */
  readonly blob: Uint8Array;
  /** The comment from the key line or key file; "" when there was none (a blob from the wire). */
  readonly comment: string;
}

/** A private key able to sign for user authentication (and, later, as a host key). */
export interface PrivateKey {
  /** The plain key type, also for a key presented with its certificate (`certifiedKey`). */
  readonly type: KeyType;
  /** The public half as sent: the plain RFC 4253 §6.6 blob, or the certificate for a `certifiedKey`. */
  readonly publicKey: PublicKey;
  /** RSA key size in bits, or the curve's size; for display. */
  readonly bits: number;
  /**
   * Signature algorithm names this key can produce, preferred first
   * (ssh-rsa keys: rsa-sha2-512, rsa-sha2-256; never ssh-rsa/SHA-1 unless asked).
   */
  readonly signatureAlgorithms: readonly string[];
  /** Returns the SSH signature blob `string algorithm, string signature`. */
  sign(data: Uint8Array, algorithm: string): Uint8Array;
  /** Wipe the secret material. */
  dispose(): void;
}

/** What the transport hands to the host-key verifier after the exchange-hash signature checked out. */
export interface HostKeyInfo {
  /** The host as the user named it (no brackets, no port). */
  readonly host: string;
  /** The port as the user named it. */
  readonly port: number;
  /** The negotiated host key algorithm (e.g. "rsa-sha2-512"). */
  readonly algorithm: string;
  /**
   * The server's host key K_S (RFC 4253 §8), its signature over the exchange hash checked: a plain
   * key, or a certificate whose CA is not checked yet (that is the verifier's to decide).
   */
  readonly key: PublicKey;
  /** "SHA256:<base64 without padding>", as OpenSSH prints it. */
  readonly fingerprint: string;
  /**
   * The server's server_host_key_algorithms from its KEXINIT (RFC 4253 §7.1), in its order:
   * lets a verifier say what else the server could have shown when the key does not fit.
   */
  readonly serverHostKeyAlgorithms: readonly string[];
}

/**
 * Mandatory host-key check (docs/PROTOCOL.md, "Host-key verification"): resolve `true` to accept.
 * `false`, a throw, or a rejection aborts the connection before any USERAUTH is sent.
 * A verifier may throw `SshError` (`HOST_KEY_CHANGED`, `HOST_KEY_UNKNOWN`) to say why.
 */
export type HostKeyVerifier = (info: HostKeyInfo) => boolean | Promise<boolean>;
