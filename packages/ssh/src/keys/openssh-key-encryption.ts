/**
 * Key layer: decrypting the private section of an `openssh-key-v1` file (OpenSSH
 * PROTOCOL.key). The KDF is `bcrypt` (bcrypt-pbkdf; kdfoptions `string salt, uint32 rounds`),
 * deriving key ‖ IV for the cipher; the ciphers are the transport's, used as OpenSSH's
 * cipher.c uses them for key files: CTR and CBC with a 16-byte IV (3des-cbc: 8, crypto/des.ts); the AEAD ones with packet
 * sequence number 0 and no additional data — aes*-gcm@openssh.com (RFC 5647 §7.1 with a
 * 12-byte nonce, the derived IV as it is), chacha20-poly1305@openssh.com (OpenSSH
 * PROTOCOL.chacha20poly1305: 64-byte key, the first half encrypts from block 1, block 0 gives
 * the Poly1305 key; the header key is unused). An AEAD's 16-byte tag follows the encrypted
 * section's string in the file.
 */

import { CIPHER_NAME } from "../algorithms/cipher-names.ts";
import { bcryptPbkdf } from "../crypto/bcrypt-pbkdf.ts";
import { desCbcDecrypt } from "../crypto/des.ts";
import { nobleKeyFileCrypto, nobleProvider } from "../crypto/noble.ts";
import { equalBytes, wipe } from "../crypto/provider.ts";
import { Reader } from "../wire/reader.ts";
import { keyFormat, needsPassphrase, wrongPassphrase } from "./key-errors.ts";

export interface OpenSshKeyCipher {
  readonly blockSize: number;
  readonly keyLength: number;
  readonly ivLength: number;
  /** Tag bytes after the encrypted section (AEAD ciphers). */
  readonly tagLength: number;
  /** The plaintext, or undefined when the tag does not verify. */
  decrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, tag: Uint8Array): Uint8Array | undefined;
}

const NO_TAG = new Uint8Array(0);

const ctr = (keyLength: number): OpenSshKeyCipher => ({
  blockSize: 16,
  keyLength,
  ivLength: 16,
  tagLength: 0,
  decrypt: (key, iv, data) => nobleProvider.aesCtr(key, iv, data),
});

const cbc = (keyLength: number): OpenSshKeyCipher => ({
  blockSize: 16,
  keyLength,
  ivLength: 16,
  tagLength: 0,
  decrypt: (key, iv, data) => nobleKeyFileCrypto.aesCbcDecrypt(key, iv, data),
});

const gcm = (keyLength: number): OpenSshKeyCipher => ({
  blockSize: 16,
  keyLength,
  ivLength: 12,
  tagLength: 16,
  decrypt(key, iv, data, tag) {
    const sealed = new Uint8Array(data.length + tag.length);
    sealed.set(data);
    sealed.set(tag, data.length);
    try {
      return nobleProvider.aesGcmDecrypt(key, iv, sealed, NO_TAG);
    } catch {
      return undefined;
    }
  },
});

const chacha20Poly1305: OpenSshKeyCipher = {
  blockSize: 8,
  keyLength: 64,
  ivLength: 0,
  tagLength: 16,
  decrypt(key, _iv, data, tag) {
    const mainKey = key.subarray(0, 32);
    const nonce = new Uint8Array(8); // the sequence number, 0
    const polyKey = nobleProvider.chacha20(mainKey, nonce, new Uint8Array(32), 0);
    const expected = nobleProvider.poly1305(polyKey, [data]);
    wipe(polyKey);
    if (!equalBytes(expected, tag)) return undefined;
    return nobleProvider.chacha20(mainKey, nonce, data, 1);
  },
};

const tripleDesCbc: OpenSshKeyCipher = {
  blockSize: 8,
  keyLength: 24,
  ivLength: 8,
  tagLength: 0,
  decrypt: (key, iv, data) => desCbcDecrypt(key, iv, data),
};

/** The ciphers ssh-keygen can write (`-Z`), by name. */
export const OPENSSH_KEY_CIPHERS: ReadonlyMap<string, OpenSshKeyCipher> = new Map([
  [CIPHER_NAME.AES128_CTR, ctr(16)],
  [CIPHER_NAME.AES192_CTR, ctr(24)],
  [CIPHER_NAME.AES256_CTR, ctr(32)],
  ["aes128-cbc", cbc(16)],
  ["aes192-cbc", cbc(24)],
  ["aes256-cbc", cbc(32)],
  [CIPHER_NAME.AES128_GCM, gcm(16)],
  [CIPHER_NAME.AES256_GCM, gcm(32)],
  [CIPHER_NAME.CHACHA20_POLY1305, chacha20Poly1305],
  ["3des-cbc", tripleDesCbc],
]);

/**
 * More bcrypt rounds than this is a damaged file, not a choice: ssh-keygen's default is 16,
 * and 100,000 would take half an hour here.
 */
export const MAX_BCRYPT_ROUNDS = 100_000;

/** The parts of an encrypted file this module needs, as the container parser read them. */
export interface EncryptedSection {
  cipherName: string;
  kdfName: string;
  kdfOptions: Uint8Array;
  /** The private section's string, encrypted. */
  encrypted: Uint8Array;
  /** Reads the AEAD tag that follows the section (the reader's last bytes). */
  readTag(length: number): Uint8Array;
}

/**
 * Checks an encrypted file's cipher, KDF and lengths, then — with a passphrase — decrypts the
 * private section. Without one, KEY_ENCRYPTED naming cipher and KDF; a wrong one,
 * KEY_ENCRYPTED "incorrect passphrase"; anything we cannot read, KEY_FORMAT in one line.
 * Check-ints are the caller's (they are the last word on the passphrase for CTR and CBC).
 */
export function decryptOpenSshSection(
  s: EncryptedSection,
  passphrase: Uint8Array | undefined,
  name: string,
): Uint8Array {
  const cipher = OPENSSH_KEY_CIPHERS.get(s.cipherName);
  if (!cipher)
    throw keyFormat(
      `openssh key cipher ${JSON.stringify(s.cipherName)} is not supported; expected one of ${[
        ...OPENSSH_KEY_CIPHERS.keys(),
      ].join(", ")}`,
    );
  if (s.kdfName === "none") throw keyFormat(`openssh key names cipher ${s.cipherName} but KDF none`);
  if (s.kdfName !== "bcrypt")
    throw keyFormat(`openssh key KDF ${JSON.stringify(s.kdfName)} is not supported; expected bcrypt`);
  const k = new Reader(s.kdfOptions);
  const salt = k.string("bcrypt salt");
  const rounds = k.uint32("bcrypt rounds");
  k.done("bcrypt kdf options");
  if (salt.length === 0) throw keyFormat(`bcrypt salt is empty`);
  if (rounds < 1 || rounds > MAX_BCRYPT_ROUNDS)
    throw keyFormat(`bcrypt rounds ${rounds} out of range; expected 1 to ${MAX_BCRYPT_ROUNDS}`);
  if (s.encrypted.length < cipher.blockSize || s.encrypted.length % cipher.blockSize !== 0)
    throw keyFormat(
      `encrypted private section of ${s.encrypted.length} bytes is not a whole number of ${cipher.blockSize}-byte blocks (truncated?)`,
    );
  const tag = cipher.tagLength > 0 ? s.readTag(cipher.tagLength) : NO_TAG;
  if (!passphrase || passphrase.length === 0) throw needsPassphrase(name, `${s.cipherName}, ${s.kdfName}`);
  const derived = bcryptPbkdf(
    (d) => nobleProvider.hash("sha512", d),
    passphrase,
    salt,
    rounds,
    cipher.keyLength + cipher.ivLength,
  );
  try {
    const plain = cipher.decrypt(
      derived.subarray(0, cipher.keyLength),
      derived.subarray(cipher.keyLength),
      s.encrypted,
      tag,
    );
    if (!plain) throw wrongPassphrase(name);
    return plain;
  } finally {
    wipe(derived);
  }
}
