/**
 * curve25519-sha256 and curve25519-sha256@libssh.org (RFC 8731): X25519 ECDH in the
 * RFC 5656 §4 message flow. Public values are exactly 32 bytes; an all-zero shared secret
 * (a low-order peer point) is refused (RFC 8731 §3, RFC 7748 §6.1); K is the X25519 output
 * read as an unsigned big-endian integer and encoded as an mpint (RFC 8731 §3.1).
 */
import { type CryptoProvider, type RandomSource, wipe } from "../crypto/provider.ts";
import { DisconnectReason, SshError } from "../errors.ts";
import { Writer } from "../wire/writer.ts";
import type { KexAlgorithm, KexClient, KexServer } from "./types.ts";

const kexFailed = (m: string) => new SshError("KEX_FAILED", m, { reason: DisconnectReason.KEY_EXCHANGE_FAILED });

/** The length check, which costs nothing: an X25519 public value is exactly 32 bytes. */
function checkLength(peer: Uint8Array, who: string): void {
  if (peer.length !== 32) throw kexFailed(`${who}'s curve25519 public key is ${peer.length} bytes; expected 32`);
}

function shared(provider: CryptoProvider, secret: Uint8Array, peer: Uint8Array, who: string): Uint8Array {
  checkLength(peer, who);
  let k: Uint8Array;
  try {
    k = provider.x25519.shared(secret, peer);
  } catch {
    throw kexFailed(`${who}'s curve25519 public key gives an all-zero shared secret (low-order point)`);
  }
  if (k.every((b) => b === 0))
    throw kexFailed(`${who}'s curve25519 public key gives an all-zero shared secret (low-order point)`);
  const encoded = new Writer(40).mpintFromBytes(k).bytes();
  wipe(k);
  return encoded;
}

function make(name: string): KexAlgorithm {
  return {
    name,
    hash: "sha256",
    createClient(provider: CryptoProvider, _random: RandomSource): KexClient {
      const { secretKey, publicKey } = provider.x25519.generate();
      return {
        clientValue: publicKey,
        finish: (serverValue) => shared(provider, secretKey, serverValue, "server"),
        dispose: () => wipe(secretKey),
      };
    },
    createServer(provider: CryptoProvider, _random: RandomSource): KexServer {
      let secretKey: Uint8Array | undefined;
      return {
        respond: (clientValue) => {
          // Checked before we spend a scalar multiplication on our own key pair.
          checkLength(clientValue, "client");
          const pair = provider.x25519.generate();
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

export const CURVE25519_KEX: readonly KexAlgorithm[] = [
  make("curve25519-sha256"),
  make("curve25519-sha256@libssh.org"),
];
