/**
 * A minimal strict DER reader (ITU-T X.690 §8, §10) for the PEM key formats: definite
 * lengths only, minimal length encoding, no trailing data.
 */
import { bytesToBigint } from "../crypto/bigint.ts";
import { SshError } from "../errors.ts";

export interface Der {
  tag: number;
  /** Contents (a view). */
  value: Uint8Array;
}

const bad = (m: string) => new SshError("KEY_FORMAT", `malformed DER: ${m}`);

export class DerReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  next(): Der {
    const b = this.buf;
    if (this.pos + 2 > b.length) throw bad("truncated element");
    const tag = b[this.pos++] as number;
    if ((tag & 0x1f) === 0x1f) throw bad("multi-byte tags are not supported");
    let len = b[this.pos++] as number;
    if (len === 0x80) throw bad("indefinite length");
    if (len > 0x80) {
      const n = len & 0x7f;
      if (n > 4) throw bad(`length of ${n} bytes is too long`);
      if (this.pos + n > b.length) throw bad("truncated length");
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + (b[this.pos++] as number);
      if (len < 0x80 || (n > 1 && b[this.pos - n] === 0)) throw bad("non-minimal length");
    }
    if (this.pos + len > b.length) throw bad(`element of ${len} bytes overruns its container`);
    const value = b.subarray(this.pos, this.pos + len);
    this.pos += len;
    return { tag, value };
  }

  expect(tag: number, what: string): Uint8Array {
    const e = this.next();
    if (e.tag !== tag) throw bad(`expected ${what} (tag 0x${tag.toString(16)}), got tag 0x${e.tag.toString(16)}`);
    return e.value;
  }

  /** INTEGER as a bigint (non-negative only). */
  integer(what: string): bigint {
    const v = this.expect(0x02, what);
    if (v.length === 0) throw bad(`empty INTEGER ${what}`);
    if (((v[0] as number) & 0x80) !== 0) throw bad(`negative INTEGER ${what}`);
    // Linear in the length (a byte-at-a-time shift is quadratic on a large INTEGER).
    return bytesToBigint(v);
  }

  sequence(what: string): DerReader {
    return new DerReader(this.expect(0x30, what));
  }

  end(what: string): void {
    if (!this.done) throw bad(`trailing data after ${what}`);
  }
}

/** Dotted OID string from DER contents. */
export function oidToString(v: Uint8Array): string {
  if (v.length === 0) throw bad("empty OID");
  const parts: number[] = [Math.floor((v[0] as number) / 40), (v[0] as number) % 40];
  let acc = 0;
  for (let i = 1; i < v.length; i++) {
    const b = v[i] as number;
    acc = acc * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      parts.push(acc);
      acc = 0;
    }
  }
  return parts.join(".");
}
