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
import type { CipherAlgorithm } from "./types.ts";

export const CIPHERS: ReadonlyMap<string, CipherAlgorithm> = new Map(
  [CHACHA20_POLY1305, ...AES_GCM_CIPHERS, ...AES_CTR_CIPHERS].map((c) => [c.name, c]),
);

/** OpenSSH's default order. A later issue picks the order by what is fast on the runtime. */
export const DEFAULT_CIPHERS: readonly string[] = [
  "chacha20-poly1305@openssh.com",
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
  "aes128-ctr",
  "aes192-ctr",
  "aes256-ctr",
];

/**
 * The default order for this provider (DESIGN.md "default cipher order chosen by what is fast
 * on the running runtime"), from the AEAD speeds the provider measured at load: AES-GCM first
 * where the runtime accelerates it (Node, Bun), ChaCha20-Poly1305 where AES-GCM is several
 * times slower (Deno); without measurements, OpenSSH's order.
 */
export function preferredCiphers(provider: CryptoProvider): string[] {
  const speeds = provider.speeds;
  // AES-GCM leads unless it is clearly slower: per packet it costs less around the primitive
  // (one call, no separate MAC), so on Node it carries more even when the two primitives time
  // alike; only a several-fold gap (Deno's slow AES-GCM) hands the lead to ChaCha20.
  if (speeds && speeds["aes-gcm"] >= 0.5 * speeds["chacha20-poly1305"]) {
    return [
      "aes128-gcm@openssh.com",
      "aes256-gcm@openssh.com",
      "chacha20-poly1305@openssh.com",
      "aes128-ctr",
      "aes192-ctr",
      "aes256-ctr",
    ];
  }
  return [...DEFAULT_CIPHERS];
}
