/**
 * Streamlined NTRU Prime 761 (sntrup761), the KEM of the NTRU Prime round-3 submission to
 * NIST (Bernstein, Brumley, Chen, Chuengsatiansup, Lange, Marotzke, Peng, Tuveri, van
 * Vredendaal, Yang), written from that specification: §3 the Core (KeyGen, Encrypt,
 * Decrypt) and the KEM built on it (Hide, Encap, Decap with implicit rejection), §4 the
 * encodings, SHA-512 as the hash (noble's, reached through crypto/noble.ts as every use of
 * @noble is). Sizes: public key 1158 bytes, ciphertext 1039, secret key 1763, shared secret 32.
 *
 * Randomness comes only from the RandomSource given: 4p bytes for each random polynomial,
 * then 191 bytes for the rejection value ρ, so a seeded source replays a session. (The NIST
 * known-answer tests' DRBG answers each request separately; their test draws the 4p bytes
 * there as p requests of 4, the reference code's order.)
 */
import { nobleProvider } from "./noble.ts";
import type { RandomSource } from "./provider.ts";
import {
  ROUNDED_BYTES,
  RQ_BYTES,
  roundedDecode,
  roundedEncode,
  rqDecode,
  rqEncode,
  SMALL_BYTES,
  smallDecode,
  smallEncode,
} from "./sntrup761-encode.ts";
import {
  P,
  r3FromRq,
  r3Mult,
  round3,
  rqMult3,
  rqMultSmall,
  rqRecip3,
  shortFromList,
  smallFromList,
  W,
  weightMask,
} from "./sntrup761-poly.ts";
import { r3Recip } from "./sntrup761-r3-recip.ts";

export const SNTRUP761_PUBLIC_KEY_BYTES = RQ_BYTES; // 1158
export const SNTRUP761_CIPHERTEXT_BYTES = ROUNDED_BYTES + 32; // 1039
export const SNTRUP761_SECRET_KEY_BYTES = 2 * SMALL_BYTES + RQ_BYTES + SMALL_BYTES + 32; // 1763
export const SNTRUP761_SHARED_SECRET_BYTES = 32;

export interface Sntrup761KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface Sntrup761Encapsulation {
  ciphertext: Uint8Array;
  sharedSecret: Uint8Array;
}

function checkLength(what: string, bytes: Uint8Array, expected: number): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`sntrup761 ${what} must be a Uint8Array`);
  if (bytes.length !== expected)
    throw new RangeError(`sntrup761 ${what} is ${bytes.length} bytes; expected ${expected}`);
}

/** Hash_b(x): the first 32 bytes of SHA-512(b ‖ x) (submission §3, "Hash"). */
function hashPrefix(b: number, ...parts: Uint8Array[]): Uint8Array {
  let length = 1;
  for (const part of parts) length += part.length;
  const input = new Uint8Array(length);
  input[0] = b;
  let at = 1;
  for (const part of parts) {
    input.set(part, at);
    at += part.length;
  }
  return nobleProvider.hash("sha512", input).subarray(0, 32);
}

/**
 * p random 32-bit words, little-endian, drawn in one request of 4p bytes (as OpenSSH's and
 * PQClean's sntrup761 draw them; the submission's reference code draws them one word at a
 * time, which yields the same bytes from any source that is a plain stream).
 */
function randomWords(random: RandomSource): Uint32Array {
  const b = random(4 * P);
  if (b.length !== 4 * P) throw new RangeError(`random source gave ${b.length} bytes; asked for ${4 * P}`);
  const words = new Uint32Array(P);
  for (let i = 0; i < P; i++) {
    const j = 4 * i;
    words[i] =
      ((b[j] as number) | ((b[j + 1] as number) << 8) | ((b[j + 2] as number) << 16) | ((b[j + 3] as number) << 24)) >>>
      0;
  }
  b.fill(0);
  return words;
}

/** Confirm = Hash_2(Hash_3(r) ‖ Hash_4(pk)), the ciphertext's confirmation (submission §3). */
function hashConfirm(rEncoded: Uint8Array, pkHash: Uint8Array): Uint8Array {
  return hashPrefix(2, hashPrefix(3, rEncoded), pkHash);
}

/** Session key = Hash_b(Hash_3(r) ‖ C): b = 1 for a valid ciphertext, 0 for a rejected one. */
function hashSession(b: number, rEncoded: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return hashPrefix(b, hashPrefix(3, rEncoded), ciphertext);
}

/** Hide(r): Encrypt(r, h) rounded and encoded, followed by its confirmation hash. */
function hide(r: Int8Array, h: Int16Array, pkHash: Uint8Array): { ciphertext: Uint8Array; rEncoded: Uint8Array } {
  const rEncoded = smallEncode(r);
  const ciphertext = new Uint8Array(SNTRUP761_CIPHERTEXT_BYTES);
  ciphertext.set(roundedEncode(round3(rqMultSmall(h, r))), 0);
  ciphertext.set(hashConfirm(rEncoded, pkHash), ROUNDED_BYTES);
  return { ciphertext, rEncoded };
}

/**
 * KEM key generation. Core KeyGen: g small and invertible in R3 (redrawn until it is), f
 * short, h = g/(3f) in Rq. The secret key is f ‖ 1/g ‖ pk ‖ ρ ‖ Hash_4(pk), ρ random.
 */
export function sntrup761KeyPair(random: RandomSource): Sntrup761KeyPair {
  let g: Int8Array;
  let gInverse: Int8Array | undefined;
  do {
    g = smallFromList(randomWords(random));
    gInverse = r3Recip(g);
  } while (gInverse === undefined);
  const f = shortFromList(randomWords(random));
  const h = rqMultSmall(rqRecip3(f), g);
  const publicKey = rqEncode(h);
  const rho = random(SMALL_BYTES);
  if (rho.length !== SMALL_BYTES)
    throw new RangeError(`random source gave ${rho.length} bytes; asked for ${SMALL_BYTES}`);
  const secretKey = new Uint8Array(SNTRUP761_SECRET_KEY_BYTES);
  let at = 0;
  for (const part of [smallEncode(f), smallEncode(gInverse), publicKey, rho, hashPrefix(4, publicKey)]) {
    secretKey.set(part, at);
    at += part.length;
  }
  f.fill(0);
  g.fill(0);
  gInverse.fill(0);
  return { publicKey, secretKey };
}

/** Encap(pk): r short and random; C = Hide(r); K = Hash_1(Hash_3(r) ‖ C). */
export function sntrup761Encapsulate(publicKey: Uint8Array, random: RandomSource): Sntrup761Encapsulation {
  checkLength("public key", publicKey, SNTRUP761_PUBLIC_KEY_BYTES);
  const r = shortFromList(randomWords(random));
  const { ciphertext, rEncoded } = hide(r, rqDecode(publicKey), hashPrefix(4, publicKey));
  const sharedSecret = hashSession(1, rEncoded, ciphertext);
  r.fill(0);
  rEncoded.fill(0);
  return { ciphertext, sharedSecret };
}

/**
 * Decap(C, sk): Core Decrypt (e = 3fc lifted to R3, r = e/g, or the fixed weight-w vector
 * when r's weight is not w), re-Hide r and compare with C in full. On a mismatch the key is
 * Hash_0(Hash_3(ρ) ‖ C), the implicit rejection: a malformed ciphertext gives a key unrelated
 * to anything the sender can compute, and no error that an attacker could observe.
 */
export function sntrup761Decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array {
  checkLength("ciphertext", ciphertext, SNTRUP761_CIPHERTEXT_BYTES);
  checkLength("secret key", secretKey, SNTRUP761_SECRET_KEY_BYTES);
  // f ‖ 1/g ‖ pk ‖ ρ ‖ Hash_4(pk)
  const f = smallDecode(secretKey.subarray(0, SMALL_BYTES));
  const gInverse = smallDecode(secretKey.subarray(SMALL_BYTES, 2 * SMALL_BYTES));
  const publicKey = secretKey.subarray(2 * SMALL_BYTES, 2 * SMALL_BYTES + RQ_BYTES);
  const rho = secretKey.subarray(2 * SMALL_BYTES + RQ_BYTES, 3 * SMALL_BYTES + RQ_BYTES);
  const pkHash = secretKey.subarray(3 * SMALL_BYTES + RQ_BYTES);

  const c = roundedDecode(ciphertext.subarray(0, ROUNDED_BYTES));
  const e = r3FromRq(rqMult3(rqMultSmall(c, f)));
  const ev = r3Mult(e, gInverse);
  const mask = weightMask(ev); // -1 when the weight is wrong
  const r = new Int8Array(P);
  // weight w kept; otherwise r = (1,…,1,0,…,0) with w ones (submission §3, Decrypt)
  for (let i = 0; i < P; i++) r[i] = i < W ? (((ev[i] as number) ^ 1) & ~mask) ^ 1 : (ev[i] as number) & ~mask;

  const again = hide(r, rqDecode(publicKey), pkHash).ciphertext;
  let diff = 0;
  for (let i = 0; i < SNTRUP761_CIPHERTEXT_BYTES; i++) diff |= (again[i] as number) ^ (ciphertext[i] as number);
  const reject = -((diff + 255) >> 8); // -1 when they differ, else 0
  const rEncoded = smallEncode(r);
  for (let i = 0; i < SMALL_BYTES; i++)
    rEncoded[i] = (rEncoded[i] as number) ^ (reject & ((rEncoded[i] as number) ^ (rho[i] as number)));
  const key = hashSession(1 + reject, rEncoded, ciphertext);
  f.fill(0);
  gInverse.fill(0);
  ev.fill(0);
  r.fill(0);
  rEncoded.fill(0);
  return key;
}
