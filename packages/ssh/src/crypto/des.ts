/**
 * Crypto layer: DES (FIPS 46-3) and Triple DES in EDE form (NIST SP 800-67 §3), CBC
 * decryption only (FIPS 81) — for the old key files that use it: PEM `DEK-Info: DES-EDE3-CBC` (what
 * `openssl genrsa -des3` wrote for years), PKCS#8 PBES2 with des-ede3-cbc, PKCS#12
 * pbeWithSHAAnd3-KeyTripleDES-CBC, and OpenSSH's `3des-cbc` key cipher. Nothing on the wire
 * uses it. Written for clarity over speed (bits as array entries, the tables as the standard
 * prints them, 1-based): a key file is at most a few hundred blocks.
 */

/** FIPS 46-3 tables, as printed (bit positions counted from 1, most significant first). */
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24,
  16, 8, 57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31,
  23, 15, 7,
];
const FP = [
  40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31, 38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21,
  61, 29, 36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27, 34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49,
  17, 57, 25,
];
const E = [
  32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17, 16, 17, 18, 19, 20, 21, 20, 21, 22,
  23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
];
const P = [
  16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
];
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36, 63, 55,
  47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47, 55, 30,
  40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
/** S1…S8, each 4 rows of 16 (row = outer bits b1b6, column = inner bits b2…b5). */
export const S_BOXES = [
  [
    14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8, 4, 1,
    14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13,
  ],
  [
    15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5, 0, 14,
    7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9,
  ],
  [
    10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1, 13, 6,
    4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12,
  ],
  [
    7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9, 10, 6,
    9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14,
  ],
  [
    2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6, 4, 2, 1,
    11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3,
  ],
  [
    12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8, 9, 14,
    15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13,
  ],
  [
    4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6, 1, 4,
    11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12,
  ],
  [
    13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2, 7, 11,
    4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11,
  ],
];

type Bits = Uint8Array;

function toBits(bytes: Uint8Array): Bits {
  const out = new Uint8Array(bytes.length * 8);
  for (let i = 0; i < out.length; i++) out[i] = ((bytes[i >> 3] as number) >> (7 - (i & 7))) & 1;
  return out;
}

function fromBits(bits: Bits): Uint8Array {
  const out = new Uint8Array(bits.length / 8);
  for (let i = 0; i < bits.length; i++) out[i >> 3] = (out[i >> 3] as number) | ((bits[i] as number) << (7 - (i & 7)));
  return out;
}

function permute(bits: Bits, table: readonly number[]): Bits {
  const out = new Uint8Array(table.length);
  for (let i = 0; i < table.length; i++) out[i] = bits[(table[i] as number) - 1] as number;
  return out;
}

/** The 16 round keys (48 bits each) of one 8-byte key; parity bits are ignored, as FIPS 46-3 says. */
export function desSubkeys(key: Uint8Array): Bits[] {
  if (key.length !== 8) throw new RangeError(`desSubkeys: key must be 8 bytes, got ${key.length}`);
  const cd = permute(toBits(key), PC1);
  let c = cd.slice(0, 28);
  let d = cd.slice(28);
  const keys: Bits[] = [];
  for (const s of SHIFTS) {
    c = Uint8Array.from([...c.subarray(s), ...c.subarray(0, s)]);
    d = Uint8Array.from([...d.subarray(s), ...d.subarray(0, s)]);
    keys.push(permute(Uint8Array.from([...c, ...d]), PC2));
  }
  return keys;
}

/** The cipher function f(R, K): expand, add the key, substitute, permute. */
function f(r: Bits, k: Bits): Bits {
  const x = permute(r, E);
  for (let i = 0; i < 48; i++) x[i] = (x[i] as number) ^ (k[i] as number);
  const out = new Uint8Array(32);
  for (let s = 0; s < 8; s++) {
    const b = x.subarray(s * 6, s * 6 + 6);
    const row = ((b[0] as number) << 1) | (b[5] as number);
    const col = ((b[1] as number) << 3) | ((b[2] as number) << 2) | ((b[3] as number) << 1) | (b[4] as number);
    const v = (S_BOXES[s] as number[])[row * 16 + col] as number;
    for (let j = 0; j < 4; j++) out[s * 4 + j] = (v >> (3 - j)) & 1;
  }
  return permute(out, P);
}

/** One block through DES with these round keys (reversed order decrypts). */
export function desBlock(block: Uint8Array, subkeys: readonly Bits[]): Uint8Array {
  const ip = permute(toBits(block), IP);
  let l = ip.slice(0, 32);
  let r = ip.slice(32);
  for (const k of subkeys) {
    const fr = f(r, k);
    const next = new Uint8Array(32);
    for (let i = 0; i < 32; i++) next[i] = (l[i] as number) ^ (fr[i] as number);
    l = r;
    r = next;
  }
  return fromBits(permute(Uint8Array.from([...r, ...l]), FP));
}

/**
 * CBC decryption of whole blocks, padding kept. An 8-byte key is single DES; 16 or 24 bytes is
 * Triple DES EDE (SP 800-67 keying option 2, K3 = K1, or option 1): each block is
 * D_K1(E_K2(D_K3(C))), then XORed with the previous ciphertext block (the IV first).
 */
export function desCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  if (key.length !== 8 && key.length !== 16 && key.length !== 24)
    throw new RangeError(`desCbcDecrypt: key must be 8, 16 or 24 bytes, got ${key.length}`);
  if (iv.length !== 8) throw new RangeError(`desCbcDecrypt: iv must be 8 bytes, got ${iv.length}`);
  if (data.length % 8 !== 0)
    throw new RangeError(`desCbcDecrypt: data must be whole 8-byte blocks, got ${data.length}`);
  const k1 = desSubkeys(key.subarray(0, 8)).reverse();
  const stages =
    key.length === 8
      ? [k1]
      : [key.length === 24 ? desSubkeys(key.subarray(16, 24)).reverse() : k1, desSubkeys(key.subarray(8, 16)), k1];
  const out = new Uint8Array(data.length);
  let prev = iv;
  for (let at = 0; at < data.length; at += 8) {
    const c = data.subarray(at, at + 8);
    let p = c;
    for (const k of stages) p = desBlock(p, k);
    for (let i = 0; i < 8; i++) out[at + i] = (p[i] as number) ^ (prev[i] as number);
    prev = c;
  }
  for (const k of stages) for (const b of k) b.fill(0);
  return out;
}
