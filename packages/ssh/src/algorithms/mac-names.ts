/**
 * MAC wire names, spelled once (RFC 4253 §6.4, RFC 6668 for hmac-sha2-*, OpenSSH PROTOCOL §1.5
 * for the encrypt-then-MAC `-etm@openssh.com` forms). The registry and the default order refer
 * to these constants.
 */
export const MAC_NAME = {
  HMAC_SHA2_256_ETM: "hmac-sha2-256-etm@openssh.com",
  HMAC_SHA2_512_ETM: "hmac-sha2-512-etm@openssh.com",
  HMAC_SHA2_256: "hmac-sha2-256",
  HMAC_SHA2_512: "hmac-sha2-512",
  HMAC_SHA1_ETM: "hmac-sha1-etm@openssh.com",
  HMAC_SHA1: "hmac-sha1",
} as const;
