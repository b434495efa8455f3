/**
 * Crypto provider: the only importer of `@noble/*` (docs/ARCHITECTURE.md, "The layers of `@tunnel/ssh`").
 *
 * Everything the protocol needs from cryptography comes through the `CryptoProvider`
 * interface in `provider.ts`; this file is its complete, portable, pure-JS implementation.
 */

import { poly1305 } from "@noble/ciphers/_poly1305.js";
import { unsafe as aesUnsafe, cbc, ctr, gcm } from "@noble/ciphers/aes.js";
import { chacha20, chacha20orig } from "@noble/ciphers/chacha.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { hmac } from "@noble/hashes/hmac.js";
import { md5, sha1 } from "@noble/hashes/legacy.js";
import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { scrypt } from "@noble/hashes/scrypt.js";
import { sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { chacha20StreamOver } from "./chacha20-stream.ts";
import { type CryptoProvider, type EcCurveName, type HashName, joinParts } from "./provider.ts";

const hashes = { sha1, sha256, sha384, sha512 } as const;
const curves = { p256, p384, p521 } as const;

/** Every primitive in pure JavaScript (noble): runs anywhere, the reference the accelerators must match. */
export const nobleProvider: CryptoProvider = {
  name: "noble",
  implementation: () => "noble",
  hash(name: HashName, data: Uint8Array): Uint8Array {
    return hashes[name](data);
  },
  hashStream(name: HashName) {
    const h = hashes[name].create();
    return {
      update(d: Uint8Array) {
        h.update(d);
      },
      digest: () => h.digest(),
    };
  },
  hmac(name: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    return hmac(hashes[name], key, data);
  },
  hmacStream(name: HashName, key: Uint8Array) {
    const base = hmac.create(hashes[name], key);
    return {
      mac(parts: readonly Uint8Array[]): Uint8Array {
        const h = base.clone();
        for (const p of parts) h.update(p);
        return h.digest();
      },
      dispose() {
        base.destroy();
      },
    };
  },
  aesGcmEncrypt(key, iv, plaintext, aad, prefix) {
    if (!prefix) return gcm(key, iv, aad).encrypt(plaintext);
    const sealed = gcm(key, iv, aad).encrypt(plaintext);
    const out = new Uint8Array(prefix.length + sealed.length);
    out.set(prefix);
    out.set(sealed, prefix.length);
    return out;
  },
  aesGcmSeal(key, iv, parts, aad) {
    return [gcm(key, iv, aad).encrypt(joinParts(parts))];
  },
  aesGcmDecrypt(key, iv, ciphertextAndTag, aad) {
    return gcm(key, iv, aad).decrypt(ciphertextAndTag);
  },
  aesCtr(key, iv, data) {
    return ctr(key, iv).encrypt(data);
  },
  aesEncryptBlock(key, block) {
    const xk = aesUnsafe.expandKeyLE(key);
    return aesUnsafe.encryptBlock(xk, block);
  },
  chacha20(key, nonce, data, counter) {
    // 8-byte nonce: DJB's original ChaCha20 (64-bit counter), as OpenSSH uses it; 12: RFC 8439.
    const xor = nonce.length === 8 ? chacha20orig : chacha20;
    if (data.byteOffset % 4 === 0) return xor(key, nonce, data, undefined, counter);
    // noble goes word by word only over 4-byte-aligned input and output, byte by byte
    // otherwise (~25 % slower); a packet in the middle of a socket read is seldom aligned.
    // Copy it to an aligned buffer and work there in place.
    const copy = data.slice();
    return xor(key, nonce, copy, copy, counter);
  },
  chacha20Stream(key, nonce, counter) {
    return chacha20StreamOver((k, n, d, c) => nobleProvider.chacha20(k, n, d, c), key, nonce, counter);
  },
  poly1305(key, data) {
    return poly1305(joinParts(data), key);
  },
  x25519: {
    generate() {
      const { secretKey, publicKey } = x25519.keygen();
      return { secretKey, publicKey };
    },
    shared(secretKey, peerPublic) {
      return x25519.getSharedSecret(secretKey, peerPublic);
    },
  },
  ecdh: {
    generate(curve: EcCurveName) {
      const { secretKey, publicKey } = curves[curve].keygen();
      return { secretKey, publicKey: curves[curve].getPublicKey(secretKey, false) ?? publicKey };
    },
    shared(curve: EcCurveName, secretKey, peerPublic) {
      // uncompressed point in, x coordinate out (RFC 5656 §4: K is the x coordinate)
      const full = curves[curve].getSharedSecret(secretKey, peerPublic, false);
      const len = (full.length - 1) / 2;
      return full.slice(1, 1 + len);
    },
    validatePoint(curve: EcCurveName, point) {
      curves[curve].Point.fromBytes(point).assertValidity();
    },
  },
  ed25519: {
    generate() {
      const { secretKey, publicKey } = ed25519.keygen();
      return { secretKey, publicKey };
    },
    publicFromSecret: (seed) => ed25519.getPublicKey(seed),
    sign: (seed, msg) => ed25519.sign(msg, seed),
    verify: (pub, msg, sig) => {
      try {
        return ed25519.verify(sig, msg, pub);
      } catch {
        return false;
      }
    },
  },
  ecdsa: {
    generate(curve: EcCurveName) {
      const secretKey = curves[curve].utils.randomSecretKey();
      return { secretKey, publicKey: curves[curve].getPublicKey(secretKey, false) };
    },
    publicFromSecret: (curve, secretKey) => curves[curve].getPublicKey(secretKey, false),
    /** RFC 6979 deterministic signature over the message hashed with the curve's hash; returns r, s. */
    sign(curve: EcCurveName, secretKey, msg) {
      const sig = curves[curve].sign(msg, secretKey, { prehash: true, format: "compact" });
      const n = sig.length / 2;
      return { r: sig.slice(0, n), s: sig.slice(n) };
    },
    verify(curve: EcCurveName, publicKey, msg, r, s) {
      const n = curves[curve].lengths.secretKey ?? 32;
      if (r.length > n || s.length > n) return false;
      const sig = new Uint8Array(2 * n);
      sig.set(r, n - r.length);
      sig.set(s, 2 * n - s.length);
      try {
        return curves[curve].verify(sig, msg, publicKey, { prehash: true, format: "compact", lowS: false });
      } catch {
        return false;
      }
    },
  },
};

/**
 * What only encrypted private key files need, beyond `nobleProvider`: PKCS#5 PBES2's key
 * derivations (RFC 8018 §5.2 PBKDF2, RFC 7914 scrypt), the MD5 of RFC 1421 PEM encryption's
 * key derivation, and AES-CBC decryption (RFC 8018 §6.2, RFC 1423 §1.1; OpenSSH's aes*-cbc).
 * Used once per key load, so always noble's; CBC padding is left to the caller, which must
 * tell a wrong passphrase from a damaged file.
 */
export const nobleKeyFileCrypto = {
  md5: (data: Uint8Array): Uint8Array => md5(data),
  pbkdf2(hash: HashName, password: Uint8Array, salt: Uint8Array, iterations: number, length: number): Uint8Array {
    return pbkdf2(hashes[hash], password, salt, { c: iterations, dkLen: length });
  },
  scrypt(
    password: Uint8Array,
    salt: Uint8Array,
    o: { N: number; r: number; p: number; length: number; maxMemory: number },
  ): Uint8Array {
    return scrypt(password, salt, { N: o.N, r: o.r, p: o.p, dkLen: o.length, maxmem: o.maxMemory });
  },
  /** AES-CBC decryption of whole blocks, padding kept. */
  aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
    return cbc(key, iv, { disablePadding: true }).decrypt(data);
  },
};

/**
 * ML-KEM-768 (FIPS 203) for the mlkem768x25519-sha256 key exchange (crypto/mlkem768.ts wraps
 * it): deterministic given the key generation seed and the encapsulation message.
 */
export const nobleMlKem768 = {
  keygen: (seed: Uint8Array) => ml_kem768.keygen(seed),
  encapsulate: (publicKey: Uint8Array, m: Uint8Array) => ml_kem768.encapsulate(publicKey, m),
  decapsulate: (cipherText: Uint8Array, secretKey: Uint8Array) => ml_kem768.decapsulate(cipherText, secretKey),
};
