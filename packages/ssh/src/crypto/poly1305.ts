/**
 * Poly1305 (RFC 8439 §2.5) in plain JavaScript numbers, written for speed where noble's is slow.
 *
 * The accumulator h and the clamped key r are held as six 22-bit limbs in doubles (bits 0, 22,
 * 44, 66, 88, 110; 132 bits in all). One block is h = (h + m) · r mod 2^130 − 5:
 * 36 products, each below 2^49.5 — a limb of h stays below 2^23.1 and a limb of r, times 20
 * for the terms that wrap (2^132 ≡ 4 · 5 = 20 mod p), below 2^26.4 — so the six-term sums
 * stay below 2^52.1 and every step is exact in a double. noble's Poly1305 uses ten 13-bit
 * limbs (100 products a block) and copies its input first; on Bun that copy alone took half
 * the time of chacha20-poly1305 (JSC runs `Uint8Array.from` through the iterator protocol).
 *
 * It is an accelerator like the runtime's own crypto: `createNativeProvider` uses it only
 * after it matches noble on known answers at load, and `--crypto noble` leaves it out.
 */

import { finishPoly1305, le32 } from "./poly1305-finish.ts";
import { joinParts } from "./provider.ts";

const LIMB = 4194304; // 2^22
const INV_LIMB = 1 / LIMB;
const MASK = 0x3fffff;

/** Poly1305 of `parts` (joined) under the 32-byte one-time key `key` (r ‖ s): the 16-byte tag. */
export function poly1305(key: Uint8Array, parts: Uint8Array | readonly Uint8Array[]): Uint8Array {
  if (key.length !== 32) throw new TypeError(`poly1305 needs a 32-byte key, got ${key.length}`);
  const data = joinParts(parts);
  // r, clamped (RFC 8439 §2.5: r &= 0x0ffffffc0ffffffc0ffffffc0fffffff), in 22-bit limbs.
  const k0 = le32(key, 0) & 0x0fffffff;
  const k1 = le32(key, 4) & 0x0ffffffc;
  const k2 = le32(key, 8) & 0x0ffffffc;
  const k3 = le32(key, 12) & 0x0ffffffc;
  const r0 = k0 & MASK;
  const r1 = (k0 >>> 22) | ((k1 & 0xfff) << 10);
  const r2 = (k1 >>> 12) | ((k2 & 0x3) << 20);
  const r3 = (k2 >>> 2) & MASK;
  const r4 = (k2 >>> 24) | ((k3 & 0x3fff) << 8);
  const r5 = k3 >>> 14;
  // Terms at 2^132 and above wrap to the bottom multiplied by 20.
  const s1 = r1 * 20;
  const s2 = r2 * 20;
  const s3 = r3 * 20;
  const s4 = r4 * 20;
  const s5 = r5 * 20;

  let h0 = 0;
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  let h5 = 0;

  const len = data.length;
  const full = len - (len % 16);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let last: Uint8Array | undefined;
  for (let i = 0; i < len; i += 16) {
    let d = data;
    let at = i;
    let hibit = 1 << 18; // the 2^128 bit, in the top limb (bit 110 + 18)
    if (i >= full) {
      // A last partial block: its bytes, then 0x01, then zeros; no 2^128 bit.
      last = new Uint8Array(16);
      last.set(data.subarray(i));
      last[len - i] = 1;
      d = last;
      at = 0;
      hibit = 0;
    }
    let w0: number;
    let w1: number;
    let w2: number;
    let w3: number;
    if (d === data) {
      w0 = view.getUint32(at, true);
      w1 = view.getUint32(at + 4, true);
      w2 = view.getUint32(at + 8, true);
      w3 = view.getUint32(at + 12, true);
    } else {
      w0 = le32(d, at);
      w1 = le32(d, at + 4);
      w2 = le32(d, at + 8);
      w3 = le32(d, at + 12);
    }
    h0 += w0 & MASK;
    h1 += (w0 >>> 22) | ((w1 & 0xfff) << 10);
    h2 += (w1 >>> 12) | ((w2 & 0x3) << 20);
    h3 += (w2 >>> 2) & MASK;
    h4 += (w2 >>> 24) | ((w3 & 0x3fff) << 8);
    h5 += (w3 >>> 14) | hibit;

    let d0 = h0 * r0 + h1 * s5 + h2 * s4 + h3 * s3 + h4 * s2 + h5 * s1;
    let d1 = h0 * r1 + h1 * r0 + h2 * s5 + h3 * s4 + h4 * s3 + h5 * s2;
    let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s5 + h4 * s4 + h5 * s3;
    let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s5 + h5 * s4;
    let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s5;
    let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0;

    // Partial reduction: carry each limb into the next, the top one around (× 20).
    let c = Math.floor(d0 * INV_LIMB);
    d0 -= c * LIMB;
    d1 += c;
    c = Math.floor(d1 * INV_LIMB);
    d1 -= c * LIMB;
    d2 += c;
    c = Math.floor(d2 * INV_LIMB);
    d2 -= c * LIMB;
    d3 += c;
    c = Math.floor(d3 * INV_LIMB);
    d3 -= c * LIMB;
    d4 += c;
    c = Math.floor(d4 * INV_LIMB);
    d4 -= c * LIMB;
    d5 += c;
    c = Math.floor(d5 * INV_LIMB);
    d5 -= c * LIMB;
    d0 += c * 20;
    c = Math.floor(d0 * INV_LIMB);
    d0 -= c * LIMB;
    d1 += c;
    h0 = d0;
    h1 = d1;
    h2 = d2;
    h3 = d3;
    h4 = d4;
    h5 = d5;
  }
  last?.fill(0);

  return finishPoly1305([h0, h1, h2, h3, h4, h5], 22, key);
}
