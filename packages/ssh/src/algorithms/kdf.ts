/**
 * Exchange hash and key derivation (RFC 4253 §7.2, §8; RFC 5656 §4 for the ECDH form).
 */
import type { CryptoProvider, HashName } from "../crypto/provider.ts";
import { Writer } from "../wire/writer.ts";

export interface ExchangeHashParts {
  vc: string;
  vs: string;
  ic: Uint8Array;
  is: Uint8Array;
  ks: Uint8Array;
  clientValue: Uint8Array;
  serverValue: Uint8Array;
  /** K, already encoded (mpint or string) with its length. */
  k: Uint8Array;
}

/** H = HASH(V_C ‖ V_S ‖ I_C ‖ I_S ‖ K_S ‖ e/Q_C ‖ f/Q_S ‖ K), each as an SSH string except K. */
export function exchangeHash(provider: CryptoProvider, hash: HashName, p: ExchangeHashParts): Uint8Array {
  const w = new Writer(2048)
    .string(p.vc)
    .string(p.vs)
    .string(p.ic)
    .string(p.is)
    .string(p.ks)
    .string(p.clientValue)
    .string(p.serverValue)
    .raw(p.k);
  return provider.hash(hash, w.bytes());
}

/**
 * RFC 4253 §7.2: K1 = HASH(K ‖ H ‖ X ‖ session_id), Kn = HASH(K ‖ H ‖ K1 ‖ … ‖ Kn-1),
 * key = K1 ‖ K2 ‖ … truncated to `length`.
 */
export function deriveKey(
  provider: CryptoProvider,
  hash: HashName,
  k: Uint8Array,
  h: Uint8Array,
  letter: string,
  sessionId: Uint8Array,
  length: number,
): Uint8Array {
  const first = provider.hash(
    hash,
    new Writer(k.length + h.length + 64).raw(k).raw(h).byte(letter.charCodeAt(0)).raw(sessionId).bytes(),
  );
  const out = new Uint8Array(Math.max(length, first.length));
  out.set(first);
  let have = first.length;
  while (have < length) {
    const next = provider.hash(
      hash,
      new Writer(k.length + h.length + have).raw(k).raw(h).raw(out.subarray(0, have)).bytes(),
    );
    out.set(next.subarray(0, Math.min(next.length, out.length - have)), have);
    have += next.length;
  }
  return out.slice(0, length);
}
