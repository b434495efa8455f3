/**
 * Fuzzing support, input side: a small seeded PRNG (xoshiro128**, seeded through splitmix32)
 * so that every run is reproducible from its seed, and the mutation strategies the harness
 * applies to valid seeds — bit flips, byte insert / delete / duplicate / splice, interesting
 * byte values, and uint32 length fields (RFC 4251 §5 `string`, RFC 4253 §6 `packet_length`)
 * set to boundary values: 0, 1, 4, 2^31-1, 2^32-1 and the length of the rest ± 1.
 */

/** xoshiro128** with a splitmix32 seeder: 32-bit integer arithmetic only, fast on every runtime. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uniformly distributed uint32. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.next() / 0x100000000) * n);
  }

  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let v = this.next();
      for (let j = i; j < Math.min(n, i + 4); j++) {
        out[j] = v & 0xff;
        v >>>= 8;
      }
    }
    return out;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Rng.pick: no items");
    return items[this.below(items.length)] as T;
  }

  /** A length biased toward small values (most bugs need few bytes), up to `max`. */
  length(max: number): number {
    const r = this.below(4);
    const cap = r === 0 ? 8 : r === 1 ? 64 : r === 2 ? 512 : max;
    return this.below(Math.min(cap, max) + 1);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** FNV-1a over bytes: a seed from an input (chunk boundaries, scripted choices). */
export function hashBytes(b: Uint8Array, h = 0x811c9dc5): number {
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return h >>> 0;
}

export function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Values that sit on a boundary of a byte's range or of a sign bit. */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x04, 0x07, 0x08, 0x10, 0x1f, 0x20, 0x7f, 0x80, 0x81, 0xfe, 0xff];

/** The boundary values for a uint32 length field; `rest` is the number of bytes after it. */
export function boundaryLengths(rest: number): number[] {
  return [0, 1, 4, 0x7fffffff, 0xffffffff, rest, Math.max(0, rest - 1), rest + 1];
}

function join(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function u32(b: Uint8Array, at: number): number {
  return (
    (((b[at] as number) << 24) |
      ((b[at + 1] as number) << 16) |
      ((b[at + 2] as number) << 8) |
      (b[at + 3] as number)) >>>
    0
  );
}

function setU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

/**
 * Offsets where a uint32 could be a length field: its value is not more than the bytes after
 * it. Structure-aware without knowing the structure: RFC 4251 strings and packet lengths are
 * exactly such fields.
 */
function lengthFieldCandidates(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let at = 0; at + 4 <= b.length; at++) {
    const v = u32(b, at);
    if (v <= b.length - at - 4 && (v > 0 || (at > 0 && b[at - 1] === 0))) out.push(at);
    if (out.length >= 256) break;
  }
  return out;
}

export type MutationName =
  | "bitflip"
  | "byte"
  | "insert"
  | "delete"
  | "duplicate"
  | "splice"
  | "length"
  | "truncate"
  | "arith"
  | "random";

const OPS: readonly MutationName[] = [
  "bitflip",
  "bitflip",
  "byte",
  "byte",
  "insert",
  "delete",
  "duplicate",
  "splice",
  "length",
  "length",
  "length",
  "truncate",
  "arith",
];

/** One mutation of `input` (never modified in place). `others` feed splices. */
export function mutateOnce(
  rng: Rng,
  input: Uint8Array,
  others: readonly Uint8Array[],
  op: MutationName = rng.pick(OPS),
): Uint8Array {
  const n = input.length;
  if (n === 0 && op !== "insert" && op !== "splice") op = "insert";
  switch (op) {
    case "bitflip": {
      const out = input.slice();
      const flips = 1 + rng.below(rng.chance(0.8) ? 1 : 8);
      for (let i = 0; i < flips; i++) {
        const at = rng.below(n);
        out[at] = (out[at] as number) ^ (1 << rng.below(8));
      }
      return out;
    }
    case "byte": {
      const out = input.slice();
      out[rng.below(n)] = rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.below(256);
      return out;
    }
    case "arith": {
      const out = input.slice();
      const at = rng.below(n);
      out[at] = ((out[at] as number) + (rng.chance(0.5) ? 1 : -1) * (1 + rng.below(16))) & 0xff;
      return out;
    }
    case "insert": {
      const at = rng.below(n + 1);
      const len = 1 + rng.length(64);
      const fill = rng.chance(0.5) ? rng.bytes(len) : new Uint8Array(len).fill(rng.pick(INTERESTING_BYTES));
      return join(input.subarray(0, at), fill, input.subarray(at));
    }
    case "delete": {
      const at = rng.below(n);
      const len = 1 + rng.below(Math.min(n - at, rng.chance(0.7) ? 4 : 256));
      return join(input.subarray(0, at), input.subarray(at + len));
    }
    case "duplicate": {
      const at = rng.below(n);
      const len = 1 + rng.below(Math.min(n - at, 256));
      const to = rng.below(n + 1);
      return join(input.subarray(0, to), input.subarray(at, at + len), input.subarray(to));
    }
    case "splice": {
      const other = others.length > 0 ? rng.pick(others) : rng.bytes(rng.length(64));
      const cut = rng.below(n + 1);
      const from = rng.below(other.length + 1);
      return join(input.subarray(0, cut), other.subarray(from));
    }
    case "truncate":
      return input.slice(0, rng.below(n));
    case "length": {
      const out = input.slice();
      if (n < 4) return mutateOnce(rng, input, others, "insert");
      const candidates = lengthFieldCandidates(out);
      const at = candidates.length > 0 && rng.chance(0.85) ? rng.pick(candidates) : rng.below(n - 3);
      setU32(out, at, rng.pick(boundaryLengths(n - at - 4)));
      return out;
    }
    case "random":
      return rng.bytes(rng.length(1024));
  }
}

/** One to four stacked mutations, capped at `maxLength` bytes. */
export function mutate(rng: Rng, input: Uint8Array, others: readonly Uint8Array[], maxLength: number): Uint8Array {
  let out = input;
  const rounds = rng.chance(0.5) ? 1 : 2 + rng.below(3);
  for (let i = 0; i < rounds; i++) out = mutateOnce(rng, out, others);
  return out.length > maxLength ? out.slice(0, maxLength) : out;
}

/** Splits `input` into chunks of random sizes (the way a socket may deliver it). */
export function chunks(rng: Rng, input: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < input.length) {
    const len = 1 + rng.below(rng.chance(0.5) ? 8 : 128);
    out.push(input.slice(at, at + len));
    at += len;
  }
  return out;
}

/** Length-prefixed records (uint16 length ‖ bytes): how scripted targets carry several messages in one input. */
export function encodeRecords(records: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const r of records) {
    parts.push(Uint8Array.of(r.length >>> 8, r.length & 0xff), r);
  }
  return join(...parts);
}

/** The inverse of `encodeRecords`; a truncated last record is taken as it is. */
export function decodeRecords(b: Uint8Array, from = 0, max = 64): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = from;
  while (at + 2 <= b.length && out.length < max) {
    const len = ((b[at] as number) << 8) | (b[at + 1] as number);
    out.push(b.subarray(at + 2, Math.min(b.length, at + 2 + len)));
    at += 2 + len;
  }
  return out;
}

export { join as concatBytes };
