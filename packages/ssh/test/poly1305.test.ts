import { randomBytes } from "node:crypto";
import { poly1305 as noblePoly1305 } from "@noble/ciphers/_poly1305.js";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build script, no declarations
import { assemble } from "../../../scripts/build-wasm.mjs";
import { poly1305 as jsPoly1305 } from "../src/crypto/poly1305.ts";
import { createWasmPoly1305 } from "../src/crypto/poly1305-wasm.ts";
import { POLY1305_WASM_BASE64 } from "../src/crypto/poly1305-wasm-bytes.ts";
import { joinParts } from "../src/crypto/provider.ts";
import polyVector from "./vectors/poly1305-rfc8439.json" with { type: "json" };

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ""), "hex"));
const rnd = (n: number) => Uint8Array.from(randomBytes(n));
const ff = (n: number) => new Uint8Array(n).fill(0xff);

const wasmPoly1305 = createWasmPoly1305();

it("the WebAssembly module loads on this runtime, and its committed bytes are what poly1305.wat assembles to", async () => {
  expect(wasmPoly1305).toBeTypeOf("function");
  expect(await assemble("poly1305")).toBe(POLY1305_WASM_BASE64);
});

describe.each([
  ["crypto/poly1305.ts, 22-bit limbs in doubles", jsPoly1305],
  ["crypto/poly1305.wat, 26-bit limbs in i64", wasmPoly1305 as typeof jsPoly1305],
])("Poly1305 (%s)", (_name, poly1305) => {
  it("gives RFC 8439 §2.5.2's tag", () => {
    expect(poly1305(hex(polyVector.keyHex), hex(polyVector.messageHex))).toEqual(hex(polyVector.tagHex));
  });

  it("reduces fully and wraps s like RFC 8439 A.3 #5 and #6 (h just above p; h + s past 2^128)", () => {
    const r2 = hex(`02${"00".repeat(15)}`);
    // #5: r = 2, s = 0, m = 2^128 − 1: the partially reduced result is not yet below p.
    const k5 = new Uint8Array(32);
    k5.set(r2);
    expect(poly1305(k5, ff(16))).toEqual(hex(`03${"00".repeat(15)}`));
    // #6: r = 2, s = 2^128 − 1, m = 2: adding s overflows 2^128.
    const k6 = new Uint8Array(32);
    k6.set(r2);
    k6.set(ff(16), 16);
    expect(poly1305(k6, hex(`02${"00".repeat(15)}`))).toEqual(hex(`03${"00".repeat(15)}`));
    for (const [k, m] of [
      [k5, ff(16)],
      [k6, hex(`02${"00".repeat(15)}`)],
    ] as const)
      expect(poly1305(k, m)).toEqual(noblePoly1305(m, k));
  });

  it("matches noble on every length around the block edges, all-ones keys and messages included", () => {
    for (let len = 0; len <= 200; len++) {
      for (const key of [rnd(32), ff(32)]) {
        for (const msg of [rnd(len), ff(len)]) expect(poly1305(key, msg)).toEqual(noblePoly1305(msg, key));
      }
    }
  });

  it("matches noble on 2,000 random keys and messages, large and unaligned ones included", () => {
    for (let i = 0; i < 2000; i++) {
      const key = rnd(32);
      const backing = rnd(i % 50 === 0 ? 70_000 : 400);
      const msg = backing.subarray(i % 7, (i % 7) + (i % 50 === 0 ? 65_537 : i % 390));
      expect(poly1305(key, msg)).toEqual(noblePoly1305(msg, key));
    }
  });

  it("over parts (a packet's pieces) gives the tag of the joined message, parts crossing its 64 KiB feed included", () => {
    const splits = [[], [0], [4], [4, 10, 32768, 6], [1, 15, 16, 17], [65_535, 2], [65_536, 1, 0, 16], [4, 70_000, 3]];
    for (const sizes of splits) {
      const parts = sizes.map(rnd);
      const joined = joinParts(parts);
      const key = rnd(32);
      expect(poly1305(key, parts)).toEqual(noblePoly1305(joined, key));
    }
  });

  it("leaves its input alone and refuses a key that is not 32 bytes", () => {
    const msg = rnd(100);
    const copy = msg.slice();
    poly1305(rnd(32), msg);
    expect(msg).toEqual(copy);
    for (const n of [0, 16, 31, 33]) expect(() => poly1305(new Uint8Array(n), msg)).toThrow(/32-byte key, got/);
  });
});
