/**
 * Base64 (RFC 4648 §4) without runtime globals: strict decoding (alphabet, padding, length).
 */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const LOOKUP = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

export function encodeBase64(data: Uint8Array, pad = true): string {
  let out = "";
  let i = 0;
  for (; i + 2 < data.length; i += 3) {
    const n = ((data[i] as number) << 16) | ((data[i + 1] as number) << 8) | (data[i + 2] as number);
    out +=
      ALPHABET.charAt(n >> 18) +
      ALPHABET.charAt((n >> 12) & 63) +
      ALPHABET.charAt((n >> 6) & 63) +
      ALPHABET.charAt(n & 63);
  }
  const rest = data.length - i;
  if (rest === 1) {
    const n = (data[i] as number) << 16;
    out += `${ALPHABET[n >> 18]}${ALPHABET[(n >> 12) & 63]}${pad ? "==" : ""}`;
  } else if (rest === 2) {
    const n = ((data[i] as number) << 16) | ((data[i + 1] as number) << 8);
    out += `${ALPHABET[n >> 18]}${ALPHABET[(n >> 12) & 63]}${ALPHABET[(n >> 6) & 63]}${pad ? "=" : ""}`;
  }
  return out;
}

/** Unpadded form, as OpenSSH prints SHA256 fingerprints. */
export function base64NoPad(data: Uint8Array): string {
  return encodeBase64(data, false);
}

/** Strict decode; throws `TypeError` naming what was wrong. Whitespace is not allowed. */
export function decodeBase64(text: string): Uint8Array {
  let s = text;
  let padding = 0;
  while (s.endsWith("=") && padding < 2) {
    s = s.slice(0, -1);
    padding++;
  }
  if ((s.length + padding) % 4 !== 0 && padding > 0) throw new TypeError("invalid base64: bad padding");
  if (s.length % 4 === 1) throw new TypeError("invalid base64: truncated data");
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const v = LOOKUP[s.charCodeAt(i)] ?? -1;
    if (v < 0 || s.charCodeAt(i) > 255) throw new TypeError(`invalid base64: unexpected character at offset ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}
