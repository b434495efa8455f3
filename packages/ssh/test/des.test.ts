/**
 * DES (FIPS 46-3) and Triple DES (NIST SP 800-67), used only to open old key files: the
 * S-boxes are permutations row by row, single DES meets published known answers (the worked
 * example key 133457799BBCDFF1; the all-parity-bits key), Triple DES EDE meets SP 800-67's
 * example, and CBC decryption undoes a chain built from those blocks. Key files encrypted with
 * it (PEM DES-EDE3-CBC, PKCS#8, PKCS#12, OpenSSH 3des-cbc) are in encrypted-keys.test.ts.
 */
import { describe, expect, it } from "vitest";
import { desBlock, desCbcDecrypt, desSubkeys, S_BOXES } from "../src/crypto/des.ts";

const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16));
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Triple DES EDE encryption of one block (keying option 1), for building test chains. */
function ede(key: Uint8Array, block: Uint8Array): Uint8Array {
  const k1 = desSubkeys(key.subarray(0, 8));
  const k2 = desSubkeys(key.subarray(8, 16)).reverse();
  const k3 = desSubkeys(key.subarray(16, 24));
  return desBlock(desBlock(desBlock(block, k1), k2), k3);
}

describe("DES", () => {
  it("every S-box row is a permutation of 0…15", () => {
    for (const box of S_BOXES)
      for (let row = 0; row < 4; row++)
        expect([...box.slice(row * 16, row * 16 + 16)].sort((a, b) => a - b)).toEqual([...Array(16).keys()]);
  });

  const known: [string, string, string][] = [
    ["133457799bbcdff1", "0123456789abcdef", "85e813540f0ab405"],
    ["0101010101010101", "0000000000000000", "8ca64de9c1b123a7"],
  ];
  it.each(known)("key %s: %s encrypts to %s and decrypts back", (key, plain, cipher) => {
    expect(hex(desBlock(unhex(plain), desSubkeys(unhex(key))))).toBe(cipher);
    expect(hex(desBlock(unhex(cipher), desSubkeys(unhex(key)).reverse()))).toBe(plain);
  });

  it("Triple DES EDE: SP 800-67's example", () => {
    const key = unhex("0123456789abcdef23456789abcdef01456789abcdef0123");
    const plain = new TextEncoder().encode("The qufck brown fox jump");
    const blocks = [0, 8, 16].map((i) => hex(ede(key, plain.subarray(i, i + 8)))).join("");
    expect(blocks).toBe("a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900");
  });

  it("CBC decryption undoes a chain, for 24-, 16- (K3 = K1) and 8-byte keys", () => {
    const plain = new TextEncoder().encode("sixteen byte msg and eight b");
    const iv = unhex("0011223344556677");
    for (const key of [
      unhex("0123456789abcdef23456789abcdef01456789abcdef0123"),
      unhex("0123456789abcdef23456789abcdef010123456789abcdef"),
    ]) {
      const padded = Uint8Array.from([...plain, 4, 4, 4, 4]);
      const chain = new Uint8Array(padded.length);
      let prev: Uint8Array = iv;
      for (let at = 0; at < padded.length; at += 8) {
        const x = padded.slice(at, at + 8).map((b, i) => b ^ (prev[i] as number));
        prev = ede(key, x);
        chain.set(prev, at);
      }
      expect(desCbcDecrypt(key, iv, chain)).toEqual(padded);
      if (hex(key.subarray(16)) === hex(key.subarray(0, 8)))
        expect(desCbcDecrypt(key.subarray(0, 16), iv, chain)).toEqual(padded);
    }
    const single = unhex("133457799bbcdff1");
    const c = desBlock(
      unhex("0123456789abcdef").map((b, i) => b ^ (iv[i] as number)),
      desSubkeys(single),
    );
    expect(hex(desCbcDecrypt(single, iv, c))).toBe("0123456789abcdef");
  });

  it("refuses keys, IVs and data of the wrong size, naming them", () => {
    const z = (n: number) => new Uint8Array(n);
    expect(() => desCbcDecrypt(z(12), z(8), z(8))).toThrow(/key must be 8, 16 or 24 bytes, got 12/);
    expect(() => desCbcDecrypt(z(24), z(16), z(8))).toThrow(/iv must be 8 bytes, got 16/);
    expect(() => desCbcDecrypt(z(24), z(8), z(12))).toThrow(/whole 8-byte blocks, got 12/);
    expect(() => desSubkeys(z(7))).toThrow(RangeError);
  });
});
