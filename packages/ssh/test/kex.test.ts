import * as nodeCrypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { deriveKey, exchangeHash } from "../src/algorithms/kdf.ts";
import { DEFAULT_KEX, isPostQuantumKex, KEX_ALGORITHMS } from "../src/algorithms/kex.ts";
import { checkPeerValue, MODP_2048, MODP_4096, modPow } from "../src/algorithms/kex-dh.ts";
import type { KexAlgorithm } from "../src/algorithms/types.ts";
import { nobleProvider as p } from "../src/crypto/noble.ts";
import type { SshError } from "../src/errors.ts";
import { Reader } from "../src/wire/reader.ts";
import { bytesToBigint, mpintEncode, Writer } from "../src/wire/writer.ts";

const rnd = (n: number) => Uint8Array.from(nodeCrypto.randomBytes(n));
const kex = (name: string) => KEX_ALGORITHMS.get(name) as KexAlgorithm;
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as SshError).code;
  }
  return "no error";
};

/** π·2^bits, floor, by Machin's formula in BigInt (to check RFC 3526's construction). */
function piFixed(bits: number): bigint {
  const guard = 64n;
  const one = 1n << (BigInt(bits) + guard);
  const atanInv = (x: bigint) => {
    let term = one / x;
    let total = term;
    const x2 = x * x;
    for (let n = 1n, sign = -1n; term !== 0n; n++, sign = -sign) {
      term /= x2;
      total += (sign * term) / (2n * n + 1n);
    }
    return total;
  };
  return (16n * atanInv(5n) - 4n * atanInv(239n)) >> guard;
}

describe("key exchange methods", () => {
  // The one-round defaults (group exchange runs two rounds: kex-gex.test.ts).
  it.each(DEFAULT_KEX.filter((n) => KEX_ALGORITHMS.has(n)))("%s: client and server agree on K", (name) => {
    const alg = kex(name);
    const c = alg.createClient(p, rnd);
    const s = alg.createServer(p, rnd);
    const { serverValue, sharedSecret } = s.respond(c.clientValue);
    expect(c.finish(serverValue)).toEqual(sharedSecret);
    // K is an mpint, or for the post-quantum hybrids a string of the hash's length.
    const r = new Reader(sharedSecret);
    if (isPostQuantumKex(name)) expect(r.string().length).toBe(alg.hash === "sha512" ? 64 : 32);
    else expect(r.mpint() > 0n).toBe(true);
    r.done();
  });

  it("the MODP primes are RFC 3526's construction (§3 and §5)", () => {
    const build = (n: number, k: bigint) =>
      2n ** BigInt(n) - 2n ** BigInt(n - 64) - 1n + 2n ** 64n * (piFixed(n - 130) + k);
    expect(MODP_2048).toBe(build(2048, 124476n));
    expect(MODP_4096).toBe(build(4096, 240904n));
    // Safe primes: 2 has order q = (p-1)/2 (Fermat check of the subgroup).
    expect(modPow(2n, (MODP_2048 - 1n) / 2n, MODP_2048)).toBe(1n);
  });

  it("diffie-hellman-group14-sha256 agrees with node:crypto's modp14", () => {
    const alg = kex("diffie-hellman-group14-sha256");
    const c = alg.createClient(p, rnd);
    const dh = nodeCrypto.getDiffieHellman("modp14");
    dh.generateKeys();
    const f = Uint8Array.from(dh.getPublicKey());
    const k = c.finish(mpintEncode(bytesToBigint(f)));
    const e = new Reader(new Writer().string(c.clientValue).bytes()).mpint();
    const want = bytesToBigint(dh.computeSecret(Buffer.from(e.toString(16).padStart(512, "0"), "hex")));
    expect(new Reader(k).mpint()).toBe(want);
  });

  describe("Weak KEX inputs (docs/PROTOCOL.md)", () => {
    it("curve25519: an all-zero shared secret from a low-order point is refused", () => {
      for (const name of ["curve25519-sha256", "curve25519-sha256@libssh.org"]) {
        const c = kex(name).createClient(p, rnd);
        expect(code(() => c.finish(new Uint8Array(32)))).toBe("KEX_FAILED");
        // The order-8 point of RFC 7748 / the "ecffff…7f" non-canonical p-1 also gives zero.
        const low = Uint8Array.from(
          Buffer.from("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", "hex"),
        );
        expect(code(() => c.finish(low))).toBe("KEX_FAILED");
      }
    });
    it.each([31, 33, 0])("curve25519: a %i-byte public key is refused", (n) => {
      const c = kex("curve25519-sha256").createClient(p, rnd);
      expect(code(() => c.finish(rnd(n)))).toBe("KEX_FAILED");
    });
    it("ECDH: a point off the curve, a compressed point and a wrong length are refused", () => {
      const c = kex("ecdh-sha2-nistp256").createClient(p, rnd);
      const s = kex("ecdh-sha2-nistp256").createServer(p, rnd);
      const good = s.respond(c.clientValue).serverValue;
      const off = good.slice();
      off[64] = (off[64] as number) ^ 1;
      expect(code(() => c.finish(off))).toBe("KEX_FAILED");
      expect(code(() => c.finish(Uint8Array.from([2, ...good.subarray(1, 33)])))).toBe("KEX_FAILED");
      expect(code(() => c.finish(good.subarray(0, 64)))).toBe("KEX_FAILED");
      expect(code(() => c.finish(Uint8Array.from([...good, 0])))).toBe("KEX_FAILED");
    });
    it("DH: peer values 0, 1, p-1, p and negative are refused", () => {
      for (const [name, prime] of [
        ["diffie-hellman-group14-sha256", MODP_2048],
        ["diffie-hellman-group16-sha512", MODP_4096],
      ] as const) {
        const c = kex(name).createClient(p, rnd);
        for (const v of [0n, 1n, prime - 1n, prime, prime + 5n])
          expect(code(() => c.finish(mpintEncode(v)))).toBe("KEX_FAILED");
        expect(code(() => c.finish(mpintEncode(-5n)))).toBe("KEX_FAILED");
        expect(code(() => checkPeerValue(mpintEncode(2n), prime, "x"))).toBe("no error");
      }
    });
  });
});

describe("exchange hash and key derivation (RFC 4253 §7.2, §8)", () => {
  const parts = {
    vc: "SSH-2.0-a",
    vs: "SSH-2.0-b",
    ic: rnd(50),
    is: rnd(60),
    ks: rnd(51),
    clientValue: rnd(32),
    serverValue: rnd(32),
    k: new Writer().mpint(12345678901234567890n).bytes(),
  };
  it("H is the hash of the fields in order, strings length-prefixed, K as encoded", () => {
    const w = new Writer()
      .string(parts.vc)
      .string(parts.vs)
      .string(parts.ic)
      .string(parts.is)
      .string(parts.ks)
      .string(parts.clientValue)
      .string(parts.serverValue)
      .raw(parts.k);
    expect(exchangeHash(p, "sha256", parts)).toEqual(
      Uint8Array.from(nodeCrypto.createHash("sha256").update(w.bytes()).digest()),
    );
  });

  it("derives K1 = HASH(K ‖ H ‖ X ‖ session_id) and extends with HASH(K ‖ H ‖ K1 …)", () => {
    const h = rnd(32);
    const sid = rnd(32);
    const sha = (...b: Uint8Array[]) =>
      Uint8Array.from(nodeCrypto.createHash("sha256").update(Buffer.concat(b)).digest());
    const k1 = sha(parts.k, h, Uint8Array.of(0x43), sid);
    const k2 = sha(parts.k, h, k1);
    const k3 = sha(parts.k, h, k1, k2);
    expect(deriveKey(p, "sha256", parts.k, h, "C", sid, 16)).toEqual(k1.subarray(0, 16));
    expect(deriveKey(p, "sha256", parts.k, h, "C", sid, 64)).toEqual(Uint8Array.from([...k1, ...k2]));
    expect(deriveKey(p, "sha256", parts.k, h, "C", sid, 80)).toEqual(
      Uint8Array.from([...k1, ...k2, ...k3]).subarray(0, 80),
    );
    expect(deriveKey(p, "sha256", parts.k, h, "D", sid, 16)).not.toEqual(k1.subarray(0, 16));
  });
});
