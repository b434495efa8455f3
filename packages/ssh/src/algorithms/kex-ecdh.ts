/**
 * ecdh-sha2-nistp256/384/521 (RFC 5656 §4, §6.2, §7.1): public values are uncompressed SEC1
 * points, checked to lie on the curve (RFC 5656 §4: "MUST verify that the public key is valid");
 * K is the shared point's x coordinate as an mpint; the hash follows the curve size.
 */
import { type CryptoProvider, type EcCurveName, type HashName, type RandomSource, wipe } from "../crypto/provider.ts";
import { DisconnectReason, SshError } from "../errors.ts";
import { Writer } from "../wire/writer.ts";
import type { KexAlgorithm } from "./types.ts";

const kexFailed = (m: string) => new SshError("KEX_FAILED", m, { reason: DisconnectReason.KEY_EXCHANGE_FAILED });

/** Field size in bytes per curve. */
const FIELD: Record<EcCurveName, number> = { p256: 32, p384: 48, p521: 66 };

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
    createClient(provider: CryptoProvider, _random: RandomSource) {
      const { secretKey, publicKey } = provider.ecdh.generate(curve);
      return {
        clientValue: publicKey,
        finish: (serverValue: Uint8Array) => shared(provider, curve, secretKey, serverValue, "server"),
        dispose: () => wipe(secretKey),
      };
    },
    createServer(provider: CryptoProvider, _random: RandomSource) {
      let secretKey: Uint8Array | undefined;
      return {
        respond: (clientValue: Uint8Array) => {
          // The client's value is checked before we spend a scalar multiplication on our own
          // key pair (issue 12, item 1: no work for an unauthenticated peer's malformed input).
          checkEncoding(curve, clientValue, "client");
          const pair = provider.ecdh.generate(curve);
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

export const ECDH_KEX: readonly KexAlgorithm[] = [
  make("ecdh-sha2-nistp256", "p256", "sha256"),
  make("ecdh-sha2-nistp384", "p384", "sha384"),
  make("ecdh-sha2-nistp521", "p521", "sha512"),
];
