/**
 * Crypto layer: Blowfish (Schneier, "Description of a New Variable-Length Key, 64-Bit Block
 * Cipher (Blowfish)", Fast Software Encryption 1993) with the "expensive key schedule" of
 * eksblowfish (Provos and Mazières, "A Future-Adaptable Password Scheme", USENIX 1999, §4),
 * as bcrypt-pbkdf (OpenSSH PROTOCOL.key, `bcrypt` KDF) drives it. Only what that KDF needs:
 * the initial state, the two key-expansion steps and block encryption; no decryption.
 *
 * The state is one Int32Array — P-array at 0..17, S-boxes at 18 + 256·i, each S-box read
 * through its own view — so every word stays a 32-bit integer: the round function's sums are
 * reduced mod 2³² by the XOR that follows them (ToInt32), with no boxing. This loop is where
 * bcrypt-pbkdf spends all its time (about 2.2 million block encryptions for ssh-keygen's
 * default key); unrolling the 16 rounds measured no faster on V8 or JavaScriptCore.
 */
import { PI_FRACTION_HEX } from "./blowfish-pi.ts";

/** P-array (18 words) then S-boxes (4 × 256 words). */
export const STATE_WORDS = 18 + 4 * 256;
const S0 = 18;
const S1 = 18 + 256;
const S2 = 18 + 512;
const S3 = 18 + 768;

let initial: Int32Array | undefined;

/** A fresh Blowfish state: π's fractional digits (Schneier 1993, "Generating the subkeys", step 1). */
export function initialState(): Int32Array {
  if (!initial) {
    const hex = PI_FRACTION_HEX.replace(/\s+/g, "");
    if (hex.length !== STATE_WORDS * 8) throw new Error("internal error: Blowfish initial state has the wrong size");
    initial = new Int32Array(STATE_WORDS);
    for (let i = 0; i < STATE_WORDS; i++) initial[i] = Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16) | 0;
  }
  return initial.slice();
}

/**
 * The bytes as big-endian 32-bit words, read cyclically as eksblowfish's "stream to word" does
 * (a 64-byte input is 16 words; a shorter one wraps within a word).
 */
export function streamWords(data: Uint8Array, count: number): Int32Array {
  if (data.length === 0) throw new RangeError("streamWords: data must not be empty");
  const out = new Int32Array(count);
  let j = 0;
  for (let i = 0; i < count; i++) {
    let w = 0;
    for (let k = 0; k < 4; k++) {
      w = (w << 8) | (data[j] as number);
      j = j + 1 === data.length ? 0 : j + 1;
    }
    out[i] = w;
  }
  return out;
}

/**
 * Encrypts the 64-bit blocks (word pairs) of `blocks` in place, ECB (Schneier 1993,
 * "Encryption": 16 rounds of xL ^= P[i], xR ^= F(xL), swap; then undo the last swap and
 * whiten with P[16], P[17]).
 */
export function encryptBlocks(st: Int32Array, blocks: Int32Array): void {
  const s0 = st.subarray(S0, S0 + 256);
  const s1 = st.subarray(S1, S1 + 256);
  const s2 = st.subarray(S2, S2 + 256);
  const s3 = st.subarray(S3, S3 + 256);
  for (let b = 0; b < blocks.length; b += 2) {
    let l = blocks[b] as number;
    let r = blocks[b + 1] as number;
    l ^= st[0] as number;
    for (let i = 1; i < 17; i += 2) {
      r ^=
        ((((s0[l >>> 24] as number) + (s1[(l >>> 16) & 0xff] as number)) ^ (s2[(l >>> 8) & 0xff] as number)) +
          (s3[l & 0xff] as number)) ^
        (st[i] as number);
      l ^=
        ((((s0[r >>> 24] as number) + (s1[(r >>> 16) & 0xff] as number)) ^ (s2[(r >>> 8) & 0xff] as number)) +
          (s3[r & 0xff] as number)) ^
        (st[i + 1] as number);
    }
    blocks[b] = r ^ (st[17] as number);
    blocks[b + 1] = l;
  }
}

/**
 * Refills P then the S-boxes with a chain of encryptions, each block first XORed with the next
 * two words of `data` (cyclic), when given — eksblowfish's ExpandKey after the P-array was
 * XORed with the key. `data` undefined is the salt-free form (`expand0state`).
 */
function refill(st: Int32Array, data: Int32Array | undefined): void {
  const s0 = st.subarray(S0, S0 + 256);
  const s1 = st.subarray(S1, S1 + 256);
  const s2 = st.subarray(S2, S2 + 256);
  const s3 = st.subarray(S3, S3 + 256);
  let l = 0;
  let r = 0;
  let d = 0;
  const dn = data ? data.length : 0;
  for (let w = 0; w < STATE_WORDS; w += 2) {
    if (data) {
      l ^= data[d] as number;
      r ^= data[d + 1 === dn ? 0 : d + 1] as number;
      d = d + 2 >= dn ? d + 2 - dn : d + 2;
    }
    l ^= st[0] as number;
    for (let i = 1; i < 17; i += 2) {
      r ^=
        ((((s0[l >>> 24] as number) + (s1[(l >>> 16) & 0xff] as number)) ^ (s2[(l >>> 8) & 0xff] as number)) +
          (s3[l & 0xff] as number)) ^
        (st[i] as number);
      l ^=
        ((((s0[r >>> 24] as number) + (s1[(r >>> 16) & 0xff] as number)) ^ (s2[(r >>> 8) & 0xff] as number)) +
          (s3[r & 0xff] as number)) ^
        (st[i + 1] as number);
    }
    const t = r ^ (st[17] as number);
    r = l;
    l = t;
    st[w] = l;
    st[w + 1] = r;
  }
}

/** XORs the P-array with the key's words (cyclic, 18 of them). */
function xorKey(st: Int32Array, key: Int32Array): void {
  const n = key.length;
  for (let i = 0, k = 0; i < 18; i++, k = k + 1 === n ? 0 : k + 1) st[i] = (st[i] as number) ^ (key[k] as number);
}

/**
 * eksblowfish ExpandKey(state, salt, key): P ^= key, then P and the S-boxes re-encrypted in a
 * chain with the salt folded in. `keyWords`/`saltWords` come from `streamWords` and must be
 * even in length (bcrypt-pbkdf's are 16 words each).
 */
export function expandState(st: Int32Array, saltWords: Int32Array, keyWords: Int32Array): void {
  if (saltWords.length % 2 !== 0 || saltWords.length === 0)
    throw new RangeError(`expandState: saltWords must be a non-empty even count, got ${saltWords.length}`);
  xorKey(st, keyWords);
  refill(st, saltWords);
}

/** eksblowfish ExpandKey(state, 0, key): as `expandState` without a salt. */
export function expand0State(st: Int32Array, keyWords: Int32Array): void {
  xorKey(st, keyWords);
  refill(st, undefined);
}
