/**
 * Key exchange method wire names, spelled once (RFC 4250 §4.10 registry and the documents
 * each cites). Everything else refers to these constants.
 */
export const KEX_NAME = {
  /** draft-ietf-sshm-mlkem-hybrid-kex, OpenSSH PROTOCOL: ML-KEM-768 with X25519. */
  MLKEM768_X25519_SHA256: "mlkem768x25519-sha256",
  /** OpenSSH PROTOCOL §1.9 (draft-ietf-sshm-ntruprime-ssh): sntrup761 with X25519. */
  SNTRUP761_X25519_SHA512: "sntrup761x25519-sha512",
  SNTRUP761_X25519_SHA512_OPENSSH: "sntrup761x25519-sha512@openssh.com",
  /** RFC 8731. */
  CURVE25519_SHA256: "curve25519-sha256",
  CURVE25519_SHA256_LIBSSH: "curve25519-sha256@libssh.org",
  /** RFC 5656 §6.3. */
  ECDH_NISTP256: "ecdh-sha2-nistp256",
  ECDH_NISTP384: "ecdh-sha2-nistp384",
  ECDH_NISTP521: "ecdh-sha2-nistp521",
  /** RFC 4419 §4.2 (with SHA-256). */
  DH_GEX_SHA256: "diffie-hellman-group-exchange-sha256",
  /** RFC 8268 §3. */
  DH_GROUP16_SHA512: "diffie-hellman-group16-sha512",
  DH_GROUP18_SHA512: "diffie-hellman-group18-sha512",
  DH_GROUP14_SHA256: "diffie-hellman-group14-sha256",
} as const;
