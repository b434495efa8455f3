/**
 * Wire layer: a bounds-checked reader for the SSH data types of RFC 4251 §5
 * (byte, boolean, uint32, uint64, string, mpint, name-list).
 *
 * Every read checks the remaining length first and throws an `SshError`
 * (`PROTOCOL_ERROR`) naming the field that was truncated; nothing is ever
 * preallocated from a length the peer sent.
 */
import { protocolError } from "../errors.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

export class Reader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  private readonly view: DataView;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw protocolError(`truncated ${what}: needed ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  byte(what = "byte"): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  /** RFC 4251 §5: any non-zero value is TRUE. */
  boolean(what = "boolean"): boolean {
    return this.byte(what) !== 0;
  }

  uint32(what = "uint32"): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  uint64(what = "uint64"): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  /** Raw bytes of a fixed size (a view into the buffer, not a copy). */
  raw(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** RFC 4251 §5 `string`: uint32 length then bytes. Returns a view. */
  string(what = "string"): Uint8Array {
    const len = this.uint32(`${what} length`);
    return this.raw(len, what);
  }

  /** A `string` decoded as UTF-8; invalid UTF-8 is a protocol error. */
  utf8(what = "string"): string {
    const b = this.string(what);
    try {
      return decoder.decode(b);
    } catch {
      throw protocolError(`${what} is not valid UTF-8`);
    }
  }

  /** A `string` that must be US-ASCII printable (names, algorithm lists). */
  ascii(what = "string"): string {
    const b = this.string(what);
    let s = "";
    for (let i = 0; i < b.length; i++) {
      const c = b[i] as number;
      if (c < 0x20 || c > 0x7e) throw protocolError(`${what} has a non-printable byte 0x${c.toString(16)}`);
      s += String.fromCharCode(c);
    }
    return s;
  }

  /** RFC 4251 §5 `name-list`: comma-separated, no empty names. */
  nameList(what = "name-list"): string[] {
    const s = this.ascii(what);
    if (s === "") return [];
    const names = s.split(",");
    for (const n of names) {
      if (n === "") throw protocolError(`${what} contains an empty name`);
    }
    return names;
  }

  /** RFC 4251 §5 `mpint`: two's complement, big-endian, minimal encoding. */
  mpint(what = "mpint"): bigint {
    const b = this.string(what);
    if (b.length === 0) return 0n;
    const first = b[0] as number;
    if (
      b.length > 1 &&
      ((first === 0 && ((b[1] as number) & 0x80) === 0) || (first === 0xff && ((b[1] as number) & 0x80) !== 0))
    ) {
      throw protocolError(`${what} is not minimally encoded`);
    }
    let v = 0n;
    for (const x of b) v = (v << 8n) | BigInt(x);
    if (first & 0x80) v -= 1n << BigInt(b.length * 8);
    return v;
  }

  /** An mpint that must be non-negative; returns its magnitude bytes without the sign pad. */
  mpintBytes(what = "mpint"): Uint8Array {
    const b = this.string(what);
    if (b.length > 0 && ((b[0] as number) & 0x80) !== 0) throw protocolError(`${what} is negative`);
    if (b.length > 1 && b[0] === 0 && ((b[1] as number) & 0x80) === 0) {
      throw protocolError(`${what} is not minimally encoded`);
    }
    return b[0] === 0 ? b.subarray(1) : b;
  }

  /** Everything left. */
  rest(): Uint8Array {
    const v = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return v;
  }

  /** Throws if bytes remain: messages with trailing garbage are rejected. */
  done(what = "message"): void {
    if (this.pos !== this.end) throw protocolError(`${what} has ${this.end - this.pos} unexpected trailing bytes`);
  }
}
