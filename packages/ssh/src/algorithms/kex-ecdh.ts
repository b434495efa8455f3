/**
 * ecdh-sha2-nistp256/384/521 (RFC 5656 §4, §6.2, §7.1): public values are uncompressed SEC1
 * points, checked to lie on the curve (RFC 5656 §4: "MUST verify that the public key is valid");
 * K is the shared point's x coordinate as an mpint; the hash follows the curve size.
 */

import { bytesToBigint } from "../crypto/bigint.ts";
import { type CryptoProvider, type EcCurveName, type HashName, type RandomSource, wipe } from "../crypto/provider.ts";
import { Writer } from "../wire/writer.ts";
import { kexFailed } from "./kex-method-errors.ts";
import { KEX_NAME } from "./kex-names.ts";
import { type OneRoundKex, oneRound } from "./kex-one-round.ts";
import type { KexAlgorithm } from "./types.ts";

/** Field size in bytes per curve. */
const FIELD: Record<EcCurveName, number> = { p256: 32, p384: 48, p521: 66 };

/** The group orders n (SEC 2 §2.4.2, §2.5.1, §2.6.1; FIPS 186-5 / SP 800-186 §3.2.1). */
const ORDER: Record<EcCurveName, bigint> = {
  p256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  p384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  p521: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};

/**
 * A secret scalar in [1, n−1] from the injected randomness: 64 bits more than n's size,
 * reduced mod n−1, plus one (FIPS 186-5 Appendix A.4.1, "extra random bits"), as field-size bytes.
 */
function secretScalar(curve: EcCurveName, random: RandomSource): Uint8Array {
  const n = ORDER[curve];
  const d = (bytesToBigint(random(FIELD[curve] + 8)) % (n - 1n)) + 1n;
  const out = new Uint8Array(FIELD[curve]);
  let v = d;
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function keyPair(provider: CryptoProvider, curve: EcCurveName, random: RandomSource) {
  const secretKey = secretScalar(curve, random);
  return { secretKey, publicKey: provider.ecdsa.publicFromSecret(curve, secretKey) };
}

/** The encoding check, which costs nothing: an uncompressed point has one exact length. */
function checkEncoding(curve: EcCurveName, peer: Uint8Array, who: string): void {
  const want = 1 + 2 * FIELD[curve];
  if (peer.length !== want || peer[0] !== 0x04) {
    throw kexFailed(
      `${who}'s ECDH public key is not an uncompressed ${curve} point: expected ${want} bytes starting 0x04, got ${peer.length}`,
    );
  }
}

function shared(
  provider: CryptoProvider,
  curve: EcCurveName,
  secret: Uint8Array,
  peer: Uint8Array,
  who: string,
): Uint8Array {
  checkEncoding(curve, peer, who);
  let x: Uint8Array;
  try {
    provider.ecdh.validatePoint(curve, peer);
    x = provider.ecdh.shared(curve, secret, peer);
  } catch {
    throw kexFailed(`${who}'s ECDH public key is not a valid point on ${curve}`);
  }
  const encoded = new Writer(80).mpintFromBytes(x).bytes();
  wipe(x);
  return encoded;
}

function make(name: string, curve: EcCurveName, hash: HashName): KexAlgorithm {
  return {
    name,
    hash,
    createClient(provider: CryptoProvider, random: RandomSource) {
      const { secretKey, publicKey } = keyPair(provider, curve, random);
      return {
        clientValue: publicKey,
        finish: (serverValue: Uint8Array) => shared(provider, curve, secretKey, serverValue, "server"),
        dispose: () => wipe(secretKey),
      };
    },
    createServer(provider: CryptoProvider, random: RandomSource) {
      let secretKey: Uint8Array | undefined;
      return {
        respond: (clientValue: Uint8Array) => {
          // The client's value is checked before we spend a scalar multiplication on our own
          // key pair (issue 12, item 1: no work for an unauthenticated peer's malformed input).
          checkEncoding(curve, clientValue, "client");
          const pair = keyPair(provider, curve, random);
          secretKey = pair.secretKey;
          return {
            serverValue: pair.publicKey,
            sharedSecret: shared(provider, curve, secretKey, clientValue, "client"),
          };
        },
        dispose: () => {
          if (secretKey) wipe(secretKey);
        },
      };
    },
  };
}

export const ECDH_KEX: readonly OneRoundKex[] = [
  oneRound(make(KEX_NAME.ECDH_NISTP256, "p256", "sha256")),
  oneRound(make(KEX_NAME.ECDH_NISTP384, "p384", "sha384")),
  oneRound(make(KEX_NAME.ECDH_NISTP521, "p521", "sha512")),
];
