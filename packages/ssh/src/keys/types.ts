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
  readonly type: PublicKeyType;
  readonly blob: Uint8Array;
  readonly comment: string;
}

/** A private key able to sign for user authentication (and, later, as a host key). */
export interface PrivateKey {
  readonly type: KeyType;
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
  readonly port: number;
  /** The negotiated host key algorithm (e.g. "rsa-sha2-512"). */
  readonly algorithm: string;
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
