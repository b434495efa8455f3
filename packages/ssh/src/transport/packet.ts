/**
 * Transport layer: the binary packet protocol (RFC 4253 §6).
 *
 *   uint32 packet_length | byte padding_length | payload | padding | mac
 *
 * The reader checks `packet_length` against `MAX_PACKET_LENGTH` before it allocates anything
 * (SSH-RULES.md "Length DoS"), then checks padding ≥ 4, padding < packet_length and the
 * block alignment for the cipher in use. Sequence numbers are uint32 and wrap (RFC 4253 §6.4);
 * the transport resets them only under strict KEX.
 */

import type { PacketOpener, PacketSealer } from "../algorithms/types.ts";
import type { RandomSource } from "../crypto/provider.ts";
import { DisconnectReason, SshError } from "../errors.ts";

/** OpenSSH's PACKET_MAX_SIZE (256 KiB): the largest packet_length we accept. */
export const MAX_PACKET_LENGTH = 256 * 1024;
/** RFC 4253 §6.1: implementations must handle 32768-byte payloads; we send at most this much. */
export const MAX_PAYLOAD_SEND = 32768 + 1024;
/** RFC 4253 §6: at least four bytes of padding. */
const MIN_PADDING = 4;

function badPacket(message: string): SshError {
  return new SshError("BAD_PACKET", message, { reason: DisconnectReason.PROTOCOL_ERROR });
}

/** Frames, pads and seals outgoing payloads. */
export class PacketWriter {
  seq = 0;
  bytes = 0;
  packets = 0;

  constructor(
    public sealer: PacketSealer,
    private readonly random: RandomSource,
  ) {}

  /** Returns the wire bytes for one payload and advances the sequence number. */
  frame(payload: Uint8Array): Uint8Array {
    const align = Math.max(8, this.sealer.blockSize);
    // The aligned part: padlen byte + payload + padding (+ the length field unless it travels apart).
    const head = this.sealer.lengthApart ? 1 : 5;
    let padding = align - ((head + payload.length) % align);
    if (padding < MIN_PADDING) padding += align;
    const packetLength = 1 + payload.length + padding;
    const packet = new Uint8Array(4 + packetLength);
    const view = new DataView(packet.buffer);
    view.setUint32(0, packetLength);
    packet[4] = padding;
    packet.set(payload, 5);
    // RFC 4253 §6: random padding.
    packet.set(this.random(padding), 5 + payload.length);
    const wire = this.sealer.seal(this.seq, packet);
    this.seq = (this.seq + 1) >>> 0;
    this.bytes += wire.length;
    this.packets++;
    return wire;
  }
}

/**
 * Incremental packet reader: feed it bytes, take payloads out. It never buffers more than one
 * packet's worth beyond what the caller has not yet consumed.
 */
export class PacketReader {
  seq = 0;
  bytes = 0;
  packets = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;
  /** packet_length of the packet whose header was already peeked, or -1. */
  private pendingLength = -1;

  constructor(public opener: PacketOpener) {}

  /** Bytes waiting in the buffer. */
  get buffered(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.start === this.end) {
      // Fast path: nothing buffered — take the chunk as it is.
      this.buf = chunk;
      this.start = 0;
      this.end = chunk.length;
      return;
    }
    const have = this.end - this.start;
    const next = new Uint8Array(have + chunk.length);
    next.set(this.buf.subarray(this.start, this.end));
    next.set(chunk, have);
    this.buf = next;
    this.start = 0;
    this.end = next.length;
  }

  /** The next payload, or undefined if more bytes are needed. */
  next(): Uint8Array | undefined {
    const opener = this.opener;
    const have = this.end - this.start;
    if (this.pendingLength < 0) {
      if (have < opener.headerSize) return undefined;
      const len = opener.peekLength(this.seq, this.buf.subarray(this.start, this.start + opener.headerSize));
      checkLength(len, opener);
      this.pendingLength = len;
    }
    const total = 4 + this.pendingLength + opener.overhead;
    if (have < total) return undefined;
    const wire = this.buf.subarray(this.start, this.start + total);
    this.start += total;
    const packetLength = this.pendingLength;
    this.pendingLength = -1;
    const plain = opener.open(this.seq, wire);
    this.seq = (this.seq + 1) >>> 0;
    this.bytes += total;
    this.packets++;
    // plain = padding_length | payload | padding
    const padding = plain[0] as number;
    if (padding < MIN_PADDING) throw badPacket(`padding length ${padding} is below the minimum of ${MIN_PADDING}`);
    const payloadLength = packetLength - padding - 1;
    if (payloadLength < 1)
      throw badPacket(`padding length ${padding} leaves no payload in a ${packetLength}-byte packet`);
    // Return a copy only when the buffer is the caller's chunk and could be reused; opener output is ours.
    return plain.subarray(1, 1 + payloadLength);
  }
}

function checkLength(len: number, opener: PacketOpener): void {
  // Checked before any allocation (SSH-RULES.md "Length DoS").
  if (len > MAX_PACKET_LENGTH) throw badPacket(`packet length ${len} exceeds the maximum of ${MAX_PACKET_LENGTH}`);
  if (len < 5) throw badPacket(`packet length ${len} is below the minimum of 5`);
  const align = Math.max(8, opener.blockSize);
  const aligned = opener.lengthApart ? len : len + 4;
  if (aligned % align !== 0) {
    throw badPacket(`packet length ${len} is not a multiple of the cipher block size ${align}`);
  }
}
