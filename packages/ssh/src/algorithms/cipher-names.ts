/**
 * Cipher wire names, spelled once (RFC 4253 §6.3 registry and the documents each cites).
 * The registry, the default orders and the key-file decryption
 * (keys/openssh-key-encryption.ts) refer to these constants.
 */
export const CIPHER_NAME = {
  /** OpenSSH PROTOCOL.chacha20poly1305: ChaCha20 with a Poly1305 tag, length encrypted apart. */
  CHACHA20_POLY1305: "chacha20-poly1305@openssh.com",
  /** OpenSSH PROTOCOL §1.6 (RFC 5647 with OpenSSH's negotiation): AES-GCM, 128-bit key. */
  AES128_GCM: "aes128-gcm@openssh.com",
  /** As AES128_GCM, with a 256-bit key. */
  AES256_GCM: "aes256-gcm@openssh.com",
  /** RFC 4344 §4: AES in counter mode, with a separate MAC. */
  AES128_CTR: "aes128-ctr",
  AES192_CTR: "aes192-ctr",
  AES256_CTR: "aes256-ctr",
} as const;
