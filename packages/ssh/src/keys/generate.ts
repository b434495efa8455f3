/**
 * Fresh key pairs as `PrivateKey` objects (host keys for `tunnel serve` / `tunnel demo`,
 * and test keys). Public blobs per RFC 8709 §4 (ed25519) and RFC 5656 §3.1 (ecdsa).
 */
import { ecdsaKeyTypeOf, signEcdsa } from "../algorithms/sig-ecdsa.ts";
import { SSH_ED25519, signEd25519 } from "../algorithms/sig-ed25519.ts";
import type { CryptoProvider, EcCurveName } from "../crypto/provider.ts";
import { wipe } from "../crypto/provider.ts";
import { Writer } from "../wire/writer.ts";
import type { PrivateKey } from "./types.ts";

export function ed25519FromSeed(provider: CryptoProvider, seed: Uint8Array, comment = ""): PrivateKey {
  const pub = provider.ed25519.publicFromSecret(seed);
  const blob = new Writer(51).string(SSH_ED25519).string(pub).bytes();
  const secret = seed.slice();
  return {
    type: SSH_ED25519,
    publicKey: { type: SSH_ED25519, blob, comment },
    bits: 256,
    signatureAlgorithms: [SSH_ED25519],
    sign(data, algorithm) {
      if (algorithm !== SSH_ED25519) throw new TypeError(`an ed25519 key cannot sign with ${algorithm}`);
      return signEd25519(provider, secret, data);
    },
    dispose() {
      wipe(secret);
    },
  };
}

/** A fresh ed25519 key pair. */
export function generateEd25519(provider: CryptoProvider, comment = ""): PrivateKey {
  const { secretKey } = provider.ed25519.generate();
  const key = ed25519FromSeed(provider, secretKey, comment);
  wipe(secretKey);
  return key;
}

/** A fresh ECDSA key pair on the NIST curve named. */
export function generateEcdsa(provider: CryptoProvider, curve: EcCurveName, comment = ""): PrivateKey {
  const { secretKey, publicKey } = provider.ecdsa.generate(curve);
  const c = ecdsaKeyTypeOf(curve);
  const blob = new Writer(200).string(c.type).string(c.id).string(publicKey).bytes();
  return {
    type: c.type,
    publicKey: { type: c.type, blob, comment },
    bits: c.bits,
    signatureAlgorithms: [c.type],
    sign(data, algorithm) {
      if (algorithm !== c.type) throw new TypeError(`a ${c.type} key cannot sign with ${algorithm}`);
      return signEcdsa(provider, curve, secretKey, data);
    },
    dispose() {
      wipe(secretKey);
    },
  };
}
