import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build script, no declarations
import { assemble } from "../../../scripts/build-wasm.mjs";
import { createWasmChaCha20 } from "../src/crypto/chacha20-wasm.ts";
import { CHACHA20_WASM_BASE64 } from "../src/crypto/chacha20-wasm-bytes.ts";
import { nobleProvider } from "../src/crypto/noble.ts";

const noble = (k: Uint8Array, n: Uint8Array, d: Uint8Array, c: number) => nobleProvider.chacha20(k, n, d, c);
const rnd = (n: number) => Uint8Array.from(randomBytes(n));
const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ""), "hex"));

describe("ChaCha20 in WebAssembly (crypto/chacha20.wat)", () => {
  const chacha20 = createWasmChaCha20(noble);

  it("loads on this runtime, and its committed bytes are what chacha20.wat assembles to", async () => {
    expect(chacha20).toBeTypeOf("function");
    expect(await assemble("chacha20")).toBe(CHACHA20_WASM_BASE64);
  });

  it("encrypts RFC 8439 §2.4.2's sunscreen plaintext to its ciphertext", () => {
    const key = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    const nonce = hex("000000000000004a00000000");
    const plain = new TextEncoder().encode(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const want = hex(`6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b
      f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8
      07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736
      5af90bbf74a35be6b40b8eedf2785e42874d`);
    expect((chacha20 as NonNullable<typeof chacha20>)(key, nonce, plain, 1)).toEqual(want);
  });

  it("matches noble for both nonce forms, counters near the top and every length around the block edges", () => {
    const f = chacha20 as NonNullable<typeof chacha20>;
    for (const nl of [8, 12]) {
      for (const counter of [0, 1, 2 ** 31, 0xffffffff - 3]) {
        for (let len = 0; len <= 200; len += len < 70 ? 1 : 13) {
          const key = rnd(32);
          const nonce = rnd(nl);
          const msg = rnd(len);
          const run = (g: typeof noble) => {
            try {
              return Buffer.from(g(key, nonce, msg, counter)).toString("hex");
            } catch (err) {
              return `error: ${(err as Error).message}`;
            }
          };
          expect(run(f)).toBe(run(noble));
        }
      }
    }
    const big = rnd(200_000).subarray(5);
    const key = rnd(32);
    const nonce = rnd(8);
    expect(f(key, nonce, big, 1)).toEqual(noble(key, nonce, big, 1));
  });

  it("hands odd keys, nonces and counters to noble, which refuses them as it always does", () => {
    const f = chacha20 as NonNullable<typeof chacha20>;
    for (const [key, nonce, counter] of [
      [rnd(16), rnd(12), 0],
      [rnd(32), rnd(10), 0],
      [rnd(32), rnd(12), -1],
    ] as const) {
      let ours = "";
      let theirs = "";
      try {
        f(key, nonce, rnd(64), counter);
      } catch (err) {
        ours = (err as Error).message;
      }
      try {
        noble(key, nonce, rnd(64), counter);
      } catch (err) {
        theirs = (err as Error).message;
      }
      expect(ours).toBe(theirs);
      expect(ours).not.toBe("");
    }
  });
});
