/**
 * Error family for protocol and peer failures (docs/ARCHITECTURE.md, "Conventions").
 *
 * Every failure caused by the peer or by the protocol is an `SshError` with a stable
 * `code`; where RFC 4253 §11.1 defines a disconnect reason, `reason` carries its number.
 * Bad arguments from our own callers are `TypeError` / `RangeError` instead.
 */

/** RFC 4253 §11.1 disconnect reason codes. */
export const DisconnectReason = {
  HOST_NOT_ALLOWED_TO_CONNECT: 1,
  PROTOCOL_ERROR: 2,
  KEY_EXCHANGE_FAILED: 3,
  RESERVED: 4,
  MAC_ERROR: 5,
  COMPRESSION_ERROR: 6,
  SERVICE_NOT_AVAILABLE: 7,
  PROTOCOL_VERSION_NOT_SUPPORTED: 8,
  HOST_KEY_NOT_VERIFIABLE: 9,
  CONNECTION_LOST: 10,
  BY_APPLICATION: 11,
  TOO_MANY_CONNECTIONS: 12,
  AUTH_CANCELLED_BY_USER: 13,
  NO_MORE_AUTH_METHODS_AVAILABLE: 14,
  ILLEGAL_USER_NAME: 15,
} as const;

/** What went wrong, for a program to branch on (`SshError.code`). */
export type SshErrorCode =
  | "PROTOCOL_ERROR"
  | "BAD_VERSION"
  | "BAD_PACKET"
  | "MAC_ERROR"
  | "KEX_FAILED"
  | "NO_COMMON_ALGORITHM"
  | "STRICT_KEX_VIOLATION"
  | "HOST_KEY_REJECTED"
  | "HOST_KEY_CHANGED"
  | "HOST_KEY_UNKNOWN"
  | "BAD_SIGNATURE"
  | "AUTH_FAILED"
  | "DISCONNECTED"
  | "CONNECTION_LOST"
  | "TIMEOUT"
  | "KEY_FORMAT"
  | "KEY_ENCRYPTED"
  | "AGENT_REFUSED"
  | "QUEUE_FULL"
  | "CHANNEL_OPEN_FAILED"
  | "CHANNEL_ERROR";

/** Every failure the protocol raises: a `code`, and the RFC 4253 §11.1 reason when one applies. */
export class SshError extends Error {
  /** "SshError", so that a printed error says what it is. */
  override readonly name = "SshError";
  /** What went wrong, for a program to branch on (the message is for people). */
  readonly code: SshErrorCode;
  /** RFC 4253 §11.1 reason number, when one applies. */
  readonly reason: number | undefined;

  constructor(code: SshErrorCode, message: string, options?: { reason?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = options?.reason;
  }
}

/**
 * A packet whose MAC or AEAD tag does not match (RFC 4253 §6.4): the message says nothing more,
 * so that a failure tells an attacker nothing about where the forgery went wrong.
 */
export function macError(): SshError {
  return new SshError("MAC_ERROR", "message authentication failed", { reason: DisconnectReason.MAC_ERROR });
}

/** A failure to decode peer-supplied bytes: always a protocol error. */
export function protocolError(message: string): SshError {
  return new SshError("PROTOCOL_ERROR", message, { reason: DisconnectReason.PROTOCOL_ERROR });
}
