/** What the key exchange engine needs from the transport (RFC 4253 §7: it owns the packets and the keys in use). */
import type { PacketOpener, PacketSealer } from "../algorithms/types.ts";

/** What the engine needs from the transport. */
export interface KexEngineHost {
  readonly role: "client" | "server";
  readonly ourVersion: string;
  readonly peerVersion: { line: string } | undefined;
  sendTransport(payload: Uint8Array): void;
  flushQueue(): void;
  hold(): void;
  release(): void;
  fail(err: Error): void;
  /** RFC 4253 §7.3: keep the next keys until NEWKEYS passes each way. */
  prepareKeyChange(sealer: PacketSealer, opener: PacketOpener): void;
  /** Sends NEWKEYS and switches the outgoing keys (and resets the sequence number if asked). Returns the impl name. */
  sendNewKeys(resetSeq: boolean): string;
  /** The peer's NEWKEYS arrived: switch the incoming keys (and sequence number). Returns the impl name. */
  receiveNewKeys(resetSeq: boolean): string;
}
