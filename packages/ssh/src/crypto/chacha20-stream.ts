/**
 * ChaCha20 as a stream (RFC 8439 §2.4): successive calls XOR successive bytes of one keystream,
 * whatever their lengths, so a message given in parts (a packet's header, its data, its
 * padding) is encrypted as if it were joined, without joining it. Here over any one-shot
 * ChaCha20 that takes a starting block counter; node:crypto's own stream is in native.ts.
 */
import type { ChaCha20Stream } from "./provider.ts";

export type ChaCha20OneShot = (key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter: number) => Uint8Array;

const BLOCK = 64;
const ZERO_BLOCK = new Uint8Array(BLOCK);

/**
 * A stream over `chacha20` starting `start` bytes into the keystream of block `counter`.
 * A call that begins inside a block finishes that block from its keystream, then hands the
 * rest to `chacha20` from the next block on.
 */
export function chacha20StreamOver(
  chacha20: ChaCha20OneShot,
  key: Uint8Array,
  nonce: Uint8Array,
  counter: number,
  start = 0,
): ChaCha20Stream {
  const k = key.slice();
  const n = nonce.slice();
  let pos = start;
  return (data: Uint8Array): Uint8Array => {
    const into = pos % BLOCK;
    if (into === 0) {
      const out = chacha20(k, n, data, counter + pos / BLOCK);
      pos += data.length;
      return out;
    }
    const out = new Uint8Array(data.length);
    const ks = chacha20(k, n, ZERO_BLOCK, counter + (pos - into) / BLOCK);
    const head = Math.min(BLOCK - into, data.length);
    for (let i = 0; i < head; i++) out[i] = (data[i] as number) ^ (ks[into + i] as number);
    ks.fill(0);
    pos += head;
    if (head < data.length) {
      out.set(chacha20(k, n, data.subarray(head), counter + pos / BLOCK), head);
      pos += data.length - head;
    }
    return out;
  };
}
