/**
 * Wire layer: a growable writer for the SSH data types of RFC 4251 §5.
 */

const encoder = new TextEncoder();

/** Writes SSH data types into a buffer that grows as needed. */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  /** Bytes written so far: the length of what `bytes` returns. */
  pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** RFC 4251 §5 `byte`: the low 8 bits of `v`. */
  byte(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  /** RFC 4251 §5 `boolean`: 1 for true, 0 for false. */
  boolean(v: boolean): this {
    return this.byte(v ? 1 : 0);
  }

  /** RFC 4251 §5 `uint32`, big-endian; a RangeError unless `v` is an integer 0 to 2^32 − 1. */
  uint32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`uint32 out of range: ${v}`);
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
    return this;
  }

  /** RFC 4251 §5 `uint64`, big-endian; `v` is taken modulo 2^64 (no range check). */
  uint64(v: bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
    return this;
  }

  /** The bytes as they are, with no length in front. */
  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** RFC 4251 §5 `string`: uint32 length, then the bytes (a JavaScript string is written as UTF-8). */
  string(b: Uint8Array | string): this {
    const bytes = typeof b === "string" ? encoder.encode(b) : b;
    this.uint32(bytes.length);
    return this.raw(bytes);
  }

  /** RFC 4251 §5 `name-list`: the names joined by commas, as a `string`; the names are not checked. */
  nameList(names: readonly string[]): this {
    return this.string(names.join(","));
  }

  /** RFC 4251 §5 mpint from a bigint (two's complement, minimal). */
  mpint(v: bigint): this {
    return this.string(mpintEncode(v));
  }

  /** mpint from unsigned big-endian magnitude bytes (leading zeros stripped, sign pad added). */
  mpintFromBytes(mag: Uint8Array): this {
    let i = 0;
    while (i < mag.length && mag[i] === 0) i++;
    const m = mag.subarray(i);
    const pad = m.length > 0 && ((m[0] as number) & 0x80) !== 0 ? 1 : 0;
    this.uint32(m.length + pad);
    if (pad) this.byte(0);
    return this.raw(m);
  }

  /** A copy of what was written. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export function mpintEncode(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const neg = v < 0n;
  let hex = (neg ? -v : v).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = hexToBytes(hex);
  if (neg) {
    // two's complement of the magnitude, over enough bytes to keep the sign bit set
    let n = BigInt(bytes.length * 8);
    let tc = (1n << n) + v;
    if (((tc >> (n - 1n)) & 1n) === 0n) {
      n += 8n;
      tc = (1n << n) + v;
    }
    let h = tc.toString(16);
    if (h.length % 2) h = `0${h}`;
    bytes = hexToBytes(h);
  } else if (((bytes[0] as number) & 0x80) !== 0) {
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes, 1);
    bytes = padded;
  }
  return bytes;
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Big-endian unsigned bytes of a non-negative bigint, left-padded to `len` if given. */
export function bigintToBytes(v: bigint, len?: number): Uint8Array {
  if (v < 0n) throw new RangeError(`bigintToBytes: negative value`);
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const b = v === 0n ? new Uint8Array(0) : hexToBytes(hex);
  if (len === undefined || b.length === len) return b;
  if (b.length > len) throw new RangeError(`bigintToBytes: value needs ${b.length} bytes, more than ${len}`);
  const out = new Uint8Array(len);
  out.set(b, len - b.length);
  return out;
}

/** Unsigned big-endian bytes to a bigint: the linear-time conversion in crypto/bigint.ts. */
export { bytesToBigint } from "../crypto/bigint.ts";
