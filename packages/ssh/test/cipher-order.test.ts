/**
 * The default cipher order (algorithms/cipher.ts `preferredCiphers`) is decided from facts that
 * do not vary — which accelerators passed their known-answer checks, and which runtime this
 * is — so that every run offers the same list (issue 14: timing the AEADs at start-up put
 * chacha20-poly1305 first in one to three of twenty runs on a busy machine).
 */
import { runtime } from "@tunnel/ssh/runtime";
import { describe, expect, it } from "vitest";
import { DEFAULT_CIPHERS, preferredCiphers } from "../src/algorithms/cipher.ts";
import { createNativeProvider } from "../src/crypto/native.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import type { CryptoProvider, Primitive } from "../src/crypto/provider.ts";

const GCM = "aes128-gcm@openssh.com";
const CHACHA = "chacha20-poly1305@openssh.com";

/** A provider that reports these implementations (and noble for the rest). */
function reporting(impl: Partial<Record<Primitive, string>>, speeds?: CryptoProvider["speeds"]): CryptoProvider {
  return { ...nobleProvider, implementation: (p) => impl[p] ?? "noble", ...(speeds ? { speeds } : {}) };
}

const nodeLike = { "aes-gcm": "node:crypto", chacha20: "node:crypto", poly1305: "tunnel-wasm" } as const;
const bunLike = { "aes-gcm": "node:crypto", chacha20: "tunnel-wasm", poly1305: "tunnel-wasm" } as const;

describe("default cipher order", () => {
  it("is the same in 20 fresh providers, each checked and built anew, on this runtime", () => {
    const orders = Array.from({ length: 20 }, () => preferredCiphers(createNativeProvider().provider, runtime.name));
    for (const o of orders) expect(o).toEqual(orders[0]);
  });

  it("puts AES-GCM first on Node and Bun and ChaCha20-Poly1305 first on Deno, as README 'Runtimes' says", () => {
    const documented: Record<string, string> = { node: GCM, bun: GCM, deno: CHACHA };
    const lead = documented[runtime.name];
    expect(lead, `no documented order for runtime ${runtime.name}`).toBeDefined();
    expect(preferredCiphers(createNativeProvider().provider, runtime.name)[0]).toBe(lead);
  });

  it("ignores timings: the speeds a provider carries do not move the order", () => {
    const chachaTimedFaster = reporting(nodeLike, { "aes-gcm": 1e8, "chacha20-poly1305": 9e8 });
    expect(preferredCiphers(chachaTimedFaster, "node")[0]).toBe(GCM);
    const gcmTimedFaster = reporting(nodeLike, { "aes-gcm": 9e9, "chacha20-poly1305": 1e8 });
    expect(preferredCiphers(gcmTimedFaster, "deno")[0]).toBe(CHACHA);
  });

  it("AES-GCM leads where node:crypto carries it, then AES-256-GCM, ChaCha20-Poly1305, the CTR modes", () => {
    for (const rt of ["node", "bun"]) {
      expect(preferredCiphers(reporting(rt === "bun" ? bunLike : nodeLike), rt)).toEqual([
        GCM,
        "aes256-gcm@openssh.com",
        CHACHA,
        "aes128-ctr",
        "aes192-ctr",
        "aes256-ctr",
      ]);
    }
  });

  it("on Deno, ChaCha20-Poly1305 leads while both its halves are accelerated, AES-GCM if they are not", () => {
    expect(preferredCiphers(reporting(nodeLike), "deno")).toEqual([...DEFAULT_CIPHERS]);
    expect(preferredCiphers(reporting({ "aes-gcm": "node:crypto", chacha20: "node:crypto" }), "deno")[0]).toBe(GCM);
  });

  it("without accelerated AES-GCM (pure noble, or a failed known-answer check) it is OpenSSH's order", () => {
    for (const rt of ["node", "bun", "deno"]) {
      expect(preferredCiphers(nobleProvider, rt)).toEqual([...DEFAULT_CIPHERS]);
      expect(preferredCiphers(reporting({ ...nodeLike, "aes-gcm": "noble" }), rt)[0]).toBe(CHACHA);
    }
    expect(DEFAULT_CIPHERS[0]).toBe(CHACHA);
  });
});
