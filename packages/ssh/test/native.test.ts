import { describe, expect, it } from "vitest";
import { preferredCiphers } from "../src/algorithms/cipher.ts";
import { createNativeProvider } from "../src/crypto/native.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import type { CryptoProvider } from "../src/crypto/provider.ts";

const rnd = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));

describe("runtime accelerators behind the provider seam", () => {
  it("takes over AES-GCM, AES-CTR, HMAC and hashes on Node after the known-answer checks", () => {
    const { provider, accelerated } = createNativeProvider();
    expect(accelerated.sort()).toEqual(["aes-ctr", "aes-gcm", "hash", "hmac"]);
    expect(provider.implementation("aes-gcm")).toBe("node:crypto");
    expect(provider.implementation("chacha20-poly1305")).toBe("noble");
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

  it("puts AES-GCM first when only it is accelerated, OpenSSH's order otherwise", () => {
    expect(preferredCiphers(createNativeProvider().provider)[0]).toBe("aes128-gcm@openssh.com");
    expect(preferredCiphers(nobleProvider)[0]).toBe("chacha20-poly1305@openssh.com");
  });
});
