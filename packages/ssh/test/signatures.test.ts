import * as nodeCrypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { SIGNATURE_ALGORITHMS } from "../src/algorithms/hostkey.ts";
import { signRsa } from "../src/algorithms/sig-rsa.ts";
import { nobleProvider as p } from "../src/crypto/noble.ts";
import { type RsaPrivateKey, rsaPkcs1v15Verify } from "../src/crypto/rsa.ts";
import { generateEcdsa, generateEd25519 } from "../src/keys/generate.ts";
import { parsePrivateKey } from "../src/keys/private-key.ts";
import { Reader } from "../src/wire/reader.ts";
import { bytesToBigint, Writer } from "../src/wire/writer.ts";

const b64u = (s: string | undefined) => bytesToBigint(Uint8Array.from(Buffer.from(s ?? "", "base64url")));
const { privateKey: rsaNode, publicKey: rsaNodePub } = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = rsaNode.export({ format: "jwk" });
const rsa: RsaPrivateKey = {
  n: b64u(jwk.n),
  e: b64u(jwk.e),
  d: b64u(jwk.d),
  p: b64u(jwk.p),
  q: b64u(jwk.q),
  iqmp: b64u(jwk.qi),
};
const rsaKey = parsePrivateKey(rsaNode.export({ type: "pkcs1", format: "pem" }).toString());
const data = nodeCrypto.randomBytes(64);
const sigBody = (blob: Uint8Array) => {
  const r = new Reader(blob);
  r.ascii();
  return r.string();
};

describe("signature algorithms", () => {
  it("RSA (BigInt, PKCS#1 v1.5) signatures are byte-identical to node:crypto's, both hashes", () => {
    for (const [alg, hash] of [
      ["rsa-sha2-256", "sha256"],
      ["rsa-sha2-512", "sha512"],
    ] as const) {
      const ours = sigBody(signRsa(p, rsa, data, alg));
      expect(Buffer.from(ours)).toEqual(nodeCrypto.sign(hash, data, rsaNode));
      expect(nodeCrypto.verify(hash, data, rsaNodePub, ours)).toBe(true);
      expect(rsaPkcs1v15Verify(p, rsa, hash, data, Uint8Array.from(nodeCrypto.sign(hash, data, rsaNode)))).toBe(true);
    }
  });

  it("an ssh-rsa (SHA-1) signature does not satisfy rsa-sha2-256", () => {
    const sha1 = rsaKey.sign(data, "ssh-rsa");
    expect(SIGNATURE_ALGORITHMS.get("ssh-rsa")?.verify(p, rsaKey.publicKey.blob, data, sha1)).toBe(true);
    expect(SIGNATURE_ALGORITHMS.get("rsa-sha2-256")?.verify(p, rsaKey.publicKey.blob, data, sha1)).toBe(false);
    // Same bytes relabelled as rsa-sha2-256: the hash inside does not match either.
    const relabelled = new Writer().string("rsa-sha2-256").string(sigBody(sha1)).bytes();
    expect(SIGNATURE_ALGORITHMS.get("rsa-sha2-256")?.verify(p, rsaKey.publicKey.blob, data, relabelled)).toBe(false);
  });

  it("trailing bytes after a signature blob are rejected, for every algorithm", () => {
    const keys = [generateEd25519(p), generateEcdsa(p, "p256"), rsaKey];
    for (const k of keys) {
      const alg = k.signatureAlgorithms[0] as string;
      const sig = k.sign(data, alg);
      expect(SIGNATURE_ALGORITHMS.get(alg)?.verify(p, k.publicKey.blob, data, sig)).toBe(true);
      expect(SIGNATURE_ALGORITHMS.get(alg)?.verify(p, k.publicKey.blob, data, Uint8Array.from([...sig, 0]))).toBe(
        false,
      );
      expect(SIGNATURE_ALGORITHMS.get(alg)?.verify(p, k.publicKey.blob, data, sig.subarray(0, sig.length - 1))).toBe(
        false,
      );
    }
  });

  it("ECDSA signatures are deterministic (RFC 6979) and P-521 uses SHA-512", () => {
    const k = generateEcdsa(p, "p521");
    expect(k.sign(data, "ecdsa-sha2-nistp521")).toEqual(k.sign(data, "ecdsa-sha2-nistp521"));
    const body = new Reader(sigBody(k.sign(data, "ecdsa-sha2-nistp521")));
    const r = body.mpintBytes();
    const s = body.mpintBytes();
    const der = (x: Uint8Array) => (((x[0] as number) & 0x80) !== 0 ? Uint8Array.from([0, ...x]) : x);
    const seq = (...parts: Uint8Array[]) => {
      const content = Buffer.concat(parts.map((x) => Buffer.concat([Buffer.from([2, x.length]), x])));
      return content.length < 128
        ? Buffer.concat([Buffer.from([0x30, content.length]), content])
        : Buffer.concat([Buffer.from([0x30, 0x81, content.length]), content]);
    };
    const q = new Reader(k.publicKey.blob);
    q.ascii();
    q.ascii();
    const point = q.string();
    const pubKey = nodeCrypto.createPublicKey({
      key: {
        kty: "EC",
        crv: "P-521",
        x: Buffer.from(point.subarray(1, 67)).toString("base64url"),
        y: Buffer.from(point.subarray(67)).toString("base64url"),
      },
      format: "jwk",
    });
    expect(nodeCrypto.verify("sha512", data, pubKey, seq(der(r), der(s)))).toBe(true);
    expect(nodeCrypto.verify("sha256", data, pubKey, seq(der(r), der(s)))).toBe(false);
  });

  it("an ed25519 signature over other data, or by another key, fails", () => {
    const a = generateEd25519(p);
    const b = generateEd25519(p);
    const sig = a.sign(data, "ssh-ed25519");
    expect(SIGNATURE_ALGORITHMS.get("ssh-ed25519")?.verify(p, b.publicKey.blob, data, sig)).toBe(false);
    expect(() => SIGNATURE_ALGORITHMS.get("ssh-ed25519")?.verify(p, rsaKey.publicKey.blob, data, sig)).toThrow(
      /expected an ssh-ed25519 key/,
    );
  });
});
