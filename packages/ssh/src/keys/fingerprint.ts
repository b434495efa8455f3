/** Key fingerprints as OpenSSH prints them (ssh-keygen -l, RFC 4716 §4 for the older MD5 form). */
import type { CryptoProvider } from "../crypto/provider.ts";
import { base64NoPad } from "../wire/base64.ts";

/** "SHA256:" + unpadded base64 of SHA-256 over the public key blob. */
export function fingerprintSha256(provider: CryptoProvider, blob: Uint8Array): string {
  return `SHA256:${base64NoPad(provider.hash("sha256", blob))}`;
}
