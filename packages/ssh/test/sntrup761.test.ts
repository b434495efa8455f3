import * as fs from "node:fs";
import { sha512 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { systemRandom } from "../src/crypto/provider.ts";
import {
  SNTRUP761_CIPHERTEXT_BYTES,
  SNTRUP761_PUBLIC_KEY_BYTES,
  SNTRUP761_SECRET_KEY_BYTES,
  sntrup761Decapsulate,
  sntrup761Encapsulate,
  sntrup761KeyPair,
} from "../src/crypto/sntrup761.ts";
import { r3Mult, smallFromList } from "../src/crypto/sntrup761-poly.ts";
import { r3Recip } from "../src/crypto/sntrup761-r3-recip.ts";
import { nistDrbg } from "./nist-drbg.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

interface Kat {
  count: number;
  seed: Uint8Array;
  pk: Uint8Array;
  sk: Uint8Array;
  ct: Uint8Array;
  ss: Uint8Array;
}

function readKats(): Kat[] {
  const text = fs.readFileSync(new URL("./vectors/sntrup761-kat.rsp", import.meta.url), "utf8");
  const kats: Kat[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of block.split("\n")) {
      const m = /^(\w+) = (\w+)$/.exec(line.trim());
      if (m) fields.set(m[1] as string, m[2] as string);
    }
    if (!fields.has("count")) continue;
    const get = (k: string) => hex(fields.get(k) ?? "");
    kats.push({
      count: Number(fields.get("count")),
      seed: get("seed"),
      pk: get("pk"),
      sk: get("sk"),
      ct: get("ct"),
      ss: get("ss"),
    });
  }
  return kats;
}

const kats = readKats();

/**
 * The submission's reference code draws each of a polynomial's 761 random words with its own
 * randombytes(4) call, and NIST's DRBG refreshes its state after every call; our KEM asks for
 * the 3044 bytes at once. This source answers such a request with 761 4-byte DRBG draws, so the
 * KATs' bytes come out; every other request (ρ) goes to the DRBG unchanged.
 */
function wordwise(drbg: (n: number) => Uint8Array): (n: number) => Uint8Array {
  return (n) => {
    if (n !== 4 * 761) return drbg(n);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) out.set(drbg(4), i);
    return out;
  };
}

/** The rejection key the submission specifies: Hash_0(Hash_3(ρ) ‖ C), ρ from the secret key. */
function rejectionKey(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const rho = secretKey.subarray(2 * 191 + 1158, 2 * 191 + 1158 + 191);
  const inner = sha512(Uint8Array.of(3, ...rho)).subarray(0, 32);
  return sha512(Uint8Array.of(0, ...inner, ...ciphertext)).subarray(0, 32);
}

describe("sntrup761 known-answer tests (NTRU Prime round-3 submission, kat_kem.rsp)", () => {
  it("carries the vectors it claims", () => {
    expect(kats.map((k) => k.count)).toEqual([0, 1, 2, 3, 99]);
    for (const k of kats) {
      expect([k.seed.length, k.pk.length, k.sk.length, k.ct.length, k.ss.length]).toEqual([48, 1158, 1763, 1039, 32]);
    }
  });

  it("the DRBG reproduces the KAT seeds from NIST's entropy 0, 1, …, 47", () => {
    const drbg = nistDrbg(Uint8Array.from({ length: 48 }, (_, i) => i));
    const seeds = Array.from({ length: 100 }, () => drbg(48));
    for (const k of kats) expect(toHex(seeds[k.count] as Uint8Array)).toBe(toHex(k.seed));
  });

  for (const k of kats) {
    it(`count = ${k.count}: keypair, encapsulation and decapsulation from the seed`, () => {
      const drbg = wordwise(nistDrbg(k.seed));
      const { publicKey, secretKey } = sntrup761KeyPair(drbg);
      expect(toHex(publicKey)).toBe(toHex(k.pk));
      expect(toHex(secretKey)).toBe(toHex(k.sk));
      const { ciphertext, sharedSecret } = sntrup761Encapsulate(publicKey, drbg);
      expect(toHex(ciphertext)).toBe(toHex(k.ct));
      expect(toHex(sharedSecret)).toBe(toHex(k.ss));
      expect(toHex(sntrup761Decapsulate(k.ct, k.sk))).toBe(toHex(k.ss));
    });
  }
});

describe("sntrup761 inversion in R3 (bit-sliced)", () => {
  it("g · (1/g) = 1 for random small g; 0 has no inverse", () => {
    const drbg = nistDrbg(new Uint8Array(48).fill(7));
    let inverted = 0;
    for (let n = 0; n < 8; n++) {
      const g = smallFromList(new Uint32Array(drbg(4 * 761).buffer));
      const inverse = r3Recip(g);
      if (!inverse) continue;
      inverted++;
      const one = r3Mult(g, inverse);
      expect(one[0]).toBe(1);
      expect(one.subarray(1).every((c) => c === 0)).toBe(true);
    }
    expect(inverted).toBeGreaterThan(4); // most small polynomials are invertible
    expect(r3Recip(new Int8Array(761))).toBeUndefined();
  });
});

describe("sntrup761 round trips with system randomness", () => {
  it("both sides agree, and two encapsulations differ", () => {
    const { publicKey, secretKey } = sntrup761KeyPair(systemRandom);
    const a = sntrup761Encapsulate(publicKey, systemRandom);
    const b = sntrup761Encapsulate(publicKey, systemRandom);
    expect(toHex(sntrup761Decapsulate(a.ciphertext, secretKey))).toBe(toHex(a.sharedSecret));
    expect(toHex(sntrup761Decapsulate(b.ciphertext, secretKey))).toBe(toHex(b.sharedSecret));
    expect(toHex(a.sharedSecret)).not.toBe(toHex(b.sharedSecret));
  });
});

describe("sntrup761 bad inputs", () => {
  const k = kats[0] as Kat;
  const lengths: [string, () => unknown, RegExp][] = [
    [
      "empty public key",
      () => sntrup761Encapsulate(new Uint8Array(0), systemRandom),
      /public key is 0 bytes; expected 1158/,
    ],
    [
      "short public key",
      () => sntrup761Encapsulate(k.pk.subarray(1), systemRandom),
      /public key is 1157 bytes; expected 1158/,
    ],
    [
      "long public key",
      () => sntrup761Encapsulate(Uint8Array.of(...k.pk, 0), systemRandom),
      /public key is 1159 bytes; expected 1158/,
    ],
    ["short ciphertext", () => sntrup761Decapsulate(k.ct.subarray(1), k.sk), /ciphertext is 1038 bytes; expected 1039/],
    [
      "long ciphertext",
      () => sntrup761Decapsulate(Uint8Array.of(...k.ct, 0), k.sk),
      /ciphertext is 1040 bytes; expected 1039/,
    ],
    ["short secret key", () => sntrup761Decapsulate(k.ct, k.sk.subarray(1)), /secret key is 1762 bytes; expected 1763/],
    [
      "public key given as a secret key",
      () => sntrup761Decapsulate(k.ct, k.pk),
      /secret key is 1158 bytes; expected 1763/,
    ],
  ];
  for (const [what, call, message] of lengths) {
    it(`${what} → RangeError naming the length expected`, () => {
      expect(call).toThrow(RangeError);
      expect(call).toThrow(message);
    });
  }

  it("a ciphertext that is not bytes → TypeError", () => {
    expect(() => sntrup761Decapsulate([1, 2, 3] as unknown as Uint8Array, k.sk)).toThrow(TypeError);
  });

  it("a random source that gives the wrong number of bytes is refused", () => {
    expect(() => sntrup761KeyPair(() => new Uint8Array(3))).toThrow(/random source gave 3 bytes; asked for 3044/);
  });

  const flip = (at: number, bit: number) => (ct: Uint8Array) => {
    ct[at] = (ct[at] as number) ^ bit;
  };
  const malformed: [string, (ct: Uint8Array) => void][] = [
    ["first byte flipped", flip(0, 1)],
    ["a middle byte flipped", flip(500, 0x80)],
    ["last byte of the rounded part flipped", flip(1006, 1)],
    ["confirmation hash flipped", flip(1038, 1)],
    ["all zero", (ct) => ct.fill(0)],
    ["all 0xff (digits out of range)", (ct) => ct.fill(0xff)],
  ];
  for (const [what, spoil] of malformed) {
    it(`malformed ciphertext (${what}) decapsulates to the implicit-rejection key`, () => {
      const ct = k.ct.slice();
      spoil(ct);
      const key = sntrup761Decapsulate(ct, k.sk);
      expect(toHex(key)).toBe(toHex(rejectionKey(ct, k.sk)));
      expect(toHex(key)).not.toBe(toHex(k.ss));
    });
  }

  it("sizes are the submission's", () => {
    expect([SNTRUP761_PUBLIC_KEY_BYTES, SNTRUP761_CIPHERTEXT_BYTES, SNTRUP761_SECRET_KEY_BYTES]).toEqual([
      1158, 1039, 1763,
    ]);
  });
});
