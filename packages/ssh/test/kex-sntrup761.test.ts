/**
 * sntrup761x25519-sha512 (and its @openssh.com name) at the key exchange level: each role's K
 * checked against the construction computed here independently (OpenSSH PROTOCOL,
 * draft-ietf-sshm-ntruprime-ssh §2: K = SHA-512(sntrup761 key ‖ X25519 key) as a string),
 * and the peer values it must refuse. The full handshake against OpenSSH is in
 * kex-transcripts.test.ts and the interop suites.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { DEFAULT_KEX, isPostQuantumKex, KEX_ALGORITHMS, KEX_METHODS } from "../src/algorithms/kex.ts";
import { sntrup761Decapsulate, sntrup761Encapsulate, sntrup761KeyPair } from "../src/crypto/sntrup761.ts";
import type { SshError } from "../src/errors.ts";
import { nobleProvider as p, systemRandom as rnd } from "../src/index.ts";
import { Writer } from "../src/wire/writer.ts";

const NAMES = ["sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com"];
const join = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((x) => [...x]));
const kOf = (kem: Uint8Array, ecdh: Uint8Array) => new Writer(68).string(sha512(join(kem, ecdh))).bytes();
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function failure(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    return { code: (e as SshError).code, message: (e as Error).message };
  }
  return { code: "no error", message: "" };
}

describe.each(NAMES)("%s", (name) => {
  const alg = KEX_ALGORITHMS.get(name);
  if (!alg) throw new Error(`${name} is not registered`);

  it("is registered, post-quantum, SHA-512, and offered before curve25519", () => {
    expect(KEX_METHODS.get(name)?.hash).toBe("sha512");
    expect(isPostQuantumKex(name)).toBe(true);
    expect(DEFAULT_KEX.indexOf(name)).toBeGreaterThanOrEqual(0);
    expect(DEFAULT_KEX.indexOf(name)).toBeLessThan(DEFAULT_KEX.indexOf("curve25519-sha256"));
  });

  it("client: sends pk ‖ X25519 key and derives K from a server built here", () => {
    const c = alg.createClient(p, rnd);
    expect(c.clientValue.length).toBe(1158 + 32);
    const pk = c.clientValue.subarray(0, 1158);
    const clientX = c.clientValue.subarray(1158);
    const serverSecret = x25519.utils.randomSecretKey();
    const { ciphertext, sharedSecret } = sntrup761Encapsulate(pk, rnd);
    const k = c.finish(join(ciphertext, x25519.getPublicKey(serverSecret)));
    expect(hex(k)).toBe(hex(kOf(sharedSecret, x25519.getSharedSecret(serverSecret, clientX))));
    expect(k.length).toBe(4 + 64); // a string, not an mpint
  });

  it("server: answers ct ‖ X25519 key with the K a client built here derives", () => {
    const kem = sntrup761KeyPair(rnd);
    const clientSecret = x25519.utils.randomSecretKey();
    const s = alg.createServer(p, rnd);
    const { serverValue, sharedSecret } = s.respond(join(kem.publicKey, x25519.getPublicKey(clientSecret)));
    expect(serverValue.length).toBe(1039 + 32);
    const kemKey = sntrup761Decapsulate(serverValue.subarray(0, 1039), kem.secretKey);
    const ecdhKey = x25519.getSharedSecret(clientSecret, serverValue.subarray(1039));
    expect(hex(sharedSecret)).toBe(hex(kOf(kemKey, ecdhKey)));
  });

  it("refuses a server value of the wrong length, naming the length expected", () => {
    const c = alg.createClient(p, rnd);
    for (const n of [0, 32, 1039, 1070, 1072]) {
      const f = failure(() => c.finish(new Uint8Array(n)));
      expect(f.code).toBe("KEX_FAILED");
      expect(f.message).toContain(`is ${n} bytes; expected 1071`);
    }
  });

  it("refuses a client value of the wrong length, naming the length expected", () => {
    for (const n of [0, 32, 1158, 1189, 1191]) {
      const f = failure(() => alg.createServer(p, rnd).respond(new Uint8Array(n)));
      expect(f.code).toBe("KEX_FAILED");
      expect(f.message).toContain(`is ${n} bytes; expected 1190`);
    }
  });

  it("refuses an all-zero X25519 result (low-order point) in either role", () => {
    const c = alg.createClient(p, rnd);
    const { ciphertext } = sntrup761Encapsulate(c.clientValue.subarray(0, 1158), rnd);
    expect(failure(() => c.finish(join(ciphertext, new Uint8Array(32)))).code).toBe("KEX_FAILED");
    const kem = sntrup761KeyPair(rnd);
    const s = alg.createServer(p, rnd);
    expect(failure(() => s.respond(join(kem.publicKey, new Uint8Array(32)))).code).toBe("KEX_FAILED");
  });

  it("a tampered ciphertext gives the client a different K, not an error (implicit rejection)", () => {
    const c = alg.createClient(p, rnd);
    const s = alg.createServer(p, rnd);
    const { serverValue, sharedSecret } = s.respond(c.clientValue);
    const bad = serverValue.slice();
    bad[10] = (bad[10] as number) ^ 1;
    const k = c.finish(bad);
    expect(k.length).toBe(68);
    expect(hex(k)).not.toBe(hex(sharedSecret));
  });
});
