/**
 * RSA signatures: rsa-sha2-256 and rsa-sha2-512 (RFC 8332 §3), and ssh-rsa (SHA-1, RFC 4253
 * §6.6) for verification when a user asks for it — never in the defaults. Key blob:
 * string("ssh-rsa") ‖ mpint e ‖ mpint n. The signature blob must name exactly the negotiated
 * algorithm: an ssh-rsa signature does not satisfy rsa-sha2-256 (RFC 8332 §3; docs/PROTOCOL.md, "Signatures").
 */

import { bytesToBigint } from "../crypto/bigint.ts";
import type { CryptoProvider } from "../crypto/provider.ts";
import {
  checkRsaPublic,
  RSA_MAX_BITS,
  RSA_MAX_EXPONENT_BITS,
  type RsaHash,
  type RsaPrivateKey,
  type RsaPublicKey,
  rsaPkcs1v15Sign,
  rsaPkcs1v15Verify,
} from "../crypto/rsa.ts";
import { SshError } from "../errors.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";
import { signatureBody } from "./sig-ed25519.ts";
import type { SignatureAlgorithm } from "./types.ts";

/** The RSA key type, and the SHA-1 signature algorithm of the same name (RFC 4253 §6.6). */
export const SSH_RSA = "ssh-rsa";
/** RSA signatures with SHA-256 (RFC 8332 §3). */
export const RSA_SHA2_256 = "rsa-sha2-256";
/** RSA signatures with SHA-512 (RFC 8332 §3). */
export const RSA_SHA2_512 = "rsa-sha2-512";
/** The RSA signature algorithms, by wire name. */
export type RsaSignatureName = typeof RSA_SHA2_256 | typeof RSA_SHA2_512 | typeof SSH_RSA;

export function rsaKeyFromBlob(blob: Uint8Array): RsaPublicKey {
  let key: RsaPublicKey;
  try {
    const r = new Reader(blob);
    const type = r.ascii("key type");
    if (type !== SSH_RSA) throw new SshError("KEY_FORMAT", `expected an ssh-rsa key, got ${type}`);
    // Sizes are bounded from the length fields, before any conversion or arithmetic: a
    // peer's key reaches here before authentication (issue 12, item 1).
    const e = bytesToBigint(r.mpintBytes("RSA exponent", RSA_MAX_EXPONENT_BITS / 8));
    const n = bytesToBigint(r.mpintBytes("RSA modulus", RSA_MAX_BITS / 8));
    r.done("ssh-rsa key blob");
    key = { n, e };
  } catch (err) {
    if (err instanceof SshError && err.code === "KEY_FORMAT") throw err;
    throw new SshError("KEY_FORMAT", `malformed ssh-rsa key blob: ${(err as Error).message}`);
  }
  checkRsaPublic(key);
  return key;
}

export function rsaBlob(key: RsaPublicKey): Uint8Array {
  return new Writer(600).string(SSH_RSA).mpint(key.e).mpint(key.n).bytes();
}

const HASHES: Record<string, RsaHash> = { [RSA_SHA2_256]: "sha256", [RSA_SHA2_512]: "sha512", [SSH_RSA]: "sha1" };

function make(name: string): SignatureAlgorithm {
  const hash = HASHES[name] as RsaHash;
  return {
    name,
    keyType: SSH_RSA,
    verify(provider, publicKeyBlob, data, signature) {
      const key = rsaKeyFromBlob(publicKeyBlob);
      const body = signatureBody(signature, name);
      if (!body) return false;
      return rsaPkcs1v15Verify(provider, key, hash, data, body);
    },
  };
}

export const RSA_SIGNATURES: readonly SignatureAlgorithm[] = [RSA_SHA2_512, RSA_SHA2_256, SSH_RSA].map(make);

export function signRsa(
  provider: CryptoProvider,
  key: RsaPrivateKey,
  data: Uint8Array,
  algorithm: RsaSignatureName,
): Uint8Array {
  const hash = HASHES[algorithm];
  if (!hash) throw new TypeError(`signRsa: unknown algorithm ${algorithm}`);
  return new Writer(600)
    .string(algorithm)
    .string(rsaPkcs1v15Sign(provider, key, hash, data))
    .bytes();
}
