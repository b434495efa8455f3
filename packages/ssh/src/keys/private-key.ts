/**
 * Key layer: private key files — OpenSSH `openssh-key-v1` (OpenSSH PROTOCOL.key) and PEM:
 * PKCS#1 (RFC 8017 A.1.2), SEC1 (RFC 5915) and PKCS#8 (RFC 5208/5958, RFC 8410 for Ed25519).
 * Encrypted ones are opened with a passphrase: openssh-key-v1 with bcrypt-pbkdf
 * (openssh-key-encryption.ts), PKCS#8 PBES2 or PKCS#12 Triple DES, and RFC 1421 `DEK-Info`
 * PEM (pem-encryption.ts).
 * Without a passphrase an encrypted key is KEY_ENCRYPTED naming how it is encrypted — checked
 * after the rest of the file, so a damaged file is KEY_FORMAT and nobody is asked for a
 * passphrase in vain. Every key is checked against its public half at load.
 */

import { ECDSA_CURVES, ECDSA_SHA2_PREFIX, ecdsaKeyTypeOf, signEcdsa } from "../algorithms/sig-ecdsa.ts";
import { SSH_ED25519 } from "../algorithms/sig-ed25519.ts";
import { RSA_SHA2_256, RSA_SHA2_512, rsaBlob, SSH_RSA, signRsa } from "../algorithms/sig-rsa.ts";
import { nobleProvider } from "../crypto/noble.ts";
import { type CryptoProvider, type EcCurveName, equalBytes, wipe } from "../crypto/provider.ts";
import { bitLength, checkRsaPublic, type RsaPrivateKey } from "../crypto/rsa.ts";
import { SshError } from "../errors.ts";
import { decodeBase64 } from "../wire/base64.ts";
import { Reader } from "../wire/reader.ts";
import { bigintToBytes, bytesToBigint, Writer } from "../wire/writer.ts";
import { DerReader, oidToString } from "./asn1.ts";
import { ed25519FromSeed } from "./generate.ts";
import { keyFormat, wrongPassphrase } from "./key-errors.ts";
import { decryptOpenSshSection } from "./openssh-key-encryption.ts";
import { decryptPemBody, decryptPkcs8 } from "./pem-encryption.ts";
import type { PrivateKey } from "./types.ts";

/** How `parsePrivateKey` opens a key: its passphrase, and its name for messages. */
export interface PrivateKeyOptions {
  /** Opens an encrypted key: text (as UTF-8) or bytes. Ignored for a key that is not encrypted. */
  passphrase?: string | Uint8Array | undefined;
  /** What messages call the key (a file name); "the key" by default. */
  name?: string | undefined;
}

const MAGIC = "openssh-key-v1\0";

function ed25519Key(provider: CryptoProvider, seed: Uint8Array, comment: string): PrivateKey {
  return ed25519FromSeed(provider, seed, comment);
}

function ecdsaKey(
  provider: CryptoProvider,
  curve: EcCurveName,
  d: Uint8Array,
  q: Uint8Array | undefined,
  comment: string,
): PrivateKey {
  const c = ecdsaKeyTypeOf(curve);
  const type = c.type;
  // SEC 1 §3.2.1: the private scalar is an integer in [1, n−1], so at most the curve's size.
  const first = d.findIndex((b) => b !== 0);
  if (first < 0 || d.length - first > c.size) {
    throw keyFormat(`${type} private scalar is out of range: expected 1 to ${c.size} bytes, not zero`);
  }
  const secret = bigintToBytes(bytesToBigint(d.subarray(first)), c.size);
  let derived: Uint8Array;
  try {
    derived = provider.ecdsa.publicFromSecret(curve, secret);
  } catch {
    throw keyFormat(`${type} private scalar is out of range: expected a value below the group order`);
  }
  if (q && !equalBytes(q, derived)) throw keyFormat(`${type} private key does not match its public key`);
  const blob = new Writer(200).string(type).string(c.id).string(derived).bytes();
  return {
    type,
    publicKey: { type, blob, comment },
    bits: c.bits,
    signatureAlgorithms: [type],
    sign(data, algorithm) {
      if (algorithm !== type) throw new TypeError(`a ${type} key cannot sign with ${algorithm}`);
      return signEcdsa(provider, curve, secret, data);
    },
    dispose: () => wipe(secret),
  };
}

function rsaKey(provider: CryptoProvider, k: RsaPrivateKey, comment: string): PrivateKey {
  checkRsaPublic(k);
  // Sizes first, so that no arithmetic below runs on numbers larger than the modulus.
  if (k.p <= 1n || k.q <= 1n || k.p >= k.n || k.q >= k.n) {
    throw keyFormat("RSA private key is inconsistent: p and q must lie between 1 and n");
  }
  if (k.d <= 1n || k.d >= k.n) throw keyFormat("RSA private key is inconsistent: d must lie between 1 and n");
  if (k.iqmp <= 0n || k.iqmp >= k.p) throw keyFormat("RSA private key is inconsistent: iqmp must lie between 0 and p");
  if (k.p * k.q !== k.n) throw keyFormat("RSA private key is inconsistent: p·q ≠ n");
  if ((k.iqmp * k.q) % k.p !== 1n) throw keyFormat("RSA private key is inconsistent: iqmp is not q⁻¹ mod p");
  // RFC 8017 §3.2: e·d ≡ 1 mod λ(n); checking it mod p−1 and q−1 is the same and needs no lcm.
  if ((k.e * k.d) % (k.p - 1n) !== 1n || (k.e * k.d) % (k.q - 1n) !== 1n) {
    throw keyFormat("RSA private key is inconsistent: d is not the inverse of e");
  }
  const key = { ...k };
  return {
    type: SSH_RSA,
    publicKey: { type: SSH_RSA, blob: rsaBlob(k), comment },
    bits: bitLength(k.n),
    // RFC 8332: never SHA-1 unless asked.
    signatureAlgorithms: [RSA_SHA2_512, RSA_SHA2_256],
    sign(data, algorithm) {
      if (algorithm !== RSA_SHA2_512 && algorithm !== RSA_SHA2_256 && algorithm !== SSH_RSA) {
        throw new TypeError(`an RSA key cannot sign with ${algorithm}`);
      }
      return signRsa(provider, key, data, algorithm);
    },
    dispose() {
      key.d = 0n;
      key.p = 0n;
      key.q = 0n;
    },
  };
}

/** OpenSSH PROTOCOL.key. */
function parseOpenSsh(
  body: Uint8Array,
  provider: CryptoProvider,
  passphrase: Uint8Array | undefined,
  name: string,
): PrivateKey {
  const magic = new TextEncoder().encode(MAGIC);
  if (body.length < magic.length || !equalBytes(body.subarray(0, magic.length), magic)) {
    throw keyFormat('not an openssh-key-v1 key: missing "openssh-key-v1" magic');
  }
  let section: Uint8Array | undefined;
  try {
    const r = new Reader(body, magic.length);
    const cipherName = r.ascii("cipher name");
    const kdfName = r.ascii("kdf name");
    const kdfOptions = r.string("kdf options");
    const n = r.uint32("number of keys");
    if (n !== 1) throw keyFormat(`openssh key file holds ${n} keys; expected 1`);
    const pubBlob = r.string("public key");
    const stored = r.string("private section");
    const encrypted = cipherName !== "none";
    if (encrypted) {
      section = decryptOpenSshSection(
        { cipherName, kdfName, kdfOptions, encrypted: stored, readTag: (len) => r.raw(len, "authentication tag") },
        passphrase,
        name,
      );
    } else if (kdfName !== "none") {
      throw keyFormat(`openssh key names KDF ${JSON.stringify(kdfName)} but cipher none`);
    }
    r.done("openssh key file");
    const priv = new Reader(section ?? stored);
    const check1 = priv.uint32("check-int");
    const check2 = priv.uint32("check-int");
    // PROTOCOL.key: equal check-ints are how a CTR or CBC decryption shows the passphrase was right.
    if (check1 !== check2)
      throw encrypted ? wrongPassphrase(name) : keyFormat("openssh key check-ints differ (corrupt key)");
    const type = priv.ascii("key type");
    let key: PrivateKey;
    if (type === SSH_ED25519) {
      const pub = priv.string("ed25519 public key");
      const sk = priv.string("ed25519 private key");
      if (pub.length !== 32 || sk.length !== 64 || !equalBytes(sk.subarray(32), pub))
        throw keyFormat("malformed ed25519 private key");
      const comment = priv.utf8("comment");
      key = ed25519Key(provider, sk.subarray(0, 32), comment);
      if (!equalBytes(key.publicKey.blob.subarray(19), pub))
        throw keyFormat("ed25519 private key does not match its public key");
    } else if (type.startsWith(ECDSA_SHA2_PREFIX)) {
      const c = ECDSA_CURVES[type];
      if (!c) throw keyFormat(`unsupported key type ${type}`);
      const id = priv.ascii("curve");
      if (id !== c.id) throw keyFormat(`${type} key names curve ${id}`);
      const q = priv.string("ECDSA public point");
      const d = priv.mpintBytes("ECDSA private scalar");
      key = ecdsaKey(provider, c.curve, d, q, priv.utf8("comment"));
    } else if (type === SSH_RSA) {
      const n = bytesToBigint(priv.mpintBytes("n"));
      const e = bytesToBigint(priv.mpintBytes("e"));
      const d = bytesToBigint(priv.mpintBytes("d"));
      const iqmp = bytesToBigint(priv.mpintBytes("iqmp"));
      const p = bytesToBigint(priv.mpintBytes("p"));
      const q = bytesToBigint(priv.mpintBytes("q"));
      key = rsaKey(provider, { n, e, d, p, q, iqmp }, priv.utf8("comment"));
    } else {
      throw keyFormat(
        `unsupported key type ${JSON.stringify(type)}; expected ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa`,
      );
    }
    // PROTOCOL.key: padding 1, 2, 3, … to the block size.
    const pad = priv.rest();
    for (let i = 0; i < pad.length; i++) if (pad[i] !== i + 1) throw keyFormat("openssh key has bad padding");
    if (!equalBytes(pubBlob, key.publicKey.blob))
      throw keyFormat("openssh key's public and private halves do not match");
    return key;
  } catch (err) {
    if (err instanceof SshError && (err.code === "KEY_FORMAT" || err.code === "KEY_ENCRYPTED")) throw err;
    throw keyFormat(`malformed openssh-key-v1 key: ${(err as Error).message}`);
  } finally {
    section?.fill(0);
  }
}

const CURVE_OIDS: Record<string, EcCurveName> = {
  "1.2.840.10045.3.1.7": "p256",
  "1.3.132.0.34": "p384",
  "1.3.132.0.35": "p521",
};

/** RFC 8017 A.1.2 RSAPrivateKey. */
function parsePkcs1(der: Uint8Array, provider: CryptoProvider): PrivateKey {
  const s = new DerReader(der).sequence("RSAPrivateKey");
  if (s.integer("version") !== 0n)
    throw keyFormat("unsupported RSAPrivateKey version (multi-prime keys are not supported)");
  const n = s.integer("n");
  const e = s.integer("e");
  const d = s.integer("d");
  const p = s.integer("p");
  const q = s.integer("q");
  s.integer("dP");
  s.integer("dQ");
  const iqmp = s.integer("qInv");
  s.end("RSAPrivateKey");
  return rsaKey(provider, { n, e, d, p, q, iqmp }, "");
}

/** RFC 5915 ECPrivateKey; `curve` from PKCS#8 parameters when absent here. */
function parseSec1(der: Uint8Array, provider: CryptoProvider, outerCurve?: EcCurveName): PrivateKey {
  const s = new DerReader(der).sequence("ECPrivateKey");
  if (s.integer("version") !== 1n) throw keyFormat("unsupported ECPrivateKey version");
  const d = s.expect(0x04, "privateKey");
  let curve = outerCurve;
  let q: Uint8Array | undefined;
  while (!s.done) {
    const e = s.next();
    if (e.tag === 0xa0) {
      const oid = oidToString(new DerReader(e.value).expect(0x06, "curve OID"));
      curve = CURVE_OIDS[oid];
      if (!curve) throw keyFormat(`unsupported EC curve ${oid}; expected P-256, P-384 or P-521`);
    } else if (e.tag === 0xa1) {
      const bits = new DerReader(e.value).expect(0x03, "publicKey");
      if (bits[0] !== 0) throw keyFormat("EC public key BIT STRING has unused bits");
      q = bits.subarray(1);
    }
  }
  if (!curve) throw keyFormat("EC private key does not name its curve");
  return ecdsaKey(provider, curve, d, q, "");
}

/** RFC 5208/5958 PrivateKeyInfo. */
function parsePkcs8(der: Uint8Array, provider: CryptoProvider): PrivateKey {
  const s = new DerReader(der).sequence("PrivateKeyInfo");
  const version = s.integer("version");
  if (version > 1n) throw keyFormat(`unsupported PKCS#8 version ${version}`);
  const alg = s.sequence("AlgorithmIdentifier");
  const oid = oidToString(alg.expect(0x06, "algorithm OID"));
  const keyBytes = s.expect(0x04, "privateKey");
  if (oid === "1.2.840.113549.1.1.1") return parsePkcs1(keyBytes, provider);
  if (oid === "1.2.840.10045.2.1") {
    const curveOid = oidToString(alg.expect(0x06, "curve OID"));
    const curve = CURVE_OIDS[curveOid];
    if (!curve) throw keyFormat(`unsupported EC curve ${curveOid}; expected P-256, P-384 or P-521`);
    return parseSec1(keyBytes, provider, curve);
  }
  if (oid === "1.3.101.112") {
    // RFC 8410 §7: CurvePrivateKey ::= OCTET STRING (the 32-byte seed).
    const seed = new DerReader(keyBytes).expect(0x04, "CurvePrivateKey");
    if (seed.length !== 32) throw keyFormat(`Ed25519 private key is ${seed.length} bytes; expected 32`);
    return ed25519Key(provider, seed, "");
  }
  throw keyFormat(`unsupported PKCS#8 key algorithm ${oid}; expected RSA, EC or Ed25519`);
}

/** RFC 1421 §4.4: header lines, then a blank line, then the base64 body. */
function splitPemHeaders(text: string): { headers: Map<string, string>; body: string } {
  const headers = new Map<string, string>();
  if (!/^[A-Za-z-]+:/.test(text.trimStart())) return { headers, body: text };
  const lines = text.split(/\r?\n/);
  let i = 0;
  while (i < lines.length && lines[i]?.trim() === "") i++;
  for (; i < lines.length && (lines[i] as string).trim() !== ""; i++) {
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(lines[i] as string);
    if (m) headers.set((m[1] as string).toLowerCase(), (m[2] as string).trim());
  }
  return { headers, body: lines.slice(i).join("\n") };
}

/**
 * Parses a private key file's text; `options.passphrase` opens an encrypted one. Throws
 * `SshError` KEY_FORMAT (damaged, or a kind we do not read) or KEY_ENCRYPTED (no passphrase
 * given, or "incorrect passphrase for …").
 */
export function parsePrivateKey(
  text: string,
  provider: CryptoProvider = nobleProvider,
  options: PrivateKeyOptions = {},
): PrivateKey {
  const name = options.name ?? "the key";
  const passphrase =
    typeof options.passphrase === "string" ? new TextEncoder().encode(options.passphrase) : options.passphrase;
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw keyFormat("not a private key file: no -----BEGIN … PRIVATE KEY----- block");
  const label = m[1] as string;
  const { headers, body: bodyText } = splitPemHeaders(m[2] as string);
  let body: Uint8Array;
  try {
    body = decodeBase64(bodyText.replace(/\s+/g, ""));
  } catch (err) {
    throw keyFormat(`${label}: ${(err as Error).message}`);
  }
  let plain: Uint8Array | undefined;
  try {
    if (label === "OPENSSH PRIVATE KEY") return parseOpenSsh(body, provider, passphrase, name);
    if (label === "ENCRYPTED PRIVATE KEY") {
      plain = decryptPkcs8(body, passphrase, name);
      return parsePkcs8(plain, provider);
    }
    const procType = headers.get("proc-type");
    if (procType !== undefined) {
      if (!/^4,\s*ENCRYPTED$/i.test(procType))
        throw keyFormat(`unsupported PEM Proc-Type ${JSON.stringify(procType)}; expected 4,ENCRYPTED`);
      const dek = headers.get("dek-info");
      if (dek === undefined) throw keyFormat("PEM Proc-Type 4,ENCRYPTED without a DEK-Info header");
      if (label !== "RSA PRIVATE KEY" && label !== "EC PRIVATE KEY")
        throw keyFormat(`unsupported encrypted key file type "${label}"; expected RSA or EC PRIVATE KEY`);
      plain = decryptPemBody(dek, body, passphrase, name);
      body = plain;
    }
    if (label === "RSA PRIVATE KEY") return parsePkcs1(body, provider);
    if (label === "EC PRIVATE KEY") return parseSec1(body, provider);
    if (label === "PRIVATE KEY") return parsePkcs8(body, provider);
  } catch (err) {
    // Past a good padding and a whole DER SEQUENCE, a structure we cannot read is still more
    // likely a wrong passphrase (1 in 2⁴⁰ or so) than a damaged file that decrypts cleanly.
    if (plain && err instanceof SshError && err.code === "KEY_FORMAT" && err.message.startsWith("malformed DER"))
      throw wrongPassphrase(name);
    throw err;
  } finally {
    plain?.fill(0);
  }
  throw keyFormat(`unsupported key file type "${label}"; expected OPENSSH, RSA, EC, PKCS#8 or ENCRYPTED PRIVATE KEY`);
}

/**
 * The public key an `openssh-key-v1` file carries in the clear (OpenSSH PROTOCOL.key: before
 * the private section, encrypted or not) — how ssh matches a key file to an agent's key or
 * offers it without asking for a passphrase. Undefined for PEM files (their public half is
 * inside the encryption) and for anything we cannot read.
 */
export function openSshPublicKeyBlob(text: string): Uint8Array | undefined {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----\r?\n([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!m) return undefined;
  try {
    const body = decodeBase64((m[1] as string).replace(/\s+/g, ""));
    const magic = new TextEncoder().encode(MAGIC);
    if (body.length < magic.length || !equalBytes(body.subarray(0, magic.length), magic)) return undefined;
    const r = new Reader(body, magic.length);
    r.string("cipher name");
    r.string("kdf name");
    r.string("kdf options");
    if (r.uint32("number of keys") !== 1) return undefined;
    return r.string("public key").slice();
  } catch {
    return undefined;
  }
}
