import { describe, expect, it } from "vitest";
import { createNativeProvider } from "../src/crypto/native.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import { type CryptoProvider, joinParts } from "../src/crypto/provider.ts";

const rnd = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));

describe("runtime accelerators behind the provider seam", () => {
  // Node and Deno have every one of these in node:crypto; Bun has no ChaCha20 there, so on
  // Bun ChaCha20 is our WebAssembly one. Poly1305 is ours (WebAssembly) everywhere.
  const hasNodeChacha = !("Bun" in globalThis);
  it(`takes over AES-GCM, AES-CTR, HMAC, hashes, ChaCha20 (${hasNodeChacha ? "node:crypto" : "ours: Bun's node:crypto has none"}) and Poly1305 (ours) after the known-answer checks`, () => {
    const { provider, accelerated } = createNativeProvider();
    expect(accelerated.sort()).toEqual(["aes-ctr", "aes-gcm", "chacha20", "hash", "hmac", "poly1305"]);
    expect(provider.implementation("aes-gcm")).toBe("node:crypto");
    expect(provider.implementation("chacha20")).toBe(hasNodeChacha ? "node:crypto" : "tunnel-wasm");
    expect(provider.implementation("poly1305")).toBe("tunnel-wasm");
    // Streams part by part where node:crypto carries the primitive; noble streams nothing natively.
    expect(provider.streams).toEqual(hasNodeChacha ? ["aes-gcm", "chacha20"] : ["aes-gcm"]);
    expect(nobleProvider.streams).toBeUndefined();
  });

  it("gives the same bytes as noble on random inputs", () => {
    const { provider } = createNativeProvider();
    for (let i = 0; i < 20; i++) {
      const key = rnd(i % 2 ? 32 : 16);
      const iv = rnd(12);
      const aad = rnd(4);
      const msg = rnd(1 + i * 97);
      const sealed = provider.aesGcmEncrypt(key, iv, msg, aad);
      expect(sealed).toEqual(nobleProvider.aesGcmEncrypt(key, iv, msg, aad));
      expect(nobleProvider.aesGcmDecrypt(key, iv, sealed, aad)).toEqual(msg);
      const ctrIv = rnd(16);
      const blocks = rnd(16 * (1 + i));
      expect(provider.aesCtr(key, ctrIv, blocks)).toEqual(nobleProvider.aesCtr(key, ctrIv, blocks));
      expect(provider.hmac("sha512", key, msg)).toEqual(nobleProvider.hmac("sha512", key, msg));
    }
  });

  it("AES-GCM over a plaintext in parts, sealed in pieces, equals the joined plaintext sealed at once, with and without a prefix", () => {
    const { provider } = createNativeProvider();
    for (const p of [provider, nobleProvider]) {
      for (const sizes of [[0], [5, 0, 7], [14, 32768, 6], [1, 15, 16, 17], [0, 0, 0]]) {
        const key = rnd(16);
        const iv = rnd(12);
        const aad = rnd(4);
        const parts = sizes.map(rnd);
        const joined = joinParts(parts);
        const want = nobleProvider.aesGcmEncrypt(key, iv, joined, aad);
        expect(p.aesGcmEncrypt(key, iv, joined, aad)).toEqual(want);
        const prefixed = p.aesGcmEncrypt(key, iv, joined, aad, aad);
        expect(prefixed.subarray(0, 4)).toEqual(aad);
        expect(prefixed.subarray(4)).toEqual(want);
        // In pieces, left for the socket to gather: the same bytes once joined, the tag last.
        const pieces = p.aesGcmSeal(key, iv, parts, aad);
        expect(joinParts(pieces)).toEqual(want);
        expect(pieces.every((x) => x.length > 0)).toBe(true);
      }
    }
  });

  it("refuses a tampered AES-GCM message like noble does", () => {
    const { provider } = createNativeProvider();
    const key = rnd(16);
    const iv = rnd(12);
    const sealed = provider.aesGcmEncrypt(key, iv, rnd(64), new Uint8Array(4));
    sealed[3] = (sealed[3] as number) ^ 0x40;
    expect(() => provider.aesGcmDecrypt(key, iv, sealed, new Uint8Array(4))).toThrow();
  });

  it("keeps noble for a primitive whose known answer does not match", () => {
    // A base whose AES-GCM disagrees with node:crypto: the accelerator must not be used for it.
    const broken: CryptoProvider = {
      ...nobleProvider,
      aesGcmEncrypt: (k, iv, m, a) => nobleProvider.aesGcmEncrypt(k, iv, m, a).map((b) => b ^ 1),
    };
    const { provider, accelerated } = createNativeProvider(broken);
    expect(accelerated).not.toContain("aes-gcm");
    expect(provider.aesGcmEncrypt).toBe(broken.aesGcmEncrypt);
    expect(accelerated).toContain("aes-ctr");
  });

  it("ChaCha20 from node:crypto equals noble for both nonce forms, any counter and length", () => {
    const { provider } = createNativeProvider();
    for (let i = 0; i < 30; i++) {
      const key = rnd(32);
      const nonce = rnd(i % 2 ? 8 : 12);
      const data = rnd((i * 97) % 3000);
      const counter = i % 5;
      expect(provider.chacha20(key, nonce, data, counter)).toEqual(nobleProvider.chacha20(key, nonce, data, counter));
    }
  });

  it("ChaCha20 never wraps OpenSSL's 32-bit block counter silently: it defers to noble, which refuses", () => {
    const { provider } = createNativeProvider();
    const key = rnd(32);
    const nonce = rnd(8);
    const data = rnd(200); // 4 blocks from 2^32 - 2: crosses into the counter's high word
    const counter = 2 ** 32 - 2;
    expect(() => nobleProvider.chacha20(key, nonce, data, counter)).toThrow(/counter overflow/);
    expect(() => provider.chacha20(key, nonce, data, counter)).toThrow(/counter overflow/);
    // Just below the edge both agree.
    expect(provider.chacha20(key, nonce, data.subarray(0, 64), counter)).toEqual(
      nobleProvider.chacha20(key, nonce, data.subarray(0, 64), counter),
    );
  });
});
