/**
 * Public keys: RFC 4253 §6.6 blobs, OpenSSH `.pub` lines and authorized_keys lines
 * (sshd(8) AUTHORIZED_KEYS FILE FORMAT: `[options] type base64 [comment]`).
 */
import { ECDSA_SHA2_PREFIX, ecdsaPointFromBlob } from "../algorithms/sig-ecdsa.ts";
import { ed25519KeyFromBlob, SSH_ED25519 } from "../algorithms/sig-ed25519.ts";
import { rsaKeyFromBlob, SSH_RSA } from "../algorithms/sig-rsa.ts";
import { equalBytes } from "../crypto/provider.ts";
import { SshError } from "../errors.ts";
import { decodeBase64, encodeBase64 } from "../wire/base64.ts";
import { Reader } from "../wire/reader.ts";
import { decodeCertificate, isCertificateType } from "./certificate.ts";
import { KEY_TYPES, type PublicKey, type PublicKeyType } from "./types.ts";

export { KEY_TYPES };

const keyFormat = (m: string) => new SshError("KEY_FORMAT", m);

/**
 * Validates a blob's structure for its type: a plain key, or an OpenSSH certificate (its
 * structure only; the CA's signature and validity are for whoever trusts it to check, with
 * `parseCertificate`). Throws `SshError` KEY_FORMAT.
 */
export function parsePublicKeyBlob(blob: Uint8Array, comment = ""): PublicKey {
  let type: string;
  try {
    type = new Reader(blob).ascii("key type");
  } catch {
    throw keyFormat("malformed public key blob: no key type");
  }
  if (isCertificateType(type)) decodeCertificate(blob);
  else if (type === SSH_ED25519) ed25519KeyFromBlob(blob);
  else if (type === SSH_RSA) rsaKeyFromBlob(blob);
  else if (type.startsWith(ECDSA_SHA2_PREFIX)) ecdsaPointFromBlob(blob, type);
  else
    throw keyFormat(
      `unsupported key type ${JSON.stringify(type.slice(0, 40))}; expected one of ${KEY_TYPES.join(", ")}`,
    );
  return { type: type as PublicKeyType, blob: blob.slice(), comment };
}

/** `type base64 [comment]`. */
export function parsePublicKeyLine(line: string): PublicKey {
  const parts = line.trim().split(/\s+/);
  if (parts.length < 2) throw keyFormat("public key line needs `type base64 [comment]`");
  const [type, b64, ...comment] = parts as [string, string, ...string[]];
  let blob: Uint8Array;
  try {
    blob = decodeBase64(b64);
  } catch (err) {
    throw keyFormat(`public key line: ${(err as Error).message}`);
  }
  const key = parsePublicKeyBlob(blob, comment.join(" "));
  if (key.type !== type) throw keyFormat(`public key line says ${type} but the key inside is ${key.type}`);
  return key;
}

/** Splits the options prefix (commas outside double quotes) from the key. */
export function parseAuthorizedKeysLine(line: string): { options: string[]; key: PublicKey } {
  const s = line.trim();
  const first = s.split(/\s+/, 1)[0] ?? "";
  if (
    (KEY_TYPES as readonly string[]).includes(first) ||
    first.startsWith(ECDSA_SHA2_PREFIX) ||
    first.startsWith("ssh-")
  ) {
    return { options: [], key: parsePublicKeyLine(s) };
  }
  const options: string[] = [];
  let cur = "";
  let quoted = false;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "\\" && quoted && s[i + 1] === '"') {
      cur += '\\"';
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (!quoted && (c === " " || c === "\t")) break;
    if (!quoted && c === ",") {
      options.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  if (quoted) throw keyFormat("authorized_keys line has an unterminated quote in its options");
  if (cur) options.push(cur);
  return { options, key: parsePublicKeyLine(s.slice(i)) };
}

/** The `type base64 comment` line of a .pub file or authorized_keys. */
export function formatPublicKeyLine(key: PublicKey): string {
  return `${key.type} ${encodeBase64(key.blob)}${key.comment ? ` ${key.comment}` : ""}`;
}

/** Are these the same key (same blob; comments aside)? */
export function publicKeyEquals(a: PublicKey, b: PublicKey): boolean {
  return equalBytes(a.blob, b.blob);
}
