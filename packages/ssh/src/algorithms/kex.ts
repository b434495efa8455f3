/**
 * Key exchange registries, keyed by wire name (kex-names.ts).
 *
 * Left out on purpose: diffie-hellman-group1-sha1 and group14-sha1 (SHA-1, and group1's 1024
 * bits, RFC 9142 §4 says MUST NOT / SHOULD NOT), diffie-hellman-group-exchange-sha1 (SHA-1).
 */
import { CURVE25519_KEX } from "./kex-curve25519.ts";
import { DH_KEX } from "./kex-dh.ts";
import { ECDH_KEX } from "./kex-ecdh.ts";
import { DH_GEX_SHA256 } from "./kex-gex.ts";
import type { KexMethod } from "./kex-method.ts";
import { MLKEM768_X25519_KEX } from "./kex-mlkem768.ts";
import { KEX_NAME } from "./kex-names.ts";
import type { OneRoundKex } from "./kex-one-round.ts";
import { SNTRUP761_X25519_KEX } from "./kex-sntrup761.ts";

const ONE_ROUND: readonly OneRoundKex[] = [
  MLKEM768_X25519_KEX,
  ...SNTRUP761_X25519_KEX,
  ...CURVE25519_KEX,
  ...ECDH_KEX,
  ...DH_KEX,
];

/** The one-round methods' value exchanges (createClient/createServer), by wire name. */
export const KEX_ALGORITHMS: ReadonlyMap<string, OneRoundKex> = new Map(ONE_ROUND.map((k) => [k.name, k]));

/** Every key exchange method we implement, by wire name: what the engine runs. */
export const KEX_METHODS: ReadonlyMap<string, KexMethod> = new Map<string, KexMethod>(
  [...ONE_ROUND, DH_GEX_SHA256].map((k) => [k.name, k]),
);

/** OpenSSH 10's order: post-quantum hybrids first, then curve25519, ECDH, group exchange, fixed groups. */
export const DEFAULT_KEX: readonly string[] = [
  KEX_NAME.MLKEM768_X25519_SHA256,
  KEX_NAME.SNTRUP761_X25519_SHA512,
  KEX_NAME.SNTRUP761_X25519_SHA512_OPENSSH,
  KEX_NAME.CURVE25519_SHA256,
  KEX_NAME.CURVE25519_SHA256_LIBSSH,
  KEX_NAME.ECDH_NISTP256,
  KEX_NAME.ECDH_NISTP384,
  KEX_NAME.ECDH_NISTP521,
  KEX_NAME.DH_GEX_SHA256,
  KEX_NAME.DH_GROUP16_SHA512,
  KEX_NAME.DH_GROUP18_SHA512,
  KEX_NAME.DH_GROUP14_SHA256,
];

/** Whether a negotiated method resists a recording quantum adversary (false for unknown names). */
export function isPostQuantumKex(name: string): boolean {
  return KEX_METHODS.get(name)?.postQuantum === true;
}
