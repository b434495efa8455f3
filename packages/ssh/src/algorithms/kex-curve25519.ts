/**
 * curve25519-sha256 and curve25519-sha256@libssh.org (RFC 8731): X25519 ECDH in the
 * RFC 5656 §4 message flow. Public values are exactly 32 bytes; an all-zero shared secret
 * (a low-order peer point) is refused (RFC 8731 §3, RFC 7748 §6.1); K is the X25519 output
 * read as an unsigned big-endian integer and encoded as an mpint (RFC 8731 §3.1).
 */
import { type CryptoProvider, type RandomSource, wipe } from "../crypto/provider.ts";
import { Writer } from "../wire/writer.ts";
import { kexFailed } from "./kex-method-errors.ts";
import { KEX_NAME } from "./kex-names.ts";
import { type OneRoundKex, oneRound } from "./kex-one-round.ts";
import type { KexAlgorithm, KexClient, KexServer } from "./types.ts";

/** The length check, which costs nothing: an X25519 public value is exactly 32 bytes. */
function checkLength(peer: Uint8Array, who: string): void {
  if (peer.length !== 32) throw kexFailed(`${who}'s curve25519 public key is ${peer.length} bytes; expected 32`);
}

function shared(provider: CryptoProvider, secret: Uint8Array, peer: Uint8Array, who: string): Uint8Array {
  const k = x25519Shared(provider, secret, peer, who);
  const encoded = new Writer(40).mpintFromBytes(k).bytes();
  wipe(k);
  return encoded;
}

/** RFC 7748 §4.1: the base point, u = 9. */
const BASE_POINT = Uint8Array.of(9, ...new Uint8Array(31));

/**
 * An X25519 key pair whose secret is drawn from the injected randomness (RFC 7748 §6.1: 32
 * random bytes; clamping is part of the scalar multiplication). Exported for the hybrids.
 */
export function x25519KeyPair(
  provider: CryptoProvider,
  random: RandomSource,
): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = random(32);
  return { secretKey, publicKey: provider.x25519.shared(secretKey, BASE_POINT) };
}

/**
 * The raw X25519 shared secret with the peer's public value: exactly 32 bytes in, the
 * all-zero result of a low-order point refused (RFC 8731 §3, RFC 7748 §6.1).
 */
export function x25519Shared(provider: CryptoProvider, secret: Uint8Array, peer: Uint8Array, who: string): Uint8Array {
  checkLength(peer, who);
  let k: Uint8Array;
  try {
    k = provider.x25519.shared(secret, peer);
  } catch {
    throw kexFailed(`${who}'s curve25519 public key gives an all-zero shared secret (low-order point)`);
  }
  if (k.every((b) => b === 0))
    throw kexFailed(`${who}'s curve25519 public key gives an all-zero shared secret (low-order point)`);
  return k;
}

function make(name: string): KexAlgorithm {
  return {
    name,
    hash: "sha256",
    createClient(provider: CryptoProvider, random: RandomSource): KexClient {
      const { secretKey, publicKey } = x25519KeyPair(provider, random);
      return {
        clientValue: publicKey,
        finish: (serverValue) => shared(provider, secretKey, serverValue, "server"),
        dispose: () => wipe(secretKey),
      };
    },
    createServer(provider: CryptoProvider, random: RandomSource): KexServer {
      let secretKey: Uint8Array | undefined;
      return {
        respond: (clientValue) => {
          // Checked before we spend a scalar multiplication on our own key pair.
          checkLength(clientValue, "client");
          const pair = x25519KeyPair(provider, random);
          secretKey = pair.secretKey;
          return { serverValue: pair.publicKey, sharedSecret: shared(provider, secretKey, clientValue, "client") };
        },
        dispose: () => {
          if (secretKey) wipe(secretKey);
        },
      };
    },
  };
}

export const CURVE25519_KEX: readonly OneRoundKex[] = [
  oneRound(make(KEX_NAME.CURVE25519_SHA256)),
  oneRound(make(KEX_NAME.CURVE25519_SHA256_LIBSSH)),
];
