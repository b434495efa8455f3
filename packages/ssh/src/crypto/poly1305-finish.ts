/**
 * What both of our Poly1305 implementations (poly1305.ts, poly1305-wasm.ts) do once their
 * block loop is over: reduce the accumulator fully mod p = 2^130 − 5 and add s mod 2^128
 * (RFC 8439 §2.5). Limbs of any width, so the 22-bit and the 26-bit layouts share it; it runs
 * once a message, not per block.
 */

/** A little-endian 32-bit word of `d` at `i`. */
export function le32(d: Uint8Array, i: number): number {
  return (
    ((d[i] as number) | ((d[i + 1] as number) << 8) | ((d[i + 2] as number) << 16) | ((d[i + 3] as number) << 24)) >>> 0
  );
}

/**
 * The tag from a partially reduced accumulator `limbs` (`bits` per limb, least significant
 * first, each below 2^53; reduced in place) and the one-time key's s half (`key[16..31]`).
 */
export function finishPoly1305(limbs: number[], bits: number, key: Uint8Array): Uint8Array {
  const n = limbs.length;
  const radix = 2 ** bits;
  // Bit 130 sits in the top limb at this position.
  const topRadix = 2 ** (130 - bits * (n - 1));
  const h = limbs; // the caller's scratch: reduced in place
  const g = new Array<number>(n);
  // Carry, fold the bits at 130 and above back in times 5 (2^130 ≡ 5 mod p), carry again:
  // now h < 2^130 + a little. Meanwhile g = h + 5: if it reaches 2^130, h ≥ p and g − 2^130
  // is h mod p.
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < n - 1; i++) {
      const c = Math.floor((h[i] as number) / radix);
      h[i] = (h[i] as number) - c * radix;
      h[i + 1] = (h[i + 1] as number) + c;
    }
    if (pass === 0) {
      const c = Math.floor((h[n - 1] as number) / topRadix);
      h[n - 1] = (h[n - 1] as number) - c * topRadix;
      h[0] = (h[0] as number) + 5 * c;
    }
  }
  let c5 = 5;
  for (let i = 0; i < n; i++) {
    const v = (h[i] as number) + c5;
    c5 = i < n - 1 ? Math.floor(v / radix) : 0;
    g[i] = v - c5 * radix;
  }
  const out = (g[n - 1] as number) >= topRadix ? g : h;
  if (out === g) g[n - 1] = (g[n - 1] as number) - topRadix;
  // (h + s) mod 2^128, byte by byte: limbs stream into an accumulator of under 2^(bits + 8).
  const tag = new Uint8Array(16);
  let acc = 0;
  let scale = 1; // 2^(bits held in acc)
  let c = 0;
  let k = 0;
  for (let i = 0; i < n && k < 16; i++) {
    acc += (out[i] as number) * scale;
    scale *= radix;
    while (scale >= 256 && k < 16) {
      const byte = acc % 256;
      acc = (acc - byte) / 256;
      scale /= 256;
      const sum = byte + (key[16 + k] as number) + c;
      tag[k++] = sum & 0xff;
      c = sum >>> 8;
    }
  }
  return tag;
}
