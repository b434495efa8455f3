/**
 * Writing unencrypted `openssh-key-v1` private keys (OpenSSH PROTOCOL.key), for host keys that
 * `tunnel serve` creates once and reuses. Only ed25519 is written: it is what we generate.
 *
 *   "openssh-key-v1\0" | string ciphername "none" | string kdfname "none" | string kdfoptions ""
 *   | uint32 1 | string publickey | string (checkint checkint | privatekey | comment | padding)
 */
import { SSH_ED25519 } from "../algorithms/sig-ed25519.ts";
import type { CryptoProvider, RandomSource } from "../crypto/provider.ts";
import { encodeBase64 } from "../wire/base64.ts";
import { Writer } from "../wire/writer.ts";

const MAGIC = new TextEncoder().encode("openssh-key-v1\0");

/** An ed25519 key from its seed as an unencrypted `openssh-key-v1` file (the text ssh-keygen writes). */
export function encodeEd25519PrivateKey(
  provider: CryptoProvider,
  random: RandomSource,
  seed: Uint8Array,
  comment: string,
): string {
  const pub = provider.ed25519.publicFromSecret(seed);
  const pubBlob = new Writer(51).string(SSH_ED25519).string(pub).bytes();
  const check = random(4);
  const priv = new Writer(256).raw(check).raw(check).string(SSH_ED25519).string(pub);
  const secret = new Uint8Array(64);
  secret.set(seed);
  secret.set(pub, 32);
  priv.string(secret).string(comment);
  secret.fill(0);
  // Pad to the cipher block size (8 for "none") with 1, 2, 3, … (PROTOCOL.key).
  for (let i = 1; priv.pos % 8 !== 0; i++) priv.byte(i);
  const body = new Writer(512)
    .raw(MAGIC)
    .string("none")
    .string("none")
    .string("")
    .uint32(1)
    .string(pubBlob)
    .string(priv.bytes());
  const b64 = encodeBase64(body.bytes());
  const lines = b64.match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
