/**
 * Private key files: OpenSSH `openssh-key-v1` (OpenSSH PROTOCOL.key) and PEM — PKCS#1
 * (RFC 8017 A.1.2), SEC1 (RFC 5915) and PKCS#8 (RFC 5208/5958, RFC 8410 for Ed25519) — when
 * unencrypted. An encrypted key gets a one-line KEY_ENCRYPTED error (a later issue decrypts).
 * Every key is checked against its public half at load.
 */
import { ECDSA_CURVES, signEcdsa } from "../algorithms/sig-ecdsa.ts";
import { rsaBlob, signRsa } from "../algorithms/sig-rsa.ts";
import { nobleProvider } from "../crypto/noble.ts";
import { type CryptoProvider, type EcCurveName, equalBytes, wipe } from "../crypto/provider.ts";
import { bitLength, checkRsaPublic, type RsaPrivateKey } from "../crypto/rsa.ts";
import { SshError } from "../errors.ts";
import { decodeBase64 } from "../wire/base64.ts";
import { Reader } from "../wire/reader.ts";
import { bigintToBytes, bytesToBigint, Writer } from "../wire/writer.ts";
import { DerReader, oidToString } from "./asn1.ts";
import { ed25519FromSeed } from "./generate.ts";
import type { KeyType, PrivateKey } from "./types.ts";

const keyFormat = (m: string) => new SshError("KEY_FORMAT", m);
const encrypted = (how: string) =>
  new SshError(
    "KEY_ENCRYPTED",
    `the key is encrypted (${how}); encrypted keys are not supported yet — decrypt a copy with ssh-keygen -p, or use an unencrypted key`,
  );

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
  const type = Object.keys(ECDSA_CURVES).find((t) => ECDSA_CURVES[t]?.curve === curve) as KeyType;
  const c = ECDSA_CURVES[type] as { id: string; size: number };
  const secret = bigintToBytes(bytesToBigint(d), c.size);
  const derived = provider.ecdsa.publicFromSecret(curve, secret);
  if (q && !equalBytes(q, derived)) throw keyFormat(`${type} private key does not match its public key`);
  const blob = new Writer(200).string(type).string(c.id).string(derived).bytes();
  return {
    type,
    publicKey: { type, blob, comment },
    bits: curve === "p521" ? 521 : c.size * 8,
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
  if (k.p * k.q !== k.n) throw keyFormat("RSA private key is inconsistent: p·q ≠ n");
  if ((k.iqmp * k.q) % k.p !== 1n) throw keyFormat("RSA private key is inconsistent: iqmp is not q⁻¹ mod p");
  const key = { ...k };
  return {
    type: "ssh-rsa",
    publicKey: { type: "ssh-rsa", blob: rsaBlob(k), comment },
    bits: bitLength(k.n),
    // RFC 8332: never SHA-1 unless asked.
    signatureAlgorithms: ["rsa-sha2-512", "rsa-sha2-256"],
    sign(data, algorithm) {
      if (algorithm !== "rsa-sha2-512" && algorithm !== "rsa-sha2-256" && algorithm !== "ssh-rsa") {
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
function parseOpenSsh(body: Uint8Array, provider: CryptoProvider): PrivateKey {
  const magic = new TextEncoder().encode(MAGIC);
  if (body.length < magic.length || !equalBytes(body.subarray(0, magic.length), magic)) {
    throw keyFormat('not an openssh-key-v1 key: missing "openssh-key-v1" magic');
  }
  try {
    const r = new Reader(body, magic.length);
    const cipher = r.ascii("cipher name");
    const kdf = r.ascii("kdf name");
    r.string("kdf options");
    if (cipher !== "none" || kdf !== "none") throw encrypted(`${cipher}, ${kdf}`);
    const n = r.uint32("number of keys");
    if (n !== 1) throw keyFormat(`openssh key file holds ${n} keys; expected 1`);
    const pubBlob = r.string("public key");
    const priv = new Reader(r.string("private section"));
    r.done("openssh key file");
    const check1 = priv.uint32("check-int");
    const check2 = priv.uint32("check-int");
    if (check1 !== check2) throw keyFormat("openssh key check-ints differ (corrupt or wrongly decrypted key)");
    const type = priv.ascii("key type");
    let key: PrivateKey;
    if (type === "ssh-ed25519") {
      const pub = priv.string("ed25519 public key");
      const sk = priv.string("ed25519 private key");
      if (pub.length !== 32 || sk.length !== 64 || !equalBytes(sk.subarray(32), pub))
        throw keyFormat("malformed ed25519 private key");
      const comment = priv.utf8("comment");
      key = ed25519Key(provider, sk.subarray(0, 32), comment);
      if (!equalBytes(key.publicKey.blob.subarray(19), pub))
        throw keyFormat("ed25519 private key does not match its public key");
    } else if (type.startsWith("ecdsa-sha2-")) {
      const c = ECDSA_CURVES[type];
      if (!c) throw keyFormat(`unsupported key type ${type}`);
      const id = priv.ascii("curve");
      if (id !== c.id) throw keyFormat(`${type} key names curve ${id}`);
      const q = priv.string("ECDSA public point");
      const d = priv.mpintBytes("ECDSA private scalar");
      key = ecdsaKey(provider, c.curve, d, q, priv.utf8("comment"));
    } else if (type === "ssh-rsa") {
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

/** Parses a private key file's text. Throws `SshError` KEY_FORMAT / KEY_ENCRYPTED. */
export function parsePrivateKey(text: string, provider: CryptoProvider = nobleProvider): PrivateKey {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw keyFormat("not a private key file: no -----BEGIN … PRIVATE KEY----- block");
  const label = m[1] as string;
  let bodyText = m[2] as string;
  if (label === "ENCRYPTED PRIVATE KEY") throw encrypted("PKCS#8 encryption");
  if (/^Proc-Type:\s*4,ENCRYPTED/m.test(bodyText)) {
    const dek = /^DEK-Info:\s*([^,\s]+)/m.exec(bodyText);
    throw encrypted(`PEM ${dek?.[1] ?? "encryption"}`);
  }
  // Drop RFC 1421 headers if any.
  if (/^[A-Za-z-]+:/m.test(bodyText))
    bodyText = bodyText
      .split(/\r?\n\r?\n/)
      .slice(1)
      .join("\n");
  let body: Uint8Array;
  try {
    body = decodeBase64(bodyText.replace(/\s+/g, ""));
  } catch (err) {
    throw keyFormat(`${label}: ${(err as Error).message}`);
  }
  if (label === "OPENSSH PRIVATE KEY") return parseOpenSsh(body, provider);
  if (label === "RSA PRIVATE KEY") return parsePkcs1(body, provider);
  if (label === "EC PRIVATE KEY") return parseSec1(body, provider);
  if (label === "PRIVATE KEY") return parsePkcs8(body, provider);
  throw keyFormat(`unsupported key file type "${label}"; expected OPENSSH, RSA, EC or PKCS#8 PRIVATE KEY`);
}
