/**
 * OpenSSH certificates (OpenSSH PROTOCOL.certkeys): `ssh-ed25519-cert-v01@openssh.com`,
 * `ecdsa-sha2-nistp{256,384,521}-cert-v01@openssh.com` and `ssh-rsa-cert-v01@openssh.com`.
 *
 *   string type, string nonce, <the key's own fields, as in its RFC 4253 §6.6 blob>,
 *   uint64 serial, uint32 type (1 user, 2 host), string key id, string valid principals,
 *   uint64 valid after, uint64 valid before, string critical options, string extensions,
 *   string reserved, string signature key, string signature
 *
 * The CA's signature covers every byte before the signature field. Critical options and
 * extensions are (string name, string data) pairs, each name once; principals a sequence of
 * strings. The signature key must be a plain key (PROTOCOL.certkeys: chained certificates are
 * not supported). A certificate signs as the key inside it: the signature over the exchange
 * hash or the user-auth request names the plain algorithm (ssh-ed25519, rsa-sha2-512, …).
 *
 * `decodeCertificate` checks the structure only (what `parsePublicKeyBlob` needs for any
 * blob); `parseCertificate` also checks the CA's signature, and `certificateProblem` whether
 * the certificate is valid for a use (role, principal, time) — what a trust decision needs.
 */
import {
  ECDSA_SHA2_NISTP256,
  ECDSA_SHA2_NISTP384,
  ECDSA_SHA2_NISTP521,
  ecdsaPointFromBlob,
} from "../algorithms/sig-ecdsa.ts";
import { ed25519KeyFromBlob, SSH_ED25519 } from "../algorithms/sig-ed25519.ts";
import { RSA_SHA2_256, RSA_SHA2_512, rsaKeyFromBlob, SSH_RSA } from "../algorithms/sig-rsa.ts";
import type { SignatureAlgorithm } from "../algorithms/types.ts";
import { type CryptoProvider, equalBytes } from "../crypto/provider.ts";
import { SshError } from "../errors.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";
import { KEY_TYPES, type KeyType, type PrivateKey } from "./types.ts";

export const CERT_SUFFIX = "-cert-v01@openssh.com";

/** The OpenSSH certificate key types (PROTOCOL.certkeys): each plain key type with CERT_SUFFIX. */
export type CertificateType = `${KeyType}${typeof CERT_SUFFIX}`;

/** Certificate type → the key type inside it. */
export const CERTIFICATE_TYPES: ReadonlyMap<CertificateType, KeyType> = new Map(
  KEY_TYPES.map((plain) => [`${plain}${CERT_SUFFIX}` as const, plain]),
);

/** Is this key type an OpenSSH certificate type? */
export function isCertificateType(type: string): type is CertificateType {
  return CERTIFICATE_TYPES.has(type as CertificateType);
}

/** `ssh-ed25519` → `ssh-ed25519-cert-v01@openssh.com`; likewise a signature algorithm (rsa-sha2-512 → rsa-sha2-512-cert-v01@openssh.com). */
export function certificateName(plain: string): string {
  return `${plain}${CERT_SUFFIX}`;
}

/** `rsa-sha2-512-cert-v01@openssh.com` → `rsa-sha2-512`; a plain name is returned as it is. */
export function plainName(name: string): string {
  return name.endsWith(CERT_SUFFIX) ? name.slice(0, -CERT_SUFFIX.length) : name;
}

/** PROTOCOL.certkeys: the certificate type field. */
export const CERT_ROLE = { user: 1, host: 2 } as const;
export type CertificateRole = keyof typeof CERT_ROLE;

/** "valid before" meaning forever (PROTOCOL.certkeys: 0xffffffffffffffff). */
export const CERT_FOREVER = 0xffff_ffff_ffff_ffffn;

/** Most principals read from one certificate (a peer's bytes, before any trust). */
export const MAX_CERT_PRINCIPALS = 256;
/** Most critical options or extensions read from one certificate. */
export const MAX_CERT_OPTIONS = 64;

export interface CertificateOption {
  readonly name: string;
  /** The data field as carried: empty for flags, else a `string` holding the value. */
  readonly data: Uint8Array;
}

/** An OpenSSH certificate, decoded (PROTOCOL.certkeys); `certificateProblem` says whether it holds. */
export interface Certificate {
  /** The certificate type, e.g. `ssh-ed25519-cert-v01@openssh.com`. */
  readonly type: CertificateType;
  /** The whole certificate blob, as sent. */
  readonly blob: Uint8Array;
  /** The type of the key certified. */
  readonly keyType: KeyType;
  /** The key certified, as its plain RFC 4253 §6.6 blob (rebuilt from the certificate's key fields). */
  readonly keyBlob: Uint8Array;
  /** The serial number the CA gave it. */
  readonly serial: bigint;
  /** Whether it certifies a user or a host key (the certificate type field: 1 user, 2 host). */
  readonly role: CertificateRole;
  /** The key id: free-form text the CA chose to identify the certificate in logs. */
  readonly keyId: string;
  /** The user or host names it is valid for; empty: any, where the use allows that (`certificateProblem`). */
  readonly principals: readonly string[];
  /** Seconds since the epoch. */
  readonly validAfter: bigint;
  /** Seconds since the epoch, not included; `CERT_FOREVER` for no end. */
  readonly validBefore: bigint;
  /**
   * Restrictions (e.g. `force-command`, `source-address`); a verifier refuses a certificate
   * with one it does not know.
   */
  readonly criticalOptions: readonly CertificateOption[];
  /** Permissions granted (e.g. `permit-port-forwarding`); a verifier ignores those it does not know. */
  readonly extensions: readonly CertificateOption[];
  /** The CA's plain key blob. */
  readonly signatureKey: Uint8Array;
  /** The CA key's type (a plain type: chained certificates are refused). */
  readonly signatureKeyType: KeyType;
  /** The signature algorithm the CA used (the name inside the signature blob). */
  readonly signatureAlgorithm: string;
  /** The CA's signature blob. */
  readonly signature: Uint8Array;
  /** The bytes the CA's signature covers: the blob up to the signature field. */
  readonly signed: Uint8Array;
}

const bad = (m: string) => new SshError("KEY_FORMAT", `certificate: ${m}`);

/** The number of fields the plain key carries after its type (PROTOCOL.certkeys). */
function keyFieldKinds(plain: KeyType): ("string" | "mpint")[] {
  if (plain === SSH_ED25519) return ["string"];
  if (plain === SSH_RSA) return ["mpint", "mpint"];
  return ["string", "string"];
}

/** Validates a plain key blob of `type` (throws KEY_FORMAT naming what is wrong). */
function checkPlainKey(type: KeyType, blob: Uint8Array): void {
  if (type === SSH_ED25519) ed25519KeyFromBlob(blob);
  else if (type === SSH_RSA) rsaKeyFromBlob(blob);
  else ecdsaPointFromBlob(blob, type);
}

function readOptions(r: Reader, what: string): CertificateOption[] {
  const sub = new Reader(r.string(what));
  const out: CertificateOption[] = [];
  while (sub.remaining > 0) {
    if (out.length >= MAX_CERT_OPTIONS) throw bad(`more than ${MAX_CERT_OPTIONS} ${what}`);
    const name = sub.ascii(`${what} name`);
    const data = sub.string(`${what} data for ${JSON.stringify(name.slice(0, 40))}`);
    // PROTOCOL.certkeys: "Each named option may only appear once in a certificate."
    if (out.some((o) => o.name === name)) throw bad(`${what} name ${JSON.stringify(name.slice(0, 40))} appears twice`);
    out.push({ name, data: data.slice() });
  }
  return out;
}

function readPrincipals(r: Reader): string[] {
  const sub = new Reader(r.string("valid principals"));
  const out: string[] = [];
  while (sub.remaining > 0) {
    if (out.length >= MAX_CERT_PRINCIPALS) throw bad(`more than ${MAX_CERT_PRINCIPALS} principals`);
    out.push(sub.utf8("principal"));
  }
  return out;
}

/**
 * Decodes a certificate blob and checks its structure: a known type, the key inside sound,
 * a certificate type of user or host, option lists well formed, a plain CA key, no trailing
 * bytes. Does not check the CA's signature (`parseCertificate` does). Throws `SshError`
 * KEY_FORMAT naming what was wrong and what was expected.
 */
export function decodeCertificate(blob: Uint8Array): Certificate {
  try {
    const r = new Reader(blob);
    const type = r.ascii("certificate type");
    const keyType = CERTIFICATE_TYPES.get(type as CertificateType);
    if (!keyType)
      throw bad(
        `unknown type ${JSON.stringify(type.slice(0, 60))}; expected one of ${[...CERTIFICATE_TYPES.keys()].join(", ")}`,
      );
    r.string("nonce");
    const fieldsStart = r.pos;
    for (const kind of keyFieldKinds(keyType)) {
      if (kind === "string") r.string("key field");
      else r.mpintBytes("key field", 2048);
    }
    const keyBlob = new Writer(64 + r.pos - fieldsStart).string(keyType).raw(blob.subarray(fieldsStart, r.pos)).bytes();
    checkPlainKey(keyType, keyBlob);
    const serial = r.uint64("serial");
    const roleNumber = r.uint32("certificate role");
    const role = roleNumber === CERT_ROLE.user ? "user" : roleNumber === CERT_ROLE.host ? "host" : undefined;
    if (!role) throw bad(`role is ${roleNumber}; expected 1 (user) or 2 (host)`);
    const keyId = r.utf8("key id");
    const principals = readPrincipals(r);
    const validAfter = r.uint64("valid after");
    const validBefore = r.uint64("valid before");
    const criticalOptions = readOptions(r, "critical option");
    const extensions = readOptions(r, "extension");
    r.string("reserved");
    const signatureKey = r.string("signature key").slice();
    const signed = blob.slice(0, r.pos);
    const signature = r.string("signature").slice();
    r.done("certificate");
    let caType: string;
    try {
      caType = new Reader(signatureKey).ascii("CA key type");
    } catch {
      throw bad("the signature key has no type");
    }
    if (isCertificateType(caType)) throw bad("the signature key is itself a certificate (chains are not supported)");
    if (![...CERTIFICATE_TYPES.values()].includes(caType as KeyType))
      throw bad(`the signature key is of unsupported type ${JSON.stringify(caType.slice(0, 60))}`);
    try {
      checkPlainKey(caType as KeyType, signatureKey);
    } catch (err) {
      throw bad(`signature key: ${(err as Error).message}`);
    }
    let signatureAlgorithm: string;
    try {
      signatureAlgorithm = new Reader(signature).ascii("signature algorithm");
    } catch {
      throw bad("the signature has no algorithm name");
    }
    return {
      type: type as CertificateType,
      blob: blob.slice(),
      keyType,
      keyBlob,
      serial,
      role,
      keyId,
      principals,
      validAfter,
      validBefore,
      criticalOptions,
      extensions,
      signatureKey,
      signatureKeyType: caType as KeyType,
      signatureAlgorithm,
      signature,
      signed,
    };
  } catch (err) {
    if (err instanceof SshError && err.code === "KEY_FORMAT") throw err;
    throw bad((err as Error).message);
  }
}

/**
 * The CA signature algorithms accepted (OpenSSH's CASignatureAlgorithms default since 8.2:
 * no SHA-1 `ssh-rsa`).
 */
export const CA_SIGNATURE_ALGORITHMS: readonly string[] = [
  SSH_ED25519,
  ECDSA_SHA2_NISTP256,
  ECDSA_SHA2_NISTP384,
  ECDSA_SHA2_NISTP521,
  RSA_SHA2_512,
  RSA_SHA2_256,
];

/**
 * Decodes a certificate and checks the CA's signature over it, with `algorithms` the
 * signature registry (hostkey.ts). Throws `SshError` KEY_FORMAT for a malformed certificate,
 * BAD_SIGNATURE for a signature that does not verify or uses an algorithm not accepted.
 */
export function parseCertificate(
  blob: Uint8Array,
  provider: CryptoProvider,
  algorithms: ReadonlyMap<string, SignatureAlgorithm>,
): Certificate {
  const cert = decodeCertificate(blob);
  const alg = algorithms.get(cert.signatureAlgorithm);
  if (!CA_SIGNATURE_ALGORITHMS.includes(cert.signatureAlgorithm) || !alg)
    throw new SshError(
      "BAD_SIGNATURE",
      `certificate is signed with ${JSON.stringify(cert.signatureAlgorithm.slice(0, 60))}; accepted: ${CA_SIGNATURE_ALGORITHMS.join(", ")}`,
    );
  if (alg.keyType !== cert.signatureKeyType)
    throw new SshError(
      "BAD_SIGNATURE",
      `certificate signature is ${cert.signatureAlgorithm} but the CA key is ${cert.signatureKeyType}`,
    );
  if (!alg.verify(provider, cert.signatureKey, cert.signed, cert.signature))
    throw new SshError("BAD_SIGNATURE", "certificate's CA signature does not verify");
  return cert;
}

/** Seconds since the epoch as a UTC time, for messages ("forever" for the maximum). */
export function formatCertificateTime(t: bigint): string {
  if (t === CERT_FOREVER) return "forever";
  if (t > 8_640_000_000_000n) return `${t} (seconds since 1970)`;
  return new Date(Number(t) * 1000).toISOString().replace(".000Z", "Z");
}

export interface CertificateUse {
  role: CertificateRole;
  /**
   * The name the certificate must list: the login name (user certificates) or the host name
   * (host certificates). An empty principal list means any principal only when
   * `requirePrincipal` is false (OpenSSH: host certificates; never for user certificates).
   */
  principal: string;
  requirePrincipal: boolean;
  /** Seconds since the epoch. */
  now: number;
}

/**
 * Why the certificate is not valid for this use, in one phrase, or undefined when it is —
 * OpenSSH's rules (sshkey_cert_check_authority): the role, valid after ≤ now < valid before,
 * the principal listed.
 */
export function certificateProblem(cert: Certificate, use: CertificateUse): string | undefined {
  if (cert.role !== use.role) return `it is a ${cert.role} certificate, not a ${use.role} certificate`;
  const now = BigInt(Math.floor(use.now));
  if (now < cert.validAfter) return `it is not valid before ${formatCertificateTime(cert.validAfter)}`;
  if (now >= cert.validBefore) return `it expired at ${formatCertificateTime(cert.validBefore)}`;
  if (cert.principals.length === 0) return use.requirePrincipal ? "it lists no principals" : undefined;
  if (!cert.principals.includes(use.principal)) {
    const list = cert.principals.slice(0, 8).map((p) => JSON.stringify(p.slice(0, 64)));
    const more = cert.principals.length > 8 ? ", …" : "";
    return `${JSON.stringify(use.principal)} is not among its principals (${list.join(", ")}${more})`;
  }
  return undefined;
}

/** The value a critical option carries (`string` inside its data), or undefined when malformed. */
export function certificateOptionValue(option: CertificateOption): string | undefined {
  try {
    const r = new Reader(option.data);
    const v = r.utf8("option value");
    r.done("option data");
    return v;
  } catch {
    return undefined;
  }
}

/**
 * The signature algorithm `<plain>-cert-v01@openssh.com` (PROTOCOL.certkeys): the key is a
 * certificate of `certType`; the signature is made, and checked, as the plain algorithm by the
 * key inside. The CA's signature is not checked here: trust is the caller's decision
 * (`parseCertificate`, `certificateProblem`).
 */
export function certificateSignature(plain: SignatureAlgorithm, certType: CertificateType): SignatureAlgorithm {
  return {
    name: certificateName(plain.name),
    keyType: certType,
    verify(provider, publicKeyBlob, data, signature) {
      const cert = decodeCertificate(publicKeyBlob);
      if (cert.type !== certType)
        throw new SshError("KEY_FORMAT", `expected a ${certType} certificate, got ${cert.type}`);
      return plain.verify(provider, cert.keyBlob, data, signature);
    },
  };
}

/**
 * A private key presented with its certificate: the public key sent is the certificate, its
 * algorithms the certificate forms of the key's own, and it signs as the plain key
 * (PROTOCOL.certkeys). `tunnel serve --host-certificate` offers its host key so. Throws
 * `SshError` KEY_FORMAT when the certificate does not certify this key.
 */
export function certifiedKey(key: PrivateKey, certificate: Certificate, comment = ""): PrivateKey {
  if (certificate.keyType !== key.type || !equalBytes(certificate.keyBlob, key.publicKey.blob))
    throw new SshError(
      "KEY_FORMAT",
      `the certificate (${certificate.type}) certifies another key than this ${key.type} key`,
    );
  return {
    type: key.type,
    publicKey: { type: certificate.type, blob: certificate.blob, comment },
    bits: key.bits,
    signatureAlgorithms: key.signatureAlgorithms.map(certificateName),
    sign: (data, algorithm) => key.sign(data, plainName(algorithm)),
    dispose: () => key.dispose(),
  };
}
