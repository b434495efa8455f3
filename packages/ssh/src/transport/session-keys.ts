/**
 * RFC 4253 §7.2: from K, H and the session id, the IVs (A, B), keys (C, D) and MAC keys
 * (E, F) of both directions, made into the packet sealer and opener for our role. The
 * transport installs them at NEWKEYS (RFC 4253 §7.3).
 */
import { CIPHERS } from "../algorithms/cipher.ts";
import { deriveKey } from "../algorithms/kdf.ts";
import { kexFailed } from "../algorithms/kex-method-errors.ts";
import { MACS } from "../algorithms/mac.ts";
import type { DirectionKeys, PacketOpener, PacketSealer } from "../algorithms/types.ts";
import type { CryptoProvider, HashName } from "../crypto/provider.ts";
import type { Negotiated } from "./kexinit.ts";

export interface SessionKeys {
  sealer: PacketSealer;
  opener: PacketOpener;
}

export function deriveSessionKeys(
  p: CryptoProvider,
  hash: HashName,
  k: Uint8Array,
  h: Uint8Array,
  sessionId: Uint8Array,
  neg: Negotiated,
  role: "client" | "server",
): SessionKeys {
  const make = (cipherName: string, macName: string, ivL: string, keyL: string, macL: string) => {
    const cipher = CIPHERS.get(cipherName);
    if (!cipher) throw kexFailed(`negotiated unknown cipher ${cipherName}`);
    const mac = cipher.aead ? undefined : MACS.get(macName);
    if (!cipher.aead && !mac) throw kexFailed(`negotiated unknown MAC ${macName}`);
    const keys: DirectionKeys = {
      key: deriveKey(p, hash, k, h, keyL, sessionId, cipher.keyLength),
      iv: deriveKey(p, hash, k, h, ivL, sessionId, cipher.ivLength),
      ...(mac ? { mac: { algorithm: mac, key: deriveKey(p, hash, k, h, macL, sessionId, mac.keyLength) } } : {}),
    };
    return { cipher, keys };
  };
  const c2s = make(neg.cipherC2S, neg.macC2S, "A", "C", "E");
  const s2c = make(neg.cipherS2C, neg.macS2C, "B", "D", "F");
  const [out, inn] = role === "client" ? [c2s, s2c] : [s2c, c2s];
  return { sealer: out.cipher.createSealer(out.keys, p), opener: inn.cipher.createOpener(inn.keys, p) };
}

/** The largest key, block, IV or MAC key size of the negotiated algorithms, in bits (OpenSSH's dh_need). */
export function needBits(neg: Negotiated): number {
  let need = 0;
  for (const [c, m] of [
    [neg.cipherC2S, neg.macC2S],
    [neg.cipherS2C, neg.macS2C],
  ] as const) {
    const cipher = CIPHERS.get(c);
    if (cipher) need = Math.max(need, cipher.keyLength, cipher.blockSize, cipher.ivLength);
    const mac = MACS.get(m);
    if (mac) need = Math.max(need, mac.keyLength);
  }
  return need * 8;
}
