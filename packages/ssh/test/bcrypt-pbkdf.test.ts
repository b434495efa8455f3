/**
 * Blowfish and bcrypt-pbkdf (OpenSSH PROTOCOL.key's `bcrypt` KDF, OpenBSD bcrypt_pbkdf(3)):
 * the initial state is π, Blowfish meets Schneier's published known answers, bcrypt-pbkdf
 * meets the vectors of OpenBSD's regress suite, and ssh-keygen's default cost (16 rounds, a
 * 48-byte aes256-ctr key and IV) fits issue 15's CPU budget of one second.
 */
import { describe, expect, it } from "vitest";
import { BCRYPT_PBKDF_MAX_KEY, bcryptPbkdf } from "../src/crypto/bcrypt-pbkdf.ts";
import { encryptBlocks, expand0State, initialState, STATE_WORDS, streamWords } from "../src/crypto/blowfish.ts";
import { PI_FRACTION_HEX } from "../src/crypto/blowfish-pi.ts";
import { nobleProvider } from "../src/crypto/noble.ts";

const sha512 = (d: Uint8Array) => nobleProvider.hash("sha512", d);
const text = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16));

/** π's fractional part in hexadecimal, `words` 32-bit words of it, by Machin's formula. */
function piFractionHex(words: number): string {
  const guard = 64n;
  const one = 1n << (BigInt(words * 32) + guard);
  const arctanInverse = (x: bigint) => {
    let power = one / x;
    let sum = power;
    for (let k = 1n; power !== 0n; k++) {
      power /= x * x;
      sum += (k % 2n === 1n ? -1n : 1n) * (power / (2n * k + 1n));
    }
    return sum;
  };
  const pi = 16n * arctanInverse(5n) - 4n * arctanInverse(239n);
  const fraction = (pi >> guard) & ((1n << BigInt(words * 32)) - 1n);
  return fraction.toString(16).padStart(words * 8, "0");
}

describe("Blowfish", () => {
  it("its initial state is the first 1,042 words of π's fractional part", () => {
    expect(PI_FRACTION_HEX.replace(/\s+/g, "")).toBe(piFractionHex(STATE_WORDS));
    const st = initialState();
    expect(st[0]! >>> 0).toBe(0x243f6a88);
    // Each call is a fresh copy: bcrypt's hash starts from it every time.
    st[0] = 0;
    expect(initialState()[0]! >>> 0).toBe(0x243f6a88);
  });

  // Schneier's published known answers (64-bit keys, ECB): a plain Blowfish key schedule is
  // P ^= key words, then the salt-free expansion.
  const known: [string, string, string][] = [
    ["0000000000000000", "0000000000000000", "4ef997456198dd78"],
    ["ffffffffffffffff", "ffffffffffffffff", "51866fd5b85ecb8a"],
    ["3000000000000000", "1000000000000001", "7d856f9a613063f2"],
    ["0123456789abcdef", "1111111111111111", "61f9c3802281b096"],
    ["fedcba9876543210", "0123456789abcdef", "0aceab0fc6a0a28d"],
  ];
  it.each(known)("key %s encrypts %s to %s", (key, plain, cipher) => {
    const st = initialState();
    expand0State(st, streamWords(unhex(key), 18));
    const block = streamWords(unhex(plain), 2);
    encryptBlocks(st, block);
    const word = (w: number) => (w >>> 0).toString(16).padStart(8, "0");
    expect(word(block[0]!) + word(block[1]!)).toBe(cipher);
  });

  it("streamWords reads big-endian words and wraps around short input", () => {
    expect(Array.from(streamWords(Uint8Array.of(1, 2, 3), 2), (w) => w >>> 0)).toEqual([0x01020301, 0x02030102]);
    expect(() => streamWords(new Uint8Array(0), 1)).toThrow(RangeError);
  });
});

describe("bcrypt-pbkdf", () => {
  // OpenBSD src/regress/lib/libutil/bcrypt_pbkdf: password, salt, rounds, expected key.
  const vectors: [string, string, number, string][] = [
    ["password", "salt", 4, "5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9"],
    ["password", "\0", 4, "c12b566235eee04c212598970a579a67"],
    ["\0", "salt", 4, "6051be18c2f4f82cbf0efee5471b4bb9"],
    ["password\0", "salt\0", 4, "7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050"],
    ["pass\0wor", "sa\0l", 4, "c2bffd9db38f6569efef4372f4de83c0"],
    ["pass\0word", "sa\0lt", 4, "4ba4ac3925c0e8d7f0cdb6bb1684a56f"],
    [
      "password",
      "salt",
      8,
      "e1367ec5151a33faac4cc1c144cd23fa15d5548493ecc99b9b5d9c0d3b27bec76227ea66088b849b20ab7aa478010246e74bba51723fefa9f9474d6508845e8d",
    ],
    ["password", "salt", 42, "833cf0dcf56db65608e8f0dc0ce882bd"],
    [
      "Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.",
      "salis\0",
      8,
      "10978b07253df57f71a162eb0e8ad30a",
    ],
  ];
  it.each(vectors)("OpenBSD regress vector %#: %j / %j, %d rounds", (password, salt, rounds, expected) => {
    expect(hex(bcryptPbkdf(sha512, text(password), text(salt), rounds, expected.length / 2))).toBe(expected);
  });

  it("refuses arguments outside bcrypt_pbkdf(3)'s domain, naming the parameter", () => {
    const p = text("p");
    const s = text("s");
    expect(() => bcryptPbkdf(sha512, new Uint8Array(0), s, 1, 16)).toThrow(/password must not be empty/);
    expect(() => bcryptPbkdf(sha512, p, new Uint8Array(0), 1, 16)).toThrow(/salt must be 1 to 1048576 bytes, got 0/);
    expect(() => bcryptPbkdf(sha512, p, s, 0, 16)).toThrow(/rounds must be ≥ 1, got 0/);
    expect(() => bcryptPbkdf(sha512, p, s, 1, 0)).toThrow(/keyLength must be 1 to 1024, got 0/);
    expect(() => bcryptPbkdf(sha512, p, s, 1, BCRYPT_PBKDF_MAX_KEY + 1)).toThrow(RangeError);
  });

  it("ssh-keygen's default cost (16 rounds, 48 bytes) takes under 1 s of CPU time", () => {
    // Issue 15's budget. CPU time, not wall time: other work on the machine does not count.
    const before = process.cpuUsage();
    bcryptPbkdf(sha512, text("correct horse battery staple"), text("0123456789abcdef"), 16, 48);
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000).toBeLessThan(1000);
  });
});
