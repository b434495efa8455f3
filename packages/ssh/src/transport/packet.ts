/**
 * Transport layer: the binary packet protocol (RFC 4253 §6).
 *
 *   uint32 packet_length | byte padding_length | payload | padding | mac
 *
 * The reader checks `packet_length` against `MAX_PACKET_LENGTH` before it allocates anything
 * (docs/PROTOCOL.md, "Length limits"), then checks padding ≥ 4, padding < packet_length and the
 * block alignment for the cipher in use. Sequence numbers are uint32 and wrap (RFC 4253 §6.4);
 * the transport resets them only under strict KEX.
 */

import type { PacketOpener, PacketSealer } from "../algorithms/types.ts";
import { joinParts, type RandomSource } from "../crypto/provider.ts";
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

/**
 * Message data at least this long goes to a sealer that streams (`sealParts`) as it is,
 * instead of being copied next to its header first.
 */
const STREAM_BODY = 1024;

/** Random bytes drawn at once for padding, so a packet costs no call into the RNG. */
const RANDOM_POOL = 4096;

/**
 * Frames, pads and seals outgoing payloads. The plaintext packet is assembled in one scratch
 * buffer reused for every packet (the sealer's output is the only allocation per packet), and
 * padding comes from a pool of random bytes refilled from the injected source.
 */
export class PacketWriter {
  seq = 0;
  bytes = 0;
  packets = 0;
  private scratch: Uint8Array = new Uint8Array(MAX_PAYLOAD_SEND + 64);
  private pool: Uint8Array = new Uint8Array(0);
  private poolAt = 0;

  constructor(
    public sealer: PacketSealer,
    private readonly random: RandomSource,
  ) {}

  private padding(n: number): Uint8Array {
    if (this.poolAt + n > this.pool.length) {
      this.pool = this.random(RANDOM_POOL);
      this.poolAt = 0;
    }
    const out = this.pool.subarray(this.poolAt, this.poolAt + n);
    this.poolAt += n;
    return out;
  }

  /** Returns the wire bytes for one payload (`payload ‖ body`) and advances the sequence number. */
  frame(payload: Uint8Array, body?: Uint8Array): Uint8Array {
    return joinParts(this.framePieces(payload, body));
  }

  /**
   * The same, in one piece or several to be sent in order: what the transport writes, leaving
   * the socket to gather the pieces. The payload is `payload ‖ body` (a channel message's
   * header and its data, without joining them first).
   */
  framePieces(payload: Uint8Array, body?: Uint8Array): Uint8Array | Uint8Array[] {
    const sealer = this.sealer;
    const align = Math.max(sealer.blockSize, 8);
    const payloadLength = payload.length + (body ? body.length : 0);
    // The aligned part: padlen byte + payload + padding (+ the length field unless it travels apart).
    const head = sealer.lengthApart ? 1 : 5;
    let padding = align - ((head + payloadLength) % align);
    if (padding < MIN_PADDING) padding += align;
    const packetLength = 1 + payloadLength + padding;
    if (this.scratch.length < 4 + packetLength) this.scratch = new Uint8Array(4 + packetLength);
    const scratch = this.scratch;
    scratch[0] = packetLength >>> 24;
    scratch[1] = (packetLength >>> 16) & 0xff;
    scratch[2] = (packetLength >>> 8) & 0xff;
    scratch[3] = packetLength & 0xff;
    scratch[4] = padding;
    scratch.set(payload, 5);
    let wire: Uint8Array | Uint8Array[];
    if (body && body.length >= STREAM_BODY && sealer.sealParts) {
      // RFC 4253 §6: random padding.
      wire = sealer.sealParts(this.seq, scratch.subarray(0, 5 + payload.length), body, this.padding(padding));
    } else {
      if (body) scratch.set(body, 5 + payload.length);
      scratch.set(this.padding(padding), 5 + payloadLength);
      const sealed = sealer.seal(this.seq, scratch.subarray(0, 4 + packetLength));
      // A sealer that works in place (none) hands back the scratch buffer: copy it out.
      wire = sealed.buffer === scratch.buffer ? sealed.slice() : sealed;
    }
    this.seq = (this.seq + 1) >>> 0;
    this.bytes += 4 + packetLength + sealer.overhead;
    this.packets++;
    return wire;
  }
}

/**
 * Incremental packet reader: feed it bytes, take payloads out. It never buffers more than one
 * packet's worth beyond what the caller has not yet consumed, and its copying is linear in the
 * bytes received however the stream is cut: a packet arriving a byte at a time grows its buffer
 * geometrically (up to the packet's size), not by one copy of everything so far per byte.
 */
export class PacketReader {
  seq = 0;
  bytes = 0;
  packets = 0;
  private buf: Uint8Array = new Uint8Array(0);
  /**
   * `buf` is our own allocation, with room after `end` we may fill. Bytes before `end` are never
   * written again: payloads handed out are views into them.
   */
  private owned = false;
  /** Chunks received after those in `buf`, not yet needed, in order. */
  private waiting: Uint8Array[] = [];
  private waitingBytes = 0;
  private start = 0;
  private end = 0;
  /** packet_length of the packet whose header was already peeked, or -1. */
  private pendingLength = -1;

  constructor(public opener: PacketOpener) {}

  /** Bytes waiting in the buffer. */
  get buffered(): number {
    return this.end - this.start + this.waitingBytes;
  }

  /**
   * Takes a chunk as it is when nothing is buffered. Otherwise only the bytes that complete
   * the packet in progress are copied in (one packet's worth, never the whole chunk); the rest
   * waits and is taken without a copy once that packet is out.
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.waiting.length > 0) {
      // Still finishing earlier chunks: keep order by queueing behind them.
      this.waiting.push(chunk);
      this.waitingBytes += chunk.length;
      return;
    }
    if (this.start === this.end) {
      this.buf = chunk;
      this.owned = false;
      this.start = 0;
      this.end = chunk.length;
      return;
    }
    this.waiting.push(chunk);
    this.waitingBytes += chunk.length;
    this.fill();
  }

  /** Moves waiting bytes into the buffer, as far as the packet in progress needs them. */
  private fill(): void {
    const opener = this.opener;
    while (this.waiting.length > 0) {
      const head = this.waiting[0] as Uint8Array;
      const have = this.end - this.start;
      if (have === 0) {
        this.waiting.shift();
        this.waitingBytes -= head.length;
        this.buf = head;
        this.owned = false;
        this.start = 0;
        this.end = head.length;
        continue;
      }
      // Until the header is known, take just enough for it; then up to the packet's end.
      let want: number;
      let size: number;
      if (this.pendingLength < 0 && have < opener.headerSize) {
        want = opener.headerSize - have;
        size = opener.headerSize;
      } else {
        if (this.pendingLength < 0) this.peek();
        size = 4 + this.pendingLength + opener.overhead;
        want = size - have;
      }
      if (want <= 0) return; // the packet in progress is complete already
      const take = Math.min(want, head.length);
      this.append(head.subarray(0, take), size);
      if (take === head.length) this.waiting.shift();
      else this.waiting[0] = head.subarray(take);
      this.waitingBytes -= take;
    }
  }

  /**
   * Appends to the packet in progress, whose full size is `size`: in place while our buffer has
   * room, else into a new one at least twice as large as what it holds (capped at `size`), so
   * the bytes of one packet are copied a bounded number of times in all.
   */
  private append(bytes: Uint8Array, size: number): void {
    const have = this.end - this.start;
    if (this.owned && this.end + bytes.length <= this.buf.length) {
      this.buf.set(bytes, this.end);
      this.end += bytes.length;
      return;
    }
    const need = have + bytes.length;
    const grown = new Uint8Array(Math.max(need, Math.min(size, 2 * need, MAX_PACKET_LENGTH + 1024)));
    grown.set(this.buf.subarray(this.start, this.end));
    grown.set(bytes, have);
    this.buf = grown;
    this.owned = true;
    this.start = 0;
    this.end = need;
  }

  private peek(): void {
    const opener = this.opener;
    const len = opener.peekLength(this.seq, this.buf.subarray(this.start, this.start + opener.headerSize));
    checkLength(len, opener);
    this.pendingLength = len;
  }

  /** The next payload, or undefined if more bytes are needed. */
  next(): Uint8Array | undefined {
    const opener = this.opener;
    if (this.waiting.length > 0) this.fill();
    const have = this.end - this.start;
    if (this.pendingLength < 0) {
      if (have < opener.headerSize) return undefined;
      this.peek();
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
  // Checked before any allocation (docs/PROTOCOL.md, "Length limits").
  if (len > MAX_PACKET_LENGTH) throw badPacket(`packet length ${len} exceeds the maximum of ${MAX_PACKET_LENGTH}`);
  if (len < 5) throw badPacket(`packet length ${len} is below the minimum of 5`);
  const align = Math.max(8, opener.blockSize);
  const aligned = opener.lengthApart ? len : len + 4;
  if (aligned % align !== 0) {
    throw badPacket(`packet length ${len} is not a multiple of the cipher block size ${align}`);
  }
}
