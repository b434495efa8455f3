/**
 * NIST's AES-256 CTR DRBG as the PQC known-answer tests use it (the submissions' rng.c:
 * SP 800-90A CTR_DRBG without a derivation function, no reseeding): a 48-byte seed sets the
 * state through Update; each request is served from successive AES blocks of V+1, V+2, …
 * and then refreshes the state with Update. A request's size therefore matters, not only the
 * total: a KEM must draw in the chunks its reference code draws in to reproduce the KATs.
 */
import { ecb } from "@noble/ciphers/aes.js";

export type Drbg = (n: number) => Uint8Array;

export function nistDrbg(seed: Uint8Array): Drbg {
  if (seed.length !== 48) throw new RangeError(`DRBG seed is ${seed.length} bytes; expected 48`);
  let key = new Uint8Array(32);
  let v = new Uint8Array(16);
  const increment = () => {
    for (let j = 15; j >= 0; j--) {
      v[j] = ((v[j] as number) + 1) & 255;
      if (v[j] !== 0) break;
    }
  };
  const block = () => {
    increment();
    return ecb(key, { disablePadding: true }).encrypt(v);
  };
  const update = (provided?: Uint8Array) => {
    const temp = new Uint8Array(48);
    for (let i = 0; i < 3; i++) temp.set(block(), 16 * i);
    if (provided) for (let i = 0; i < 48; i++) temp[i] = (temp[i] as number) ^ (provided[i] as number);
    key = temp.slice(0, 32);
    v = temp.slice(32, 48);
  };
  update(seed);
  return (n) => {
    const out = new Uint8Array(n);
    for (let at = 0; at < n; at += 16) out.set(block().subarray(0, Math.min(16, n - at)), at);
    update();
    return out;
  };
}
