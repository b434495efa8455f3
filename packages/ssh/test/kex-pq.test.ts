/**
 * mlkem768x25519-sha256 (draft-ietf-sshm-mlkem-hybrid-kex §2): ML-KEM-768 against a published
 * known answer, the hybrid shared secret and exchange hash built as specified, both roles
 * through the transport, and every bad value refused with a one-line reason.
 */
import * as nodeCrypto from "node:crypto";
import { x25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { shake128 } from "@noble/hashes/sha3.js";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { describe, expect, it } from "vitest";
import { DEFAULT_KEX, isPostQuantumKex, KEX_ALGORITHMS } from "../src/algorithms/kex.ts";
import { hybridSharedSecret } from "../src/algorithms/kex-hybrid.ts";
import { MLKEM768, MLKEM768_X25519_KEX } from "../src/algorithms/kex-mlkem768.ts";
import { KEX_NAME } from "../src/algorithms/kex-names.ts";
import { nobleProvider as p } from "../src/crypto/noble.ts";
import type { SshError } from "../src/errors.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";
import { kexPair, linkedConns, pairHostKey } from "./kex-pair.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const rnd = (n: number) => Uint8Array.from(nodeCrypto.randomBytes(n));
const MLKEM = KEX_NAME.MLKEM768_X25519_SHA256;

/** A deterministic RandomSource: SHAKE-128 of a label, read as a stream. */
function streamRandom(label: string) {
  const xof = shake128.create({}).update(new TextEncoder().encode(label));
  return (n: number) => xof.xof(n);
}

function failure(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    return { code: (e as SshError).code, message: (e as Error).message };
  }
  return { code: "no error", message: "" };
}

describe("ML-KEM-768 (FIPS 203) through @noble/post-quantum", () => {
  it("MlKem768MatchesAccumulatedKnownAnswers: 100 keygen/encaps/decaps rounds from a SHAKE-128 stream hash to the published value", () => {
    // The accumulated vector of Go's crypto/mlkem tests (-short: 100 rounds): inputs d‖z, m and
    // a random ciphertext drawn from SHAKE-128(""), outputs ek, ct, K and the implicit-rejection
    // K absorbed into a second SHAKE-128, whose first 32 bytes are the answer.
    const s = shake128.create({});
    const o = shake128.create({ dkLen: 32 });
    for (let i = 0; i < 100; i++) {
      const { publicKey, secretKey } = ml_kem768.keygen(s.xof(64));
      o.update(publicKey);
      const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey, s.xof(32));
      o.update(cipherText);
      o.update(sharedSecret);
      expect(hex(ml_kem768.decapsulate(cipherText, secretKey))).toBe(hex(sharedSecret));
      o.update(ml_kem768.decapsulate(s.xof(1088), secretKey));
    }
    expect(hex(o.digest())).toBe("1114b1b6699ed191734fa339376afa7e285c9e6acf6ff0177d346696ce564415");
  });

  it("MlKem768SizesAreFips203Table3: encapsulation key 1184 bytes, ciphertext 1088, secret 32", () => {
    const { publicKey } = MLKEM768.keygen(rnd);
    const { ciphertext, sharedSecret } = MLKEM768.encapsulate(publicKey, rnd);
    expect([publicKey.length, ciphertext.length, sharedSecret.length]).toEqual([1184, 1088, 32]);
    expect([MLKEM768.publicKeyLength, MLKEM768.ciphertextLength]).toEqual([1184, 1088]);
  });
});

describe("mlkem768x25519-sha256 construction (draft-ietf-sshm-mlkem-hybrid-kex §2.1–§2.3)", () => {
  it("HybridSharedSecretIsSha256OfKemThenX25519AsString: K = string(SHA-256(K_PQ ‖ K_CL))", () => {
    const kem = Uint8Array.from({ length: 32 }, (_, i) => i);
    const cl = Uint8Array.from({ length: 32 }, (_, i) => 0xff - i);
    const expected = sha256(Uint8Array.from([...kem, ...cl]));
    const k = hybridSharedSecret(p, "sha256", kem.slice(), cl.slice());
    const r = new Reader(k);
    expect(hex(r.string())).toBe(hex(expected));
    r.done();
  });

  it("HybridValuesAreKemThenX25519: C_INIT = pk ‖ X25519 pk, S_REPLY = ct ‖ X25519 pk, K from both secrets", () => {
    const c = MLKEM768_X25519_KEX.createClient(p, rnd);
    expect(c.clientValue.length).toBe(1184 + 32);
    const s = MLKEM768_X25519_KEX.createServer(p, streamRandom("server"));
    const { serverValue, sharedSecret } = s.respond(c.clientValue);
    expect(serverValue.length).toBe(1088 + 32);
    expect(hex(c.finish(serverValue))).toBe(hex(sharedSecret));
    // Recomputed from the parts with noble directly: the server's randomness replayed.
    const again = streamRandom("server");
    const m = again(32);
    const serverX25519Secret = again(32);
    const enc = ml_kem768.encapsulate(c.clientValue.subarray(0, 1184), m);
    expect(hex(serverValue.subarray(0, 1088))).toBe(hex(enc.cipherText));
    expect(hex(serverValue.subarray(1088))).toBe(hex(x25519.getPublicKey(serverX25519Secret)));
    const clShared = x25519.getSharedSecret(serverX25519Secret, c.clientValue.subarray(1184));
    const want = new Writer().string(sha256(Uint8Array.from([...enc.sharedSecret, ...clShared]))).bytes();
    expect(hex(sharedSecret)).toBe(hex(want));
  });

  it("HybridExchangeHashCoversValuesAsStringsAndKAsString: H = SHA-256(V_C, V_S, I_C, I_S, K_S, C_INIT, S_REPLY, K)", async () => {
    const link = linkedConns({ client: rnd, server: rnd });
    const [c, s] = await Promise.all([
      MLKEM768_X25519_KEX.client(link.client),
      MLKEM768_X25519_KEX.server(link.server),
    ]);
    expect(link.sent.map((m) => `${m.from}:${m.payload[0]}`)).toEqual(["client:30", "server:31"]);
    const cInit = new Reader((link.sent[0] as { payload: Uint8Array }).payload, 1);
    const cValue = cInit.string();
    cInit.done();
    const reply = new Reader((link.sent[1] as { payload: Uint8Array }).payload, 1);
    const ks = reply.string();
    const sValue = reply.string();
    const signature = reply.string();
    reply.done();
    expect(hex(c.k)).toBe(hex(s.k));
    // K enters H as a string of 32 bytes (no mpint sign pad or stripping).
    expect(new Reader(s.k).uint32()).toBe(32);
    const m = link.magics;
    const h = sha256(
      new Writer()
        .string(m.clientVersion)
        .string(m.serverVersion)
        .string(m.clientKexInit)
        .string(m.serverKexInit)
        .string(ks)
        .string(cValue)
        .string(sValue)
        .raw(s.k)
        .bytes(),
    );
    expect(hex(c.h)).toBe(hex(h));
    expect(hex(s.h)).toBe(hex(h));
    expect(hex(c.signature)).toBe(hex(signature));
    expect(hex(c.hostKey)).toBe(hex(pairHostKey.publicKey.blob));
  });

  it("HybridIsDeterministicGivenTheRandomness: the same randomness gives the same messages, H and K", async () => {
    const run = async () => {
      const link = linkedConns({ client: streamRandom("c"), server: streamRandom("s") });
      const [c] = await Promise.all([MLKEM768_X25519_KEX.client(link.client), MLKEM768_X25519_KEX.server(link.server)]);
      return { h: hex(c.h), k: hex(c.k), msgs: link.sent.map((x) => hex(x.payload)) };
    };
    expect(await run()).toEqual(await run());
  });
});

describe("mlkem768x25519-sha256 in the transport", () => {
  it("MlKemIsFirstInTheDefaultOrder, the post-quantum hybrids ahead of every classical method", () => {
    expect(DEFAULT_KEX[0]).toBe(MLKEM);
    // The hybrids, and only they, lead the list (OpenSSH 10's order).
    const pq = DEFAULT_KEX.filter((n) => isPostQuantumKex(n));
    expect(DEFAULT_KEX.slice(0, pq.length)).toEqual(pq);
    expect(pq).toEqual([MLKEM, KEX_NAME.SNTRUP761_X25519_SHA512, KEX_NAME.SNTRUP761_X25519_SHA512_OPENSSH]);
  });

  it("MlKemBothRolesThroughTheTransport: our client and server agree and say so", async () => {
    const { client, server, error } = await kexPair(DEFAULT_KEX, DEFAULT_KEX);
    expect(error).toBeUndefined();
    expect(client.t.info.negotiated?.kex).toBe(MLKEM);
    expect(server.t.info.negotiated?.kex).toBe(MLKEM);
    expect(hex(client.t.sessionId as Uint8Array)).toBe(hex(server.t.sessionId as Uint8Array));
    client.t.disconnect();
  });
});

describe("mlkem768x25519-sha256 refuses bad values before any arithmetic (docs/SECURITY.md)", () => {
  const alg = KEX_ALGORITHMS.get(MLKEM) as NonNullable<ReturnType<typeof KEX_ALGORITHMS.get>>;
  const goodClient = () => alg.createClient(p, rnd).clientValue;
  const goodReply = () => alg.createServer(p, rnd).respond(goodClient()).serverValue;
  const lowOrder = new Uint8Array(32); // u = 0: X25519 with it is all zero

  const clientValues: [string, () => Uint8Array, RegExp][] = [
    ["empty", () => new Uint8Array(0), /client's hybrid key exchange value is 0 bytes; expected 1216/],
    ["one byte short", () => goodClient().subarray(0, 1215), /is 1215 bytes; expected 1216/],
    ["one byte long", () => Uint8Array.from([...goodClient(), 0]), /is 1217 bytes; expected 1216/],
    ["X25519 key alone (a curve25519 value)", () => rnd(32), /is 32 bytes; expected 1216/],
    ["256 KiB", () => new Uint8Array(256 * 1024), /is 262144 bytes; expected 1216/],
    [
      "ML-KEM key with a coefficient ≥ q",
      () => {
        const v = goodClient();
        v[0] = 0xff;
        v[1] = 0xff; // the first 12-bit coefficient becomes 0xfff > 3328
        return v;
      },
      /client's ML-KEM-768 public key is not valid \(FIPS 203 §7\.2/,
    ],
    [
      "low-order X25519 point",
      () => Uint8Array.from([...goodClient().subarray(0, 1184), ...lowOrder]),
      /client's curve25519 public key gives an all-zero shared secret/,
    ],
  ];
  it.each(clientValues)("MlKemServerRefusesClientValue: %s", (_name, value, message) => {
    const s = alg.createServer(p, rnd);
    const f = failure(() => s.respond(value()));
    expect(f.code).toBe("KEX_FAILED");
    expect(f.message).toMatch(message);
    expect(f.message).not.toContain("\n");
  });

  const serverValues: [string, () => Uint8Array, RegExp][] = [
    ["empty", () => new Uint8Array(0), /server's hybrid key exchange value is 0 bytes; expected 1120/],
    ["one byte short", () => goodReply().subarray(0, 1119), /is 1119 bytes; expected 1120/],
    ["one byte long", () => Uint8Array.from([...goodReply(), 7]), /is 1121 bytes; expected 1120/],
    ["256 KiB", () => new Uint8Array(256 * 1024), /is 262144 bytes; expected 1120/],
    [
      "low-order X25519 point",
      () => Uint8Array.from([...goodReply().subarray(0, 1088), ...lowOrder]),
      /server's curve25519 public key gives an all-zero shared secret/,
    ],
  ];
  it.each(serverValues)("MlKemClientRefusesServerValue: %s", (_name, value, message) => {
    const c = alg.createClient(p, rnd);
    const f = failure(() => c.finish(value()));
    expect(f.code).toBe("KEX_FAILED");
    expect(f.message).toMatch(message);
  });

  it("MlKemClientTakesAForgedCiphertext (implicit rejection): K differs, and the signature check catches it", () => {
    const c = alg.createClient(p, rnd);
    const s = alg.createServer(p, rnd);
    const { serverValue, sharedSecret } = s.respond(c.clientValue);
    const forged = serverValue.slice();
    forged[5] = (forged[5] as number) ^ 1;
    expect(hex(c.finish(forged))).not.toBe(hex(sharedSecret));
  });
});
