/**
 * Key layer: the two ways a PEM private key file is encrypted.
 *
 * - PKCS#8 `ENCRYPTED PRIVATE KEY` (RFC 5958 §3 EncryptedPrivateKeyInfo) with PBES2 (RFC 8018
 *   §6.2, A.4): PBKDF2 (§5.2, A.2; PRF HMAC-SHA-1/256/384/512, RFC 8018 B.1) or scrypt
 *   (RFC 7914 §7), then AES-CBC (RFC 8018 B.2.5; RFC 3565 §4.1 OIDs) or DES-EDE3-CBC (B.2.2)
 *   with PKCS#5 padding — what ssh-keygen -m PKCS8 and OpenSSL 1.1+ write; or PKCS#12's
 *   Triple DES schemes (RFC 7292 Appendix B.2 KDF, C) — what OpenSSL 1.0 wrote. PBES1 and the
 *   RC2/RC4 schemes get one line naming them.
 * - Legacy RFC 1421 encryption of PKCS#1 / SEC1 bodies: `Proc-Type: 4,ENCRYPTED` and
 *   `DEK-Info: <cipher>,<IV in hex>` headers (RFC 1421 §4.6.1.1, §4.6.1.3), the key derived as
 *   OpenSSL does (EVP_BytesToKey: MD5, one iteration, the IV's first 8 bytes as salt;
 *   D₁ = MD5(P ‖ S), Dᵢ = MD5(Dᵢ₋₁ ‖ P ‖ S)), AES-CBC or DES-EDE3-CBC with PKCS#5 padding.
 *   What ssh-keygen -m PEM, `openssl … -traditional` and `openssl genrsa -des3` write.
 *
 * A wrong passphrase shows as bad padding or as plaintext that is not one DER SEQUENCE:
 * either way "incorrect passphrase". A body that is not whole blocks is a damaged file.
 */
import { desCbcDecrypt } from "../crypto/des.ts";
import { nobleKeyFileCrypto, nobleProvider } from "../crypto/noble.ts";
import type { HashName } from "../crypto/provider.ts";
import { wipe } from "../crypto/provider.ts";
import { DerReader, oidToString } from "./asn1.ts";
import { keyFormat, needsPassphrase, wrongPassphrase } from "./key-errors.ts";

interface CbcCipher {
  readonly keyLength: number;
  readonly blockSize: number;
  decrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
}

const aesCbc = (keyLength: number): CbcCipher => ({
  keyLength,
  blockSize: 16,
  decrypt: (key, iv, data) => nobleKeyFileCrypto.aesCbcDecrypt(key, iv, data),
});

const desEde3Cbc = (keyLength: 16 | 24): CbcCipher => ({
  keyLength,
  blockSize: 8,
  decrypt: (key, iv, data) => desCbcDecrypt(key, iv, data),
});

/** RFC 1421 DEK-Info names, as OpenSSL writes them. */
const DEK_CIPHERS: ReadonlyMap<string, CbcCipher> = new Map([
  ["AES-128-CBC", aesCbc(16)],
  ["AES-192-CBC", aesCbc(24)],
  ["AES-256-CBC", aesCbc(32)],
  ["DES-EDE3-CBC", desEde3Cbc(24)],
]);

/** PBES2 encryption schemes by OID. */
const PBES2_CIPHERS: ReadonlyMap<string, { name: string; cipher: CbcCipher }> = new Map([
  ["2.16.840.1.101.3.4.1.2", { name: "aes128-CBC", cipher: aesCbc(16) }],
  ["2.16.840.1.101.3.4.1.22", { name: "aes192-CBC", cipher: aesCbc(24) }],
  ["2.16.840.1.101.3.4.1.42", { name: "aes256-CBC", cipher: aesCbc(32) }],
  ["1.2.840.113549.3.7", { name: "des-ede3-cbc", cipher: desEde3Cbc(24) }],
]);

/** RFC 7292 Appendix C PKCS#12 schemes we decrypt (SHA-1 KDF, Triple DES CBC). */
const PKCS12_CIPHERS: ReadonlyMap<string, { name: string; cipher: CbcCipher }> = new Map([
  ["1.2.840.113549.1.12.1.3", { name: "pbeWithSHAAnd3-KeyTripleDES-CBC", cipher: desEde3Cbc(24) }],
  ["1.2.840.113549.1.12.1.4", { name: "pbeWithSHAAnd2-KeyTripleDES-CBC", cipher: desEde3Cbc(16) }],
]);

/** RFC 8018 B.1 PBKDF2 PRFs by OID. */
const PRFS: ReadonlyMap<string, HashName> = new Map([
  ["1.2.840.113549.2.7", "sha1"],
  ["1.2.840.113549.2.9", "sha256"],
  ["1.2.840.113549.2.10", "sha384"],
  ["1.2.840.113549.2.11", "sha512"],
]);

const OID_PBES2 = "1.2.840.113549.1.5.13";
const OID_PBKDF2 = "1.2.840.113549.1.5.12";
const OID_SCRYPT = "1.3.6.1.4.1.11591.4.11";

/**
 * Schemes we do not decrypt, named in the error (RFC 8018 A.3 PBES1, RFC 7292 C PKCS#12 with
 * RC2 or RC4): single DES, RC2 and RC4 — OpenSSL 3 (and so ssh) reads them only with its
 * legacy provider loaded.
 */
const OTHER_SCHEMES: ReadonlyMap<string, string> = new Map([
  ["1.2.840.113549.1.5.1", "PBES1 pbeWithMD2AndDES-CBC"],
  ["1.2.840.113549.1.5.3", "PBES1 pbeWithMD5AndDES-CBC"],
  ["1.2.840.113549.1.5.4", "PBES1 pbeWithMD2AndRC2-CBC"],
  ["1.2.840.113549.1.5.6", "PBES1 pbeWithMD5AndRC2-CBC"],
  ["1.2.840.113549.1.5.10", "PBES1 pbeWithSHA1AndDES-CBC"],
  ["1.2.840.113549.1.5.11", "PBES1 pbeWithSHA1AndRC2-CBC"],
  ["1.2.840.113549.1.12.1.1", "PKCS#12 pbeWithSHAAnd128BitRC4"],
  ["1.2.840.113549.1.12.1.2", "PKCS#12 pbeWithSHAAnd40BitRC4"],
  ["1.2.840.113549.1.12.1.5", "PKCS#12 pbeWithSHAAnd128BitRC2-CBC"],
  ["1.2.840.113549.1.12.1.6", "PKCS#12 pbeWithSHAAnd40BitRC2-CBC"],
]);

/** Bounds that only a damaged or hostile file exceeds (OpenSSL writes 2,048 iterations; scrypt N = 2¹⁴). */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
export const MAX_SCRYPT_N = 1 << 20;
const SCRYPT_MAX_MEMORY = 1 << 30;

/** Strips PKCS#5 padding (RFC 8018 §6.1.1 step 4) and checks one DER SEQUENCE fills the rest. */
function unpadDer(plain: Uint8Array, blockSize: number, name: string): Uint8Array {
  const n = plain[plain.length - 1] as number;
  let bad = n < 1 || n > blockSize ? 1 : 0;
  for (let i = 1; i <= Math.min(n, blockSize); i++) bad |= (plain[plain.length - i] as number) ^ n ? 1 : 0;
  if (bad) throw wrongPassphrase(name);
  const body = plain.subarray(0, plain.length - n);
  try {
    const r = new DerReader(body);
    r.expect(0x30, "SEQUENCE");
    r.end("the key");
  } catch {
    throw wrongPassphrase(name);
  }
  return body;
}

function cbcDecrypt(cipher: CbcCipher, key: Uint8Array, iv: Uint8Array, data: Uint8Array, name: string): Uint8Array {
  try {
    return unpadDer(cipher.decrypt(key, iv, data), cipher.blockSize, name);
  } finally {
    wipe(key);
  }
}

function checkBlocks(data: Uint8Array, blockSize: number): void {
  if (data.length === 0 || data.length % blockSize !== 0)
    throw keyFormat(
      `encrypted key of ${data.length} bytes is not a whole number of ${blockSize}-byte blocks (truncated?)`,
    );
}

const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16));

/**
 * RFC 1421 encryption: `dekInfo` is the DEK-Info header's value. Returns the DER body
 * (PKCS#1 or SEC1).
 */
export function decryptPemBody(
  dekInfo: string,
  body: Uint8Array,
  passphrase: Uint8Array | undefined,
  name: string,
): Uint8Array {
  const m = /^([A-Za-z0-9-]+),([0-9A-Fa-f]+)$/.exec(dekInfo.trim());
  if (!m) throw keyFormat(`malformed DEK-Info header ${JSON.stringify(dekInfo)}; expected <cipher>,<hex IV>`);
  const cipherName = (m[1] as string).toUpperCase();
  const cipher = DEK_CIPHERS.get(cipherName);
  if (!cipher)
    throw keyFormat(
      `PEM encryption ${cipherName} is not supported; expected one of ${[...DEK_CIPHERS.keys()].join(", ")}`,
    );
  const iv = unhex(m[2] as string);
  if ((m[2] as string).length % 2 !== 0 || iv.length !== cipher.blockSize)
    throw keyFormat(`DEK-Info IV is ${(m[2] as string).length / 2} bytes; ${cipherName} needs ${cipher.blockSize}`);
  checkBlocks(body, cipher.blockSize);
  if (!passphrase || passphrase.length === 0) throw needsPassphrase(name, `PEM ${cipherName}`);
  // EVP_BytesToKey(MD5, salt = IV[0..8], one iteration).
  const salt = iv.subarray(0, 8);
  const key = new Uint8Array(cipher.keyLength);
  let prev: Uint8Array = new Uint8Array(0);
  for (let filled = 0; filled < key.length; ) {
    const input = new Uint8Array(prev.length + passphrase.length + salt.length);
    input.set(prev);
    input.set(passphrase, prev.length);
    input.set(salt, prev.length + passphrase.length);
    wipe(prev);
    prev = nobleKeyFileCrypto.md5(input);
    wipe(input);
    const take = Math.min(prev.length, key.length - filled);
    key.set(prev.subarray(0, take), filled);
    filled += take;
  }
  wipe(prev);
  return cbcDecrypt(cipher, key, iv, body, name);
}

/** One AlgorithmIdentifier: its OID and a reader over its parameters. */
function algorithm(r: DerReader, what: string): { oid: string; params: DerReader } {
  const s = r.sequence(what);
  const oid = oidToString(s.expect(0x06, `${what} OID`));
  return { oid, params: s };
}

/** An INTEGER that must fit a JavaScript number below `max`. */
function smallInteger(r: DerReader, what: string, max: number): number {
  const v = r.integer(what);
  if (v < 1n || v > BigInt(max)) throw keyFormat(`${what} ${v} out of range; expected 1 to ${max}`);
  return Number(v);
}

/**
 * Decrypts an RFC 5958 EncryptedPrivateKeyInfo; returns the PrivateKeyInfo DER. Without a
 * passphrase: KEY_ENCRYPTED naming the scheme (after every field was checked).
 */
export function decryptPkcs8(der: Uint8Array, passphrase: Uint8Array | undefined, name: string): Uint8Array {
  const top = new DerReader(der).sequence("EncryptedPrivateKeyInfo");
  const scheme = algorithm(top, "encryptionAlgorithm");
  const encrypted = top.expect(0x04, "encryptedData");
  top.end("EncryptedPrivateKeyInfo");
  const pkcs12 = PKCS12_CIPHERS.get(scheme.oid);
  if (pkcs12) return decryptPkcs12Pbe(pkcs12, scheme.params, encrypted, passphrase, name);
  if (scheme.oid !== OID_PBES2) {
    const known = OTHER_SCHEMES.get(scheme.oid);
    throw keyFormat(
      `PKCS#8 encryption ${known ? `${known} (${scheme.oid})` : scheme.oid} is not supported; expected PBES2 (PBKDF2 or scrypt; AES-CBC or DES-EDE3-CBC) or PKCS#12 Triple DES`,
    );
  }
  const p = scheme.params.sequence("PBES2-params");
  const kdf = algorithm(p, "keyDerivationFunc");
  const enc = algorithm(p, "encryptionScheme");
  p.end("PBES2-params");
  const c = PBES2_CIPHERS.get(enc.oid);
  if (!c)
    throw keyFormat(
      `PKCS#8 PBES2 cipher ${enc.oid} is not supported; expected aes128-CBC, aes192-CBC, aes256-CBC or des-ede3-cbc`,
    );
  const iv = enc.params.expect(0x04, "IV");
  enc.params.end("encryptionScheme");
  if (iv.length !== c.cipher.blockSize)
    throw keyFormat(`${c.name} IV is ${iv.length} bytes; expected ${c.cipher.blockSize}`);

  let derive: (pass: Uint8Array) => Uint8Array;
  let kdfName: string;
  if (kdf.oid === OID_PBKDF2) {
    const kp = kdf.params.sequence("PBKDF2-params");
    const salt = kp.expect(0x04, "PBKDF2 salt (only a specified OCTET STRING salt is supported)");
    const iterations = smallInteger(kp, "PBKDF2 iteration count", MAX_PBKDF2_ITERATIONS);
    let hash: HashName = "sha1";
    let prfName = "hmacWithSHA1";
    if (!kp.done && peekTag(kp) === 0x02) {
      const len = smallInteger(kp, "PBKDF2 keyLength", 64);
      if (len !== c.cipher.keyLength)
        throw keyFormat(`PBKDF2 keyLength ${len} does not fit ${c.name} (${c.cipher.keyLength} bytes)`);
    }
    if (!kp.done) {
      const prf = algorithm(kp, "PBKDF2 prf");
      const h = PRFS.get(prf.oid);
      if (!h)
        throw keyFormat(
          `PBKDF2 PRF ${prf.oid} is not supported; expected hmacWithSHA1, hmacWithSHA256, hmacWithSHA384 or hmacWithSHA512`,
        );
      hash = h;
      prfName = `hmacWith${h.toUpperCase()}`;
    }
    kp.end("PBKDF2-params");
    kdfName = `PBKDF2-${prfName}, ${iterations} iterations`;
    derive = (pass) => nobleKeyFileCrypto.pbkdf2(hash, pass, salt, iterations, c.cipher.keyLength);
  } else if (kdf.oid === OID_SCRYPT) {
    const sp = kdf.params.sequence("scrypt-params");
    const salt = sp.expect(0x04, "scrypt salt");
    const N = smallInteger(sp, "scrypt costParameter", MAX_SCRYPT_N);
    const r = smallInteger(sp, "scrypt blockSize", 64);
    const pp = smallInteger(sp, "scrypt parallelizationParameter", 16);
    if (!sp.done) {
      const len = smallInteger(sp, "scrypt keyLength", 64);
      if (len !== c.cipher.keyLength)
        throw keyFormat(`scrypt keyLength ${len} does not fit ${c.name} (${c.cipher.keyLength} bytes)`);
    }
    sp.end("scrypt-params");
    if ((N & (N - 1)) !== 0 || N < 2) throw keyFormat(`scrypt costParameter ${N} is not a power of 2`);
    kdfName = `scrypt N=${N}`;
    derive = (pass) =>
      nobleKeyFileCrypto.scrypt(pass, salt, { N, r, p: pp, length: c.cipher.keyLength, maxMemory: SCRYPT_MAX_MEMORY });
  } else {
    throw keyFormat(`PBES2 key derivation ${kdf.oid} is not supported; expected PBKDF2 or scrypt`);
  }
  checkBlocks(encrypted, c.cipher.blockSize);
  if (!passphrase || passphrase.length === 0) throw needsPassphrase(name, `PKCS#8 PBES2, ${kdfName}, ${c.name}`);
  return cbcDecrypt(c.cipher, derive(passphrase), iv, encrypted, name);
}

/**
 * RFC 7292 Appendix B.2: PKCS#12's key derivation with SHA-1 (u = 20, v = 64). `id` 1 derives
 * the key, 2 the IV. The password is its BMPString (UTF-16 big-endian) with a terminating NUL.
 */
export function pkcs12Kdf(
  password: Uint8Array,
  salt: Uint8Array,
  id: 1 | 2,
  iterations: number,
  n: number,
): Uint8Array {
  const u = 20;
  const v = 64;
  const text = new TextDecoder().decode(password);
  const bmp = new Uint8Array(text.length * 2 + 2);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bmp[2 * i] = c >> 8;
    bmp[2 * i + 1] = c & 0xff;
  }
  const fill = (src: Uint8Array) => {
    const out = new Uint8Array(src.length === 0 ? 0 : v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length] as number;
    return out;
  };
  const I = Uint8Array.from([...fill(salt), ...fill(bmp)]);
  wipe(bmp);
  const D = new Uint8Array(v).fill(id);
  const out = new Uint8Array(n);
  for (let filled = 0; filled < n; ) {
    let a = nobleProvider.hash("sha1", Uint8Array.from([...D, ...I]));
    for (let r = 1; r < iterations; r++) a = nobleProvider.hash("sha1", a);
    out.set(a.subarray(0, Math.min(u, n - filled)), filled);
    filled += u;
    if (filled >= n) break;
    // I_j = (I_j + B + 1) mod 2^(8v), B being A repeated to v bytes.
    const B = fill(a);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (I[j + k] as number) + (B[k] as number) + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  wipe(I);
  return out;
}

/** RFC 7292 Appendix C: pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }. */
function decryptPkcs12Pbe(
  c: { name: string; cipher: CbcCipher },
  params: DerReader,
  encrypted: Uint8Array,
  passphrase: Uint8Array | undefined,
  name: string,
): Uint8Array {
  const p = params.sequence("pkcs-12PbeParams");
  const salt = p.expect(0x04, "PKCS#12 salt");
  const iterations = smallInteger(p, "PKCS#12 iterations", MAX_PBKDF2_ITERATIONS);
  p.end("pkcs-12PbeParams");
  checkBlocks(encrypted, c.cipher.blockSize);
  if (!passphrase || passphrase.length === 0)
    throw needsPassphrase(name, `PKCS#8 PKCS#12 ${c.name}, ${iterations} iterations`);
  const iv = pkcs12Kdf(passphrase, salt, 2, iterations, c.cipher.blockSize);
  return cbcDecrypt(c.cipher, pkcs12Kdf(passphrase, salt, 1, iterations, c.cipher.keyLength), iv, encrypted, name);
}

/** The tag of the next element, without consuming it. */
function peekTag(r: DerReader): number {
  const at = r.pos;
  const tag = r.next().tag;
  r.pos = at;
  return tag;
}
