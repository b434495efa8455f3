/**
 * Message numbers (RFC 4250 §4.1.2, RFC 4253 §12, RFC 4252 §6, RFC 4254 §9, RFC 8308 §2.3).
 */
export const MSG = {
  DISCONNECT: 1,
  IGNORE: 2,
  UNIMPLEMENTED: 3,
  DEBUG: 4,
  SERVICE_REQUEST: 5,
  SERVICE_ACCEPT: 6,
  EXT_INFO: 7,
  KEXINIT: 20,
  NEWKEYS: 21,
  /** KEX-method specific range 30–49 (ECDH_INIT / KEXDH_INIT share 30, replies 31). */
  KEX_ECDH_INIT: 30,
  KEX_ECDH_REPLY: 31,
  /** RFC 4419 §5: group exchange. */
  KEX_DH_GEX_REQUEST_OLD: 30,
  KEX_DH_GEX_GROUP: 31,
  KEX_DH_GEX_INIT: 32,
  KEX_DH_GEX_REPLY: 33,
  KEX_DH_GEX_REQUEST: 34,
  USERAUTH_REQUEST: 50,
  USERAUTH_FAILURE: 51,
  USERAUTH_SUCCESS: 52,
  USERAUTH_BANNER: 53,
  /** Method-specific range 60–79: PK_OK for publickey, PASSWD_CHANGEREQ for password. */
  USERAUTH_PK_OK: 60,
  USERAUTH_INFO_REQUEST: 60,
  USERAUTH_INFO_RESPONSE: 61,
  GLOBAL_REQUEST: 80,
  REQUEST_SUCCESS: 81,
  REQUEST_FAILURE: 82,
  CHANNEL_OPEN: 90,
  CHANNEL_OPEN_CONFIRMATION: 91,
  CHANNEL_OPEN_FAILURE: 92,
  CHANNEL_WINDOW_ADJUST: 93,
  CHANNEL_DATA: 94,
  CHANNEL_EXTENDED_DATA: 95,
  CHANNEL_EOF: 96,
  CHANNEL_CLOSE: 97,
  CHANNEL_REQUEST: 98,
  CHANNEL_SUCCESS: 99,
  CHANNEL_FAILURE: 100,
} as const;

/** RFC 4251 §7: 30 to 49 are the key exchange method's own messages (their meaning depends on the method). */
export function isKexMethodMessage(type: number): boolean {
  return type >= 30 && type <= 49;
}
