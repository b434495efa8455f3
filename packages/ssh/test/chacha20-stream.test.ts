import { describe, expect, it } from "vitest";
import { chacha20StreamOver } from "../src/crypto/chacha20-stream.ts";
import { createWasmChaCha20 } from "../src/crypto/chacha20-wasm.ts";
import { createNativeProvider } from "../src/crypto/native.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import type { ChaCha20Stream } from "../src/crypto/provider.ts";

const rnd = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));

/** Feeds `data` to a stream in parts of the given sizes (the last part takes the rest). */
function streamed(stream: ChaCha20Stream, data: Uint8Array, sizes: number[]): Uint8Array {
  const out = new Uint8Array(data.length);
  let off = 0;
  for (const size of [...sizes, data.length]) {
    const n = Math.min(size, data.length - off);
    out.set(stream(data.subarray(off, off + n)), off);
    off += n;
    if (off === data.length) break;
  }
  return out;
}

const wasm = createWasmChaCha20((k, n, d, c) => nobleProvider.chacha20(k, n, d, c));
type MakeStream = (key: Uint8Array, nonce: Uint8Array, counter: number) => ChaCha20Stream;
const makers: [string, MakeStream][] = [
  ["noble", (k, n, c) => nobleProvider.chacha20Stream(k, n, c)],
  ["the runtime's provider", (k, n, c) => createNativeProvider().provider.chacha20Stream(k, n, c)],
];
if (wasm) makers.push(["WebAssembly", (k, n, c) => chacha20StreamOver(wasm, k, n, c)]);

describe("ChaCha20 as a stream (a packet's parts encrypted as if joined)", () => {
  it.each(makers)("%s: parts of any size give the one-shot keystream, both nonce forms", (_, make) => {
    const splits = [[0], [1], [10], [63], [64], [65], [10, 1, 63, 64, 200], [64, 64], [3, 3, 3], [1000]];
    for (const [i, sizes] of splits.entries()) {
      const key = rnd(32);
      const nonce = rnd(i % 2 ? 8 : 12);
      const counter = i % 3;
      const data = rnd(64 + ((i * 397) % 2000));
      const want = nobleProvider.chacha20(key, nonce, data, counter);
      expect(streamed(make(key, nonce, counter), data, sizes)).toEqual(want);
    }
  });

  it.each(makers)("%s: an empty part changes nothing and returns nothing", (_, make) => {
    const key = rnd(32);
    const nonce = rnd(8);
    const s = make(key, nonce, 0);
    expect(s(new Uint8Array(0)).length).toBe(0);
    const data = rnd(100);
    expect(s(data)).toEqual(nobleProvider.chacha20(key, nonce, data, 0));
  });

  it("the runtime's stream hands over to noble before a 32-bit block counter would wrap, mid-stream", () => {
    const { provider } = createNativeProvider();
    const key = rnd(32);
    const nonce = rnd(8);
    // Starts 3 blocks below 2^32: the first 100 bytes fit, the next 150 would cross 2^32.
    const counter = 2 ** 32 - 3;
    const s = provider.chacha20Stream(key, nonce, counter);
    const data = rnd(100);
    expect(s(data)).toEqual(nobleProvider.chacha20(key, nonce, data, counter));
    // noble refuses to pass 2^32 as well: no silent wrap on either side.
    expect(() => s(rnd(150))).toThrow(/counter overflow/);
  });

  it("a stream keeps its own copy of key and nonce", () => {
    const key = rnd(32);
    const nonce = rnd(8);
    const data = rnd(130);
    const want = nobleProvider.chacha20(key, nonce, data, 0);
    const s = nobleProvider.chacha20Stream(key, nonce, 0);
    const first = s(data.subarray(0, 10));
    key.fill(0);
    nonce.fill(0);
    const out = new Uint8Array(130);
    out.set(first);
    out.set(s(data.subarray(10)), 10);
    expect(out).toEqual(want);
  });
});
