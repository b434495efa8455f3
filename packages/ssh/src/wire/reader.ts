/**
 * Wire layer: a bounds-checked reader for the SSH data types of RFC 4251 §5
 * (byte, boolean, uint32, uint64, string, mpint, name-list).
 *
 * Every read checks the remaining length first and throws an `SshError`
 * (`PROTOCOL_ERROR`) naming the field that was truncated; nothing is ever
 * preallocated from a length the peer sent.
 */
import { bytesToBigint } from "../crypto/bigint.ts";
import { protocolError } from "../errors.ts";

/**
 * The default bound on an mpint's magnitude: 16,384 bits, the largest RSA modulus we accept
 * (OpenSSH's SSH_RSA_MAXIMUM_MODULUS_SIZE) and more than any DH group or curve needs.
 */
export const MPINT_MAX_BYTES = 2048;

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Reads SSH data types from a byte buffer, checking every length against what is left. */
export class Reader {
  /** The buffer read from; reads stay between `pos` and `end`. */
  readonly buf: Uint8Array;
  /** Offset in `buf` of the next byte to read; every read moves it past what it took. */
  pos: number;
  /** Offset in `buf` where reading stops (exclusive): `buf.length` unless the constructor was given less. */
  readonly end: number;
  private readonly view: DataView;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Bytes left to read, `end − pos`. */
  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw protocolError(`truncated ${what}: needed ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  /** RFC 4251 §5 `byte`, 0–255. `what` names the field in the error if none is left (as for every read). */
  byte(what = "byte"): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  /** RFC 4251 §5: any non-zero value is TRUE. */
  boolean(what = "boolean"): boolean {
    return this.byte(what) !== 0;
  }

  /** RFC 4251 §5 `uint32`: 4 bytes, big-endian. */
  uint32(what = "uint32"): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** RFC 4251 §5 `uint64`: 8 bytes, big-endian, as a bigint. */
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

  /**
   * The contents of an mpint whose magnitude may take at most `maxBytes` bytes (one more for
   * the sign byte a positive value with its top bit set carries). The length field is checked
   * before anything else, so an oversized value costs nothing (issue 12, item 1).
   */
  private mpintContents(what: string, maxBytes: number): Uint8Array {
    const len = this.uint32(`${what} length`);
    if (len > maxBytes + 1) throw protocolError(`${what} has ${len} bytes, more than the ${maxBytes} allowed`);
    const b = this.raw(len, what);
    const first = b[0] as number;
    if (
      b.length > 1 &&
      ((first === 0 && ((b[1] as number) & 0x80) === 0) || (first === 0xff && ((b[1] as number) & 0x80) !== 0))
    ) {
      throw protocolError(`${what} is not minimally encoded`);
    }
    // A minimal mpint one byte over the bound is fine only when that byte is the sign pad.
    if (len === maxBytes + 1 && first !== 0) {
      throw protocolError(`${what} has ${len} bytes, more than the ${maxBytes} allowed`);
    }
    return b;
  }

  /**
   * RFC 4251 §5 `mpint`: two's complement, big-endian, minimal encoding. `maxBytes` bounds the
   * magnitude; every caller reading a peer's value passes the bound its use allows.
   */
  mpint(what = "mpint", maxBytes = MPINT_MAX_BYTES): bigint {
    const b = this.mpintContents(what, maxBytes);
    if (b.length === 0) return 0n;
    const v = bytesToBigint(b);
    // Negative: the bytes read as unsigned, minus 2^(8·length).
    return ((b[0] as number) & 0x80) !== 0 ? v - (1n << BigInt(b.length * 8)) : v;
  }

  /**
   * An mpint that must be non-negative; returns its magnitude bytes without the sign pad, at
   * most `maxBytes` of them.
   */
  mpintBytes(what = "mpint", maxBytes = MPINT_MAX_BYTES): Uint8Array {
    const b = this.mpintContents(what, maxBytes);
    if (b.length > 0 && ((b[0] as number) & 0x80) !== 0) throw protocolError(`${what} is negative`);
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
