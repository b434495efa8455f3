/**
 * Inversion in R3 = F3[x]/(x^761 - x - 1) for Streamlined NTRU Prime key generation (the
 * submission's R3_recip), bit-sliced: a polynomial of p + 1 = 762 coefficients in F3 is two
 * 24-word bit planes, `m` (the coefficient is nonzero) and `s` (it is -1), coefficient i at
 * bit i mod 32 of word ⌊i/32⌋. The same 2p - 1 constant-length division steps as
 * sntrup761-poly.ts's rqRecip3 then cost a few dozen word operations per step instead of
 * hundreds of coefficient operations.
 *
 * F3 in (m, s): 0 = (0, 0), 1 = (1, 0), -1 = (1, 1); negation flips s where m is set. The sum
 * of a and b is b where a = 0, a where b = 0, 0 where they are opposite, and -a where they
 * are equal (a + a = 2a = -a).
 */
import { P } from "./sntrup761-poly.ts";

const WORDS = Math.ceil((P + 1) / 32); // 24
/** The valid bits of the top word: coefficients 0..p only. */
const TOP_MASK = 2 ** ((P + 1) % 32 || 32) - 1;

interface Planes {
  m: Uint32Array;
  s: Uint32Array;
}

const planes = (): Planes => ({ m: new Uint32Array(WORDS), s: new Uint32Array(WORDS) });

function setCoefficient(a: Planes, i: number, c: number): void {
  const w = i >> 5;
  const bit = 1 << (i & 31);
  if (c !== 0) a.m[w] = (a.m[w] as number) | bit;
  if (c < 0) a.s[w] = (a.s[w] as number) | bit;
}

function coefficient(a: Planes, i: number): number {
  const w = i >> 5;
  const b = i & 31;
  const m = ((a.m[w] as number) >>> b) & 1;
  const s = ((a.s[w] as number) >>> b) & 1;
  return m - 2 * (m & s);
}

/** a ← x·a, dropping what passes coefficient p. */
function shiftUp(a: Planes): void {
  for (const plane of [a.m, a.s]) {
    for (let w = WORDS - 1; w > 0; w--) plane[w] = ((plane[w] as number) << 1) | ((plane[w - 1] as number) >>> 31);
    plane[0] = (plane[0] as number) << 1;
    plane[WORDS - 1] = (plane[WORDS - 1] as number) & TOP_MASK;
  }
}

/** a ← a/x (coefficient 0, which the caller has made zero, drops out). */
function shiftDown(a: Planes): void {
  for (const plane of [a.m, a.s]) {
    for (let w = 0; w < WORDS - 1; w++) plane[w] = ((plane[w] as number) >>> 1) | ((plane[w + 1] as number) << 31);
    plane[WORDS - 1] = (plane[WORDS - 1] as number) >>> 1;
  }
}

/** a ↔ b where mask is all ones; nothing where it is 0. */
function conditionalSwap(mask: number, a: Planes, b: Planes): void {
  for (let w = 0; w < WORDS; w++) {
    let t = mask & ((a.m[w] as number) ^ (b.m[w] as number));
    a.m[w] = (a.m[w] as number) ^ t;
    b.m[w] = (b.m[w] as number) ^ t;
    t = mask & ((a.s[w] as number) ^ (b.s[w] as number));
    a.s[w] = (a.s[w] as number) ^ t;
    b.s[w] = (b.s[w] as number) ^ t;
  }
}

/**
 * a ← a + c·b for a scalar c in F3 given as masks: `nonzero` all ones when c ≠ 0, `negative`
 * all ones when c = -1.
 */
function addScaled(a: Planes, b: Planes, nonzero: number, negative: number): void {
  for (let w = 0; w < WORDS; w++) {
    const am = a.m[w] as number;
    const as = a.s[w] as number;
    const bm = (b.m[w] as number) & nonzero;
    const bs = ((b.s[w] as number) ^ negative) & bm;
    const both = am & bm;
    const same = both & ~(as ^ bs);
    a.m[w] = (am ^ bm) | same;
    a.s[w] = (am & ~bm & as) | (bm & ~am & bs) | (same & ~as);
  }
}

/** The inverse in R3 of the small polynomial s; undefined when s is not invertible. */
export function r3Recip(input: Int8Array): Int8Array | undefined {
  const f = planes();
  const g = planes();
  const v = planes();
  const r = planes();
  setCoefficient(r, 0, 1);
  setCoefficient(f, 0, 1); // x^p - x - 1 with its coefficients reversed
  setCoefficient(f, P - 1, -1);
  setCoefficient(f, P, -1);
  for (let i = 0; i < P; i++) setCoefficient(g, P - 1 - i, input[i] as number);
  let delta = 1;
  for (let loop = 0; loop < 2 * P - 1; loop++) {
    shiftUp(v);
    // c = -f(0)·g(0): its masks from the two planes' bit 0, without branches
    const f0m = (f.m[0] as number) & 1;
    const g0m = (g.m[0] as number) & 1;
    const nonzero = -(f0m & g0m);
    const negative = -(~((f.s[0] as number) ^ (g.s[0] as number)) & 1) & nonzero; // equal signs: -1
    const swap = (-delta >> 31) & -g0m;
    delta ^= swap & (delta ^ -delta);
    delta += 1;
    conditionalSwap(swap, f, g);
    conditionalSwap(swap, v, r);
    addScaled(g, f, nonzero, negative);
    addScaled(r, v, nonzero, negative);
    shiftDown(g);
  }
  const sign = coefficient(f, 0);
  const out = new Int8Array(P);
  for (let i = 0; i < P; i++) out[i] = sign * coefficient(v, P - 1 - i);
  for (const a of [f, g, v, r]) {
    a.m.fill(0);
    a.s.fill(0);
  }
  return delta === 0 ? out : undefined;
}
