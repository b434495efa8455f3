/**
 * MAC algorithms (RFC 4253 §6.4, RFC 6668 for hmac-sha2-*, OpenSSH PROTOCOL §1.5 for the
 * encrypt-then-MAC `-etm@openssh.com` forms).
 *
 * hmac-sha1 is defined for the rare server that has nothing else but is not in the defaults:
 * SHA-1 is deprecated for new protocol use. umac-* are not implemented (no vetted JS code).
 */

import { MAC_NAME } from "./mac-names.ts";
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
    mk(MAC_NAME.HMAC_SHA2_256_ETM, "sha256", 32, true),
    mk(MAC_NAME.HMAC_SHA2_512_ETM, "sha512", 64, true),
    mk(MAC_NAME.HMAC_SHA2_256, "sha256", 32, false),
    mk(MAC_NAME.HMAC_SHA2_512, "sha512", 64, false),
    mk(MAC_NAME.HMAC_SHA1_ETM, "sha1", 20, true),
    mk(MAC_NAME.HMAC_SHA1, "sha1", 20, false),
  ].map((m) => [m.name, m]),
);

/** Encrypt-then-MAC first (it authenticates before decrypting), as OpenSSH orders them. */
export const DEFAULT_MACS: readonly string[] = [
  MAC_NAME.HMAC_SHA2_256_ETM,
  MAC_NAME.HMAC_SHA2_512_ETM,
  MAC_NAME.HMAC_SHA2_256,
  MAC_NAME.HMAC_SHA2_512,
];
