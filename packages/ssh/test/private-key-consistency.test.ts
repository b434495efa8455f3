/**
 * A private key file whose numbers do not fit together is refused when it is loaded
 * (KEY_FORMAT, one line saying which number is wrong), not when it is first used to sign:
 * RSA per RFC 8017 §3.2, EC private scalars per SEC 1 §3.2.1. Found by the fuzzer
 * (test/fuzz/corpus/private-key/ keeps the inputs). The files are written here in DER, since
 * the runtimes' own key import refuses (differently) the very keys under test.
 */
import * as nodeCrypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { SshError } from "../src/errors.ts";
import { parsePrivateKey } from "../src/keys/private-key.ts";

function der(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Uint8Array.from([tag, ...len, ...body]);
}
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const seq = (...parts: Uint8Array[]) => der(0x30, cat(...parts));
function int(v: bigint): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return der(0x02, Uint8Array.from(Buffer.from(hex, "hex")));
}
const pem = (label: string, body: Uint8Array) =>
  `-----BEGIN ${label}-----\n${Buffer.from(body).toString("base64")}\n-----END ${label}-----\n`;
const big = (s: string | undefined) => BigInt(`0x${Buffer.from(s ?? "", "base64url").toString("hex") || "0"}`);

interface Rsa {
  n: bigint;
  e: bigint;
  d: bigint;
  p: bigint;
  q: bigint;
  qi: bigint;
}
/** RFC 8017 A.1.2 RSAPrivateKey (dP and dQ are not read by us; written as given). */
const pkcs1 = (k: Rsa) =>
  pem("RSA PRIVATE KEY", seq(int(0n), int(k.n), int(k.e), int(k.d), int(k.p), int(k.q), int(1n), int(1n), int(k.qi)));
/** SEC 1 C.4 ECPrivateKey on P-256, without the optional public key. */
const sec1 = (d: Uint8Array) =>
  pem(
    "EC PRIVATE KEY",
    seq(
      int(1n),
      der(0x04, d),
      der(0xa0, Uint8Array.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07])),
    ),
  );

function refused(text: string): string {
  try {
    parsePrivateKey(text);
  } catch (err) {
    expect(err).toBeInstanceOf(SshError);
    expect((err as SshError).code).toBe("KEY_FORMAT");
    return (err as Error).message;
  }
  throw new Error("the key loaded");
}

describe("private keys whose numbers do not fit together", () => {
  const j = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "jwk" });
  const rsa: Rsa = { n: big(j.n), e: big(j.e), d: big(j.d), p: big(j.p), q: big(j.q), qi: big(j.qi) };

  it("TestRsaPrivateKeyConsistentAtLoad: bad d, p, q or iqmp is refused naming the number", () => {
    expect(parsePrivateKey(pkcs1(rsa)).type).toBe("ssh-rsa");
    const cases: [string, Partial<Rsa>, RegExp][] = [
      ["d is not e's inverse", { d: rsa.d + 2n }, /d is not the inverse of e/],
      ["d ≥ n", { d: rsa.n + 2n }, /d must lie between 1 and n/],
      ["p = 1", { p: 1n }, /p and q must lie between 1 and n/],
      ["q ≥ n", { q: rsa.n * 3n }, /p and q must lie between 1 and n/],
      ["iqmp ≥ p", { qi: rsa.qi + rsa.p }, /iqmp must lie between 0 and p/],
      ["p·q ≠ n", { q: rsa.q + 2n }, /p·q ≠ n/],
    ];
    for (const [what, change, message] of cases) expect(refused(pkcs1({ ...rsa, ...change })), what).toMatch(message);
  });

  it("TestEcPrivateScalarInRangeAtLoad: zero, too long, or at least the group order is refused", () => {
    const ec = nodeCrypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
    const d = Uint8Array.from(Buffer.from(ec.d ?? "", "base64url"));
    expect(parsePrivateKey(sec1(d)).type).toBe("ecdsa-sha2-nistp256");
    expect(parsePrivateKey(sec1(cat(new Uint8Array(3), d))).type).toBe("ecdsa-sha2-nistp256"); // leading zeros
    expect(refused(sec1(new Uint8Array(32)))).toMatch(/private scalar is out of range/);
    expect(refused(sec1(new Uint8Array(50).fill(1)))).toMatch(/expected 1 to 32 bytes/);
    expect(refused(sec1(new Uint8Array(32).fill(0xff)))).toMatch(/below the group order/);
  });
});
