/**
 * Cipher registry, keyed by wire name (RFC 4253 §6.3, RFC 4344, RFC 5647, OpenSSH PROTOCOL).
 *
 * Left out on purpose: the CBC modes (RFC 4253 §6.3 — plaintext-recovery attacks on SSH's
 * CBC use, CVE-2008-5161), arcfour (RC4 biases), 3des-cbc (64-bit blocks), blowfish/cast
 * (64-bit blocks) and `none`.
 */

import type { CryptoProvider } from "../crypto/provider.ts";
import { AES_CTR_CIPHERS } from "./cipher-aes-ctr.ts";
import { AES_GCM_CIPHERS } from "./cipher-aes-gcm.ts";
import { CHACHA20_POLY1305 } from "./cipher-chacha20-poly1305.ts";
import { CIPHER_NAME } from "./cipher-names.ts";
import type { CipherAlgorithm } from "./types.ts";

/** Every cipher we implement, keyed by its wire name (RFC 4253 §6.3). */
export const CIPHERS: ReadonlyMap<string, CipherAlgorithm> = new Map(
  [CHACHA20_POLY1305, ...AES_GCM_CIPHERS, ...AES_CTR_CIPHERS].map((c) => [c.name, c]),
);

/** OpenSSH's default order (ChaCha20-Poly1305 first); see `preferredCiphers` for ours. */
export const DEFAULT_CIPHERS: readonly string[] = [
  CIPHER_NAME.CHACHA20_POLY1305,
  CIPHER_NAME.AES128_GCM,
  CIPHER_NAME.AES256_GCM,
  CIPHER_NAME.AES128_CTR,
  CIPHER_NAME.AES192_CTR,
  CIPHER_NAME.AES256_CTR,
];

/** AES-GCM first: where the runtime's AES-GCM is the fastest AEAD it has. */
const AES_GCM_FIRST: readonly string[] = [
  CIPHER_NAME.AES128_GCM,
  CIPHER_NAME.AES256_GCM,
  CIPHER_NAME.CHACHA20_POLY1305,
  CIPHER_NAME.AES128_CTR,
  CIPHER_NAME.AES192_CTR,
  CIPHER_NAME.AES256_CTR,
];

/**
 * Runtimes whose node:crypto AES-GCM passes its known answers but is several times slower
 * than their accelerated ChaCha20-Poly1305: Deno's. The figures, measured again by each
 * `pnpm bench`, are in bench/RESULTS.md "Cipher order".
 */
const SLOW_NODE_CRYPTO_AES_GCM: ReadonlySet<string> = new Set(["deno"]);

/**
 * The default order for this provider on the JavaScript runtime named `runtime` (the `name`
 * of `@tunnel/ssh/runtime`'s default socket adapter: "node", "bun", "deno"), from facts that do not change
 * from run to run — which accelerators passed their known-answer checks at load, and which
 * runtime this is — never from timing, so the same program offers the same list every time.
 *
 * - AES-GCM first where node:crypto carries it (Node, Bun): one call per packet, several times
 *   noble's ChaCha20-Poly1305 and faster than ours.
 * - ChaCha20-Poly1305 first (OpenSSH's order) where node:crypto's AES-GCM is known to be slow
 *   and ChaCha20 and Poly1305 are both accelerated (Deno), and wherever AES-GCM is not
 *   accelerated (pure noble: its ChaCha20-Poly1305 is about 2.5 times its AES-GCM).
 */
export function preferredCiphers(provider: CryptoProvider, runtime: string): string[] {
  const gcmAccelerated = provider.implementation("aes-gcm") === "node:crypto";
  const chachaAccelerated =
    provider.implementation("chacha20") !== "noble" && provider.implementation("poly1305") !== "noble";
  const gcmFirst = gcmAccelerated && !(SLOW_NODE_CRYPTO_AES_GCM.has(runtime) && chachaAccelerated);
  return [...(gcmFirst ? AES_GCM_FIRST : DEFAULT_CIPHERS)];
}
