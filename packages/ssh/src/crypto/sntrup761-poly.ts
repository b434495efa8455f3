/**
 * The rings of Streamlined NTRU Prime 761 (NTRU Prime round-3 submission, §3 "Streamlined
 * NTRU Prime Core" and §2 parameters): R = Z[x]/(x^p - x - 1) with p = 761, its quotient
 * Rq = R/q (q = 4591, coefficients kept centred in -(q-1)/2..(q-1)/2) and R3 = R/3
 * (coefficients in -1..1). "Small" polynomials have every coefficient in -1..1; "short" ones
 * are small with exactly w = 286 nonzero coefficients.
 *
 * The arithmetic runs on typed arrays without data-dependent branches or early exits where
 * that costs nothing in JavaScript: reductions use masks, inversion runs a fixed number of
 * division steps, the sort that places a short polynomial's nonzero coefficients is a
 * sorting network. (A JavaScript engine gives no timing guarantee; this avoids the obvious
 * leaks, it does not promise constant time.)
 */

export const P = 761;
export const Q = 4591;
export const W = 286;
/** (q - 1) / 2: Rq coefficients lie in -Q12..Q12. */
export const Q12 = (Q - 1) / 2;

/** x mod q, centred in -Q12..Q12; |x| must stay below 2^31. */
export function fqFreeze(x: number): number {
  let r = x % Q; // -(q-1)..q-1
  r += Q & (r >> 31); // 0..q-1
  return r - (Q & ((Q12 - r) >> 31)); // above Q12 → minus q
}

/** x mod 3, centred in -1..1. */
export function f3Freeze(x: number): number {
  let r = x % 3;
  r += 3 & (r >> 31); // 0..2
  return r - (3 & ((1 - r) >> 31)); // 2 → -1
}

/**
 * x mod q centred, for |x| < 2^26: x - q·round(x/q), exact in double precision (q is odd,
 * so x/q is never halfway between integers) and cheaper than an integer division.
 */
function fqFreezeWide(x: number): number {
  return x - Q * Math.floor(x * INVERSE_Q + 0.5);
}

const INVERSE_Q = 1 / Q;

/** -1 when x ≠ 0, else 0 (x a 32-bit integer). */
export function nonzeroMask(x: number): number {
  return (x | -x) >> 31;
}

/** a^(q-2) = 1/a in Z/q (a ≠ 0 mod q). */
function fqRecip(a: number): number {
  let result = 1;
  let base = fqFreeze(a);
  for (let e = Q - 2; e > 0; e >>>= 1) {
    if (e & 1) result = fqFreeze(result * base); // the exponent is public
    base = fqFreeze(base * base);
  }
  return result;
}

/**
 * The product of a (coefficients in Z, |a[i]| ≤ Q12) and the small polynomial s, reduced
 * modulo x^p - x - 1: x^(p+k) = x^(k+1) + x^k. Coefficients are left unreduced (|c| < 2^23).
 */
function multiply(a: ArrayLike<number>, s: ArrayLike<number>): Int32Array {
  const prod = new Int32Array(2 * P - 1);
  for (let i = 0; i < P; i++) {
    const ai = a[i] as number;
    for (let j = 0; j < P; j++) prod[i + j] = (prod[i + j] as number) + ai * (s[j] as number);
  }
  for (let k = 2 * P - 2; k >= P; k--) {
    const c = prod[k] as number;
    prod[k - P] = (prod[k - P] as number) + c;
    prod[k - P + 1] = (prod[k - P + 1] as number) + c;
  }
  return prod.subarray(0, P);
}

/** a · s in Rq, for a in Rq and s small. */
export function rqMultSmall(a: Int16Array, s: Int8Array): Int16Array {
  const prod = multiply(a, s);
  const out = new Int16Array(P);
  for (let i = 0; i < P; i++) out[i] = fqFreeze(prod[i] as number);
  return out;
}

/** 3 · a in Rq. */
export function rqMult3(a: Int16Array): Int16Array {
  const out = new Int16Array(P);
  for (let i = 0; i < P; i++) out[i] = fqFreeze(3 * (a[i] as number));
  return out;
}

/** a · s in R3, both small. */
export function r3Mult(a: Int8Array, s: Int8Array): Int8Array {
  const prod = multiply(a, s);
  const out = new Int8Array(P);
  for (let i = 0; i < P; i++) out[i] = f3Freeze(prod[i] as number);
  return out;
}

/** Each Rq coefficient reduced mod 3 (the lift R3 ← Rq of the Core's decryption). */
export function r3FromRq(a: Int16Array): Int8Array {
  const out = new Int8Array(P);
  for (let i = 0; i < P; i++) out[i] = f3Freeze(a[i] as number);
  return out;
}

/**
 * Round(a): each coefficient to the nearest multiple of 3 (the ciphertext's rounding,
 * submission §3: "Round"); a coefficient minus its centred residue mod 3.
 */
export function round3(a: Int16Array): Int16Array {
  const out = new Int16Array(P);
  for (let i = 0; i < P; i++) out[i] = (a[i] as number) - f3Freeze(a[i] as number);
  return out;
}

/** -1 unless exactly w coefficients are nonzero, else 0 (the Core's weight check). */
export function weightMask(r: Int8Array): number {
  let weight = 0;
  for (let i = 0; i < P; i++) weight += (r[i] as number) & 1;
  return nonzeroMask(weight - W);
}

/*
 * Inversion by 2p - 1 constant-length division steps (Bernstein–Yang "safegcd", the
 * submission's Rq_recip3) on f = x^p - x - 1 and g = the input, both with their
 * coefficients reversed, and the cofactors v = 0, r = 1 (or 1/3). One step:
 *
 *   v ← x·v; if δ > 0 and g(0) ≠ 0: swap (f, g), swap (v, r), δ ← -δ;  δ ← δ + 1;
 *   g ← (f(0)·g - g(0)·f)/x;  r ← f(0)·r - g(0)·v
 *
 * (over F3 the combination is g + c·f with c = -f(0)·g(0), the same up to a unit). Each step
 * is one pass over f, g (the swap, the combination and the division by x fused) and one over
 * v, r. The swap is arithmetic (a + sw·(b - a), sw 0 or 1), not a branch. The cofactors start
 * as constants and gain at most one degree a step, so step n touches only their first n + 1
 * coefficients: a bound set by the step count, not by the data.
 */

/**
 * 1/(3·s) in Rq for a small s (always invertible there for a short s: x^p - x - 1 is
 * irreducible mod q). The working arrays are Float64Array: the values stay exact integers
 * (below 2^26), and every engine tried runs this fastest without int/float conversions. (The
 * R3 inverse, the same steps over F3, is bit-sliced in sntrup761-r3-recip.ts.)
 */
export function rqRecip3(s: Int8Array): Int16Array {
  const f = new Float64Array(P + 1);
  const g = new Float64Array(P + 1);
  const v = new Float64Array(P + 1);
  const r = new Float64Array(P + 1);
  r[0] = fqRecip(3);
  f[0] = 1;
  f[P - 1] = -1;
  f[P] = -1;
  for (let i = 0; i < P; i++) g[P - 1 - i] = s[i] as number;
  let delta = 1;
  for (let loop = 0; loop < 2 * P - 1; loop++) {
    const f0 = f[0] as number;
    const g0 = g[0] as number;
    const swapMask = (-delta >> 31) & nonzeroMask(g0);
    const sw = swapMask & 1;
    delta ^= swapMask & (delta ^ -delta);
    delta += 1;
    const newF0 = f0 + sw * (g0 - f0);
    const newG0 = g0 - sw * (g0 - f0);
    const top = Math.min(loop, P);
    for (let i = top; i >= 0; i--) {
      const a = i > 0 ? (v[i - 1] as number) : 0; // v ← x·v
      const b = r[i] as number;
      const t = sw * (b - a);
      v[i] = a + t;
      r[i] = fqFreezeWide(newF0 * (b - t) - newG0 * (a + t));
    }
    f[0] = newF0;
    for (let i = 1; i <= P; i++) {
      const a = f[i] as number;
      const b = g[i] as number;
      const t = sw * (b - a);
      f[i] = a + t;
      g[i - 1] = fqFreezeWide(newF0 * (b - t) - newG0 * (a + t));
    }
    g[P] = 0;
  }
  const scale = fqRecip(f[0] as number);
  const out = new Int16Array(P);
  for (let i = 0; i < P; i++) out[i] = fqFreeze(scale * (v[P - 1 - i] as number));
  return out;
}

/**
 * Sorts 32-bit signed integers ascending with a bitonic sorting network (the array padded
 * to a power of two with the largest value), so the sequence of operations does not depend
 * on the values. Each compare-exchange is a branch-free min/max.
 */
function sortNetwork(values: Int32Array): void {
  let n = 1;
  while (n < values.length) n *= 2;
  const x = new Int32Array(n).fill(0x7fffffff);
  x.set(values);
  for (let k = 2; k <= n; k *= 2) {
    for (let j = k; j >= 2; j >>= 1) {
      for (let i = 0; i < n; i++) {
        // first pass of a stage: compare mirrored positions in each block of k; then halves
        const partner = j === k ? i ^ (k - 1) : i ^ (j >> 1);
        if (partner <= i) continue; // the network's shape, not the data
        const a = x[i] as number;
        const b = x[partner] as number;
        // mask = -1 when b < a, computed without overflow for any two int32s
        const ab = a ^ b;
        let c = (b - a) | 0;
        c ^= ab & (c ^ b);
        c = (c >> 31) & ab;
        x[i] = a ^ c;
        x[partner] = b ^ c;
      }
    }
  }
  values.set(x.subarray(0, values.length));
}

/**
 * A short polynomial from p random 32-bit words (submission: Short_fromlist): the first w
 * words get an even low part (→ ±1), the rest the value 1 in their two low bits (→ 0); the
 * sort by word value places the nonzero coefficients at random positions.
 */
export function shortFromList(words: Uint32Array): Int8Array {
  const keys = new Int32Array(P);
  for (let i = 0; i < P; i++) {
    const u = words[i] as number;
    const word = i < W ? u & ~1 : (u & ~3) | 1;
    keys[i] = word ^ 0x80000000; // unsigned order as signed order
  }
  sortNetwork(keys);
  const out = new Int8Array(P);
  for (let i = 0; i < P; i++) out[i] = ((keys[i] as number) & 3) - 1;
  return out;
}

/** A small polynomial from p random words (submission: Small_random): ⌊3·(u mod 2^30)/2^30⌋ - 1. */
export function smallFromList(words: Uint32Array): Int8Array {
  const out = new Int8Array(P);
  for (let i = 0; i < P; i++) out[i] = Math.floor((((words[i] as number) & 0x3fffffff) * 3) / 0x40000000) - 1;
  return out;
}
