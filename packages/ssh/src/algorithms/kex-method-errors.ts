/** The errors key exchange methods throw (RFC 4253 §11.1 reason codes). */
import { DisconnectReason, SshError } from "../errors.ts";

/** A bad value or parameter from the peer, or no way to agree: KEY_EXCHANGE_FAILED. */
export const kexFailed = (what: string) =>
  new SshError("KEX_FAILED", what, { reason: DisconnectReason.KEY_EXCHANGE_FAILED });

/** A message out of place: PROTOCOL_ERROR. */
export const kexProtocolError = (what: string) =>
  new SshError("PROTOCOL_ERROR", what, { reason: DisconnectReason.PROTOCOL_ERROR });
