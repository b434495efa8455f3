/**
 * The byte encodings of Streamlined NTRU Prime 761 (NTRU Prime round-3 submission, §4
 * "Encodings"): small polynomials at four coefficients a byte, and the generic
 * radix encoding of a sequence R[i] in 0..M[i]-1 that packs pairs into one digit of radix
 * M[i]·M[i+1], emits whole bytes while the radix is at least 2^14, and recurses on the
 * half-length sequence. It gives the 1158-byte public key (Rq, radix q) and the 1007-byte
 * rounded ciphertext (radix (q+2)/3).
 */
import { P, Q, Q12 } from "./sntrup761-poly.ts";

/** Bytes of a small polynomial: ⌈p/4⌉. */
export const SMALL_BYTES = Math.ceil(P / 4);
/** Bytes of an Rq element (the public key). */
export const RQ_BYTES = 1158;
/** Bytes of a rounded Rq element (the ciphertext without its confirmation hash). */
export const ROUNDED_BYTES = 1007;

/** Small polynomial: coefficient + 1 (0..2) in two bits, four to a byte, least first. */
export function smallEncode(s: Int8Array): Uint8Array {
  const out = new Uint8Array(SMALL_BYTES);
  for (let i = 0; i < P; i++) out[i >> 2] = (out[i >> 2] as number) | (((s[i] as number) + 1) << (2 * (i & 3)));
  return out;
}

export function smallDecode(bytes: Uint8Array): Int8Array {
  const out = new Int8Array(P);
  for (let i = 0; i < P; i++) out[i] = (((bytes[i >> 2] as number) >> (2 * (i & 3))) & 3) - 1;
  return out;
}

function encode(r: number[], m: number[], out: number[]): void {
  if (r.length === 1) {
    let value = r[0] as number;
    for (let radix = m[0] as number; radix > 1; radix = (radix + 255) >>> 8) {
      out.push(value & 255);
      value >>>= 8;
    }
    return;
  }
  const r2: number[] = [];
  const m2: number[] = [];
  for (let i = 0; i + 1 < r.length; i += 2) {
    let value = (r[i] as number) + (r[i + 1] as number) * (m[i] as number);
    let radix = (m[i] as number) * (m[i + 1] as number);
    while (radix >= 16384) {
      out.push(value & 255);
      value >>>= 8;
      radix = (radix + 255) >>> 8;
    }
    r2.push(value);
    m2.push(radix);
  }
  if (r.length % 2 === 1) {
    r2.push(r[r.length - 1] as number);
    m2.push(m[m.length - 1] as number);
  }
  encode(r2, m2, out);
}

/**
 * The inverse of encode, reading from bytes at pos. Out-of-range digits (possible only in
 * bytes that no encoder wrote) are reduced modulo their radix, so every byte string of the
 * right length decodes to some sequence in range, as the submission's decoder does.
 */
function decode(bytes: Uint8Array, pos: number, m: number[]): number[] {
  if (m.length === 1) {
    const radix = m[0] as number;
    if (radix === 1) return [0];
    if (radix <= 256) return [(bytes[pos] as number) % radix];
    return [((bytes[pos] as number) + 256 * (bytes[pos + 1] as number)) % radix];
  }
  const low: number[] = [];
  const lowScale: number[] = [];
  const m2: number[] = [];
  for (let i = 0; i + 1 < m.length; i += 2) {
    const radix = (m[i] as number) * (m[i + 1] as number);
    if (radix > 256 * 16383) {
      lowScale.push(65536);
      low.push((bytes[pos] as number) + 256 * (bytes[pos + 1] as number));
      pos += 2;
      m2.push((((radix + 255) >>> 8) + 255) >>> 8);
    } else if (radix >= 16384) {
      lowScale.push(256);
      low.push(bytes[pos] as number);
      pos += 1;
      m2.push((radix + 255) >>> 8);
    } else {
      lowScale.push(1);
      low.push(0);
      m2.push(radix);
    }
  }
  if (m.length % 2 === 1) m2.push(m[m.length - 1] as number);
  const r2 = decode(bytes, pos, m2);
  const out: number[] = [];
  for (let i = 0; i + 1 < m.length; i += 2) {
    const value = (low[i >> 1] as number) + (lowScale[i >> 1] as number) * (r2[i >> 1] as number);
    const m0 = m[i] as number;
    out.push(value % m0, Math.floor(value / m0) % (m[i + 1] as number));
  }
  if (m.length % 2 === 1) out.push(r2[r2.length - 1] as number);
  return out;
}

const RADIX_Q: number[] = new Array(P).fill(Q);
const RADIX_ROUNDED: number[] = new Array(P).fill((Q + 2) / 3);

/** An Rq element: each coefficient + Q12 (0..q-1) in radix q. */
export function rqEncode(a: Int16Array): Uint8Array {
  const out: number[] = [];
  encode(
    Array.from(a, (c) => c + Q12),
    RADIX_Q,
    out,
  );
  return Uint8Array.from(out);
}

export function rqDecode(bytes: Uint8Array): Int16Array {
  return Int16Array.from(decode(bytes, 0, RADIX_Q), (d) => d - Q12);
}

/** A rounded Rq element (coefficients multiples of 3): (c + Q12)/3 in radix (q+2)/3. */
export function roundedEncode(a: Int16Array): Uint8Array {
  const out: number[] = [];
  encode(
    Array.from(a, (c) => (c + Q12) / 3),
    RADIX_ROUNDED,
    out,
  );
  return Uint8Array.from(out);
}

export function roundedDecode(bytes: Uint8Array): Int16Array {
  return Int16Array.from(decode(bytes, 0, RADIX_ROUNDED), (d) => 3 * d - Q12);
}
