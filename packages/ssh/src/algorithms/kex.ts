/**
 * Key exchange registry, keyed by wire name.
 *
 * Left out on purpose: diffie-hellman-group1-sha1 and group14-sha1 (SHA-1, and group1's 1024
 * bits, RFC 9142 §4 says MUST NOT / SHOULD NOT), diffie-hellman-group-exchange-sha1 (SHA-1).
 * group-exchange-sha256 and the post-quantum hybrids come in later issues.
 */
import { CURVE25519_KEX } from "./kex-curve25519.ts";
import { DH_KEX } from "./kex-dh.ts";
import { ECDH_KEX } from "./kex-ecdh.ts";
import type { KexAlgorithm } from "./types.ts";

export const KEX_ALGORITHMS: ReadonlyMap<string, KexAlgorithm> = new Map(
  [...CURVE25519_KEX, ...ECDH_KEX, ...DH_KEX].map((k) => [k.name, k]),
);

export const DEFAULT_KEX: readonly string[] = [
  "curve25519-sha256",
  "curve25519-sha256@libssh.org",
  "ecdh-sha2-nistp256",
  "ecdh-sha2-nistp384",
  "ecdh-sha2-nistp521",
  "diffie-hellman-group16-sha512",
  "diffie-hellman-group14-sha256",
];
