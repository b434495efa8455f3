/**
 * ecdsa-sha2-nistp256/384/521 signatures (RFC 5656 §3.1, §3.1.2, §6.2.1): key blob
 * string(type) ‖ string(curve id) ‖ string(Q uncompressed); signature blob string(type) ‖
 * string(mpint r ‖ mpint s); hash by curve size (P-521 uses SHA-512). Signing is RFC 6979
 * deterministic.
 */
import type { CryptoProvider, EcCurveName } from "../crypto/provider.ts";
import { SshError } from "../errors.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";
import { signatureBody } from "./sig-ed25519.ts";
import type { SignatureAlgorithm } from "./types.ts";

/** The ECDSA key types, each also its signature algorithm, as named on the wire (RFC 5656 §6.2). */
export const ECDSA_SHA2_NISTP256 = "ecdsa-sha2-nistp256";
export const ECDSA_SHA2_NISTP384 = "ecdsa-sha2-nistp384";
export const ECDSA_SHA2_NISTP521 = "ecdsa-sha2-nistp521";
/** How every ECDSA key type's name starts (RFC 5656 §6.2: `ecdsa-sha2-[identifier]`). */
export const ECDSA_SHA2_PREFIX = "ecdsa-sha2-";

/** An ECDSA key type's name. */
export type EcdsaKeyType = typeof ECDSA_SHA2_NISTP256 | typeof ECDSA_SHA2_NISTP384 | typeof ECDSA_SHA2_NISTP521;

/** A curve as its key type uses it: the identifier in the blob, field bytes, and key size in bits. */
export interface EcdsaCurve {
  curve: EcCurveName;
  id: string;
  size: number;
  bits: number;
}

export const ECDSA_CURVES: Record<string, EcdsaCurve> = {
  [ECDSA_SHA2_NISTP256]: { curve: "p256", id: "nistp256", size: 32, bits: 256 },
  [ECDSA_SHA2_NISTP384]: { curve: "p384", id: "nistp384", size: 48, bits: 384 },
  [ECDSA_SHA2_NISTP521]: { curve: "p521", id: "nistp521", size: 66, bits: 521 },
};

/** The ECDSA key type on `curve`, with the curve's facts. */
export function ecdsaKeyTypeOf(curve: EcCurveName): EcdsaCurve & { type: EcdsaKeyType } {
  const type = Object.keys(ECDSA_CURVES).find((t) => ECDSA_CURVES[t]?.curve === curve) as EcdsaKeyType;
  return { type, ...(ECDSA_CURVES[type] as EcdsaCurve) };
}

/** The uncompressed point from an ecdsa key blob of `type`. Throws KEY_FORMAT. */
export function ecdsaPointFromBlob(blob: Uint8Array, type: string): Uint8Array {
  const c = ECDSA_CURVES[type];
  if (!c) throw new SshError("KEY_FORMAT", `unknown ECDSA key type ${type}`);
  try {
    const r = new Reader(blob);
    const t = r.ascii("key type");
    if (t !== type) throw new SshError("KEY_FORMAT", `expected a ${type} key, got ${t}`);
    const id = r.ascii("curve identifier");
    if (id !== c.id) throw new SshError("KEY_FORMAT", `${type} key names curve ${id}; expected ${c.id}`);
    const q = r.string("ECDSA public point");
    if (q.length !== 1 + 2 * c.size || q[0] !== 4) {
      throw new SshError(
        "KEY_FORMAT",
        `${type} public point must be uncompressed (${1 + 2 * c.size} bytes), got ${q.length} bytes`,
      );
    }
    r.done(`${type} key blob`);
    return q;
  } catch (err) {
    if (err instanceof SshError && err.code === "KEY_FORMAT") throw err;
    throw new SshError("KEY_FORMAT", `malformed ${type} key blob: ${(err as Error).message}`);
  }
}

function make(type: string): SignatureAlgorithm {
  const c = ECDSA_CURVES[type] as EcdsaCurve;
  return {
    name: type,
    keyType: type,
    verify(provider, publicKeyBlob, data, signature) {
      const q = ecdsaPointFromBlob(publicKeyBlob, type);
      const body = signatureBody(signature, type);
      if (!body) return false;
      try {
        const r = new Reader(body);
        // r and s are below the group order, so no longer than the field (RFC 5656 §3.1.2).
        const rr = r.mpintBytes("r", c.size);
        const ss = r.mpintBytes("s", c.size);
        r.done("ECDSA signature");
        if (rr.length === 0 || ss.length === 0) return false;
        return provider.ecdsa.verify(c.curve, q, data, rr, ss);
      } catch {
        return false;
      }
    },
  };
}

export const ECDSA_SIGNATURES: readonly SignatureAlgorithm[] = Object.keys(ECDSA_CURVES).map(make);

export function signEcdsa(
  provider: CryptoProvider,
  curve: EcCurveName,
  secretKey: Uint8Array,
  data: Uint8Array,
): Uint8Array {
  const { type } = ecdsaKeyTypeOf(curve);
  const { r, s } = provider.ecdsa.sign(curve, secretKey, data);
  const body = new Writer(150).mpintFromBytes(r).mpintFromBytes(s).bytes();
  return new Writer(200).string(type).string(body).bytes();
}
