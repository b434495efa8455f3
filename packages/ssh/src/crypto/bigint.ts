/**
 * BigInt helpers for the RSA and finite-field DH code (no runtime dependency), and the one
 * conversion from big-endian bytes (RFC 4251 §5 mpint magnitudes, RFC 8017 §4.2 OS2IP) to a
 * bigint that everything else uses.
 *
 * The conversion is linear in the input: a shift-and-or per byte copies the whole value at
 * every step and is quadratic, which a peer can turn into seconds of CPU with one 256 KiB
 * value (issue 12, item 1). Callers still bound every peer-supplied size before converting.
 */

/** Two ASCII hex digits per byte value, high digit in the low byte (written as two bytes). */
const HEX_PAIRS = (() => {
  const digits = "0123456789abcdef";
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) t[i] = digits.charCodeAt(i >> 4) | (digits.charCodeAt(i & 15) << 8);
  return t;
})();

/** The hex digits are ASCII, which latin1 decodes one byte to one character. */
const latin1 = new TextDecoder("latin1");

/**
 * Unsigned big-endian bytes to a bigint (RFC 8017 §4.2 OS2IP), in time linear in the length:
 * the bytes are written out as a "0x…" string in one pass and parsed once, which every engine
 * does digit by digit for a power-of-two radix.
 */
export function bytesToBigint(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  const text = new Uint8Array(2 + 2 * b.length);
  text[0] = 0x30; // "0"
  text[1] = 0x78; // "x"
  for (let i = 0, o = 2; i < b.length; i++, o += 2) {
    const pair = HEX_PAIRS[b[i] as number] as number;
    text[o] = pair & 0xff;
    text[o + 1] = pair >> 8;
  }
  return BigInt(latin1.decode(text));
}

/** The number of significant bits of a non-negative bigint (0 for 0), in linear time. */
export function bitLength(n: bigint): number {
  if (n < 0n) throw new RangeError("bitLength: the value is negative");
  if (n === 0n) return 0;
  const hex = n.toString(16);
  return (hex.length - 1) * 4 + Number.parseInt(hex[0] as string, 16).toString(2).length;
}

/** base^exp mod m by right-to-left square-and-multiply. */
export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}
