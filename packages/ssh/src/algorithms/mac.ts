/**
 * MAC algorithms (RFC 4253 §6.4, RFC 6668 for hmac-sha2-*, OpenSSH PROTOCOL §1.5 for the
 * encrypt-then-MAC `-etm@openssh.com` forms).
 *
 * hmac-sha1 is defined for the rare server that has nothing else but is not in the defaults:
 * SHA-1 is deprecated for new protocol use. umac-* are not implemented (no vetted JS code).
 */
import type { MacAlgorithm } from "./types.ts";

const mk = (name: string, hash: MacAlgorithm["hash"], len: number, etm: boolean): MacAlgorithm => ({
  name,
  hash,
  keyLength: len,
  macLength: len,
  etm,
});

/** Every MAC we implement, keyed by its wire name (RFC 4253 §6.4, RFC 6668). */
export const MACS: ReadonlyMap<string, MacAlgorithm> = new Map(
  [
    mk("hmac-sha2-256-etm@openssh.com", "sha256", 32, true),
    mk("hmac-sha2-512-etm@openssh.com", "sha512", 64, true),
    mk("hmac-sha2-256", "sha256", 32, false),
    mk("hmac-sha2-512", "sha512", 64, false),
    mk("hmac-sha1-etm@openssh.com", "sha1", 20, true),
    mk("hmac-sha1", "sha1", 20, false),
  ].map((m) => [m.name, m]),
);

/** Encrypt-then-MAC first (it authenticates before decrypting), as OpenSSH orders them. */
export const DEFAULT_MACS: readonly string[] = [
  "hmac-sha2-256-etm@openssh.com",
  "hmac-sha2-512-etm@openssh.com",
  "hmac-sha2-256",
  "hmac-sha2-512",
];
