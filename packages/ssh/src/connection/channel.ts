/**
 * Connection layer: one channel (RFC 4254 §5) with flow control both ways.
 *
 * - Receiving: we grant `localWindow` bytes; data beyond it is a protocol error (§5.2). The
 *   window is only re-granted as the consumer reports bytes consumed (`consumed(n)`), so an
 *   unread channel holds at most one window of data (docs/ARCHITECTURE.md, "Flow control").
 * - Sending: we send at most the peer's window, in chunks of at most its maximum packet size;
 *   what does not fit waits in a queue that the caller must stop feeding when `write` returns
 *   false (and resume on `drain`).
 * - Half-close (§5.3): EOF from either side ends one direction only; CLOSE ends both and the
 *   channel id is freed once both sides have sent CLOSE.
 */

import { monotonic } from "../clock.ts";
import { DisconnectReason, SshError } from "../errors.ts";
import { MSG } from "../wire/messages.ts";
import { Writer } from "../wire/writer.ts";
import { ReceiveWindow, WINDOW_PROBE_REQUEST } from "./window.ts";

/** Our initial window: 2 MiB, OpenSSH's CHAN_TCP_WINDOW_DEFAULT is 2 MiB too. */
export const DEFAULT_WINDOW = 2 * 1024 * 1024;
/** Our maximum packet size: 32 KiB of data (OpenSSH's CHAN_TCP_PACKET_DEFAULT). */
export const DEFAULT_MAX_PACKET = 32 * 1024;
/** RFC 4254 §5.2: windows are uint32. */
export const MAX_WINDOW = 0xffffffff;

export interface ChannelHost {
  /** Sends one message: `payload`, followed by `body` when given (channel data without a join). */
  send(payload: Uint8Array, body?: Uint8Array): void;
  /** True while the transport cannot take more right now. */
  readonly congested: boolean;
  /** The channel is fully closed: free its id. */
  release(channel: Channel): void;
  /** Ask to be called back (`flush`) when the transport drains. */
  wantDrain(channel: Channel): void;
  /** Up to `want` more bytes of receive window for `channel`, within the connection's budget. */
  growWindow?(channel: Channel, want: number): number;
  /** The least round trip the connection has seen, in ms (Infinity: none yet). */
  roundTrip?(): number;
}

export interface ChannelEvents {
  data?(data: Uint8Array): void;
  /** Extended data (§5.2), e.g. stderr: type 1. */
  extendedData?(type: number, data: Uint8Array): void;
  /** The peer sent EOF: no more data will arrive. */
  eof?(): void;
  /** Both directions are finished. */
  close?(): void;
  /** The send queue emptied after `write` returned false. */
  drain?(): void;
}

const channelError = (m: string) => new SshError("CHANNEL_ERROR", m, { reason: DisconnectReason.PROTOCOL_ERROR });

/** RFC 4254 §5.1: a maximum packet size of 0 could never carry a byte. */
export function validMaxPacket(maxPacket: number): boolean {
  return maxPacket >= 1;
}

/** One open channel (RFC 4254 §5): data both ways under flow control, EOF, close. */
export class Channel {
  /** Peer's id for this channel. */
  remoteId = 0;
  /** Bytes the peer still lets us send before it adjusts the window (RFC 4254 §5.2). */
  remoteWindow = 0;
  /** The largest data packet the peer accepts on this channel (its open or confirmation). */
  remoteMaxPacket = 0;
  /** The largest data packet we accept on this channel; a bigger one is a protocol error. */
  readonly localMaxPacket: number;
  /** Our receive window: what the peer may send, re-granted as consumed, grown when it limits. */
  private readonly window: ReceiveWindow;
  /** Receive window beyond the initial one, granted from the connection's budget. */
  grownBy = 0;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private eofPending = false;
  private needDrain = false;
  /** We sent CHANNEL_EOF: nothing more goes out (RFC 4254 §5.3). */
  eofSent = false;
  /** The peer sent CHANNEL_EOF: nothing more comes in. */
  eofReceived = false;
  /** We sent CHANNEL_CLOSE. */
  closeSent = false;
  /** The peer sent CHANNEL_CLOSE. */
  closeReceived = false;
  /** The connection died under the channel: nothing more will be sent or received. */
  aborted = false;
  /** `finish()` was called: CLOSE follows the EOF once the queue is sent. */
  private closeAfterEof = false;
  private handlers: ChannelEvents = {};
  /**
   * What arrived before a consumer attached (a confirmation and the first data often share
   * one read, and the open promise resolves a microtask later). Bounded by our window.
   */
  private early: (() => void)[] | undefined = [];
  /** Data bytes received on this channel so far. */
  bytesIn = 0;
  /** Data bytes written to this channel so far, counted as they are queued. */
  bytesOut = 0;

  constructor(
    private readonly host: ChannelHost,
    /** Our id for this channel: the recipient channel of every message the peer sends on it. */
    readonly localId: number,
    /** The channel type it was opened with (RFC 4254 §5.1): "session", "direct-tcpip", … */
    readonly type: string,
    window = DEFAULT_WINDOW,
    maxPacket = DEFAULT_MAX_PACKET,
    maxWindow = window,
  ) {
    this.localMaxPacket = maxPacket;
    this.window = new ReceiveWindow(
      window,
      Math.max(window, maxWindow),
      maxPacket,
      (want) => {
        const got = this.host.growWindow?.(this, want) ?? 0;
        this.grownBy += got;
        return got;
      },
      monotonic,
      () => this.host.roundTrip?.() ?? Number.POSITIVE_INFINITY,
    );
  }

  /** Bytes the peer may still send us. */
  get localWindow(): number {
    return this.window.available;
  }

  /** The receive window we keep open now (it grows on long links). */
  get receiveWindowSize(): number {
    return this.window.size;
  }

  /** The largest the receive window may grow to. */
  get receiveWindowMax(): number {
    return this.window.max;
  }

  get events(): ChannelEvents {
    return this.handlers;
  }

  /** Attaching a consumer delivers, in order, whatever arrived before it. */
  set events(events: ChannelEvents) {
    this.handlers = events;
    const early = this.early;
    this.early = undefined;
    if (early) for (const deliver of early) deliver();
  }

  /** Until a consumer attaches, queue deliveries; afterwards run them at once. */
  private deliver(f: () => void): void {
    if (this.early) this.early.push(f);
    else f();
  }

  /** Called by the mux once the peer confirmed the channel. */
  opened(remoteId: number, window: number, maxPacket: number): void {
    this.remoteId = remoteId;
    this.remoteWindow = window;
    // A maximum packet of 0 would stall forever: the mux refuses such a channel before it
    // gets here (`validMaxPacket`). Absurdly large values are capped.
    if (!validMaxPacket(maxPacket))
      throw channelError(`peer's maximum packet size ${maxPacket} is invalid; expected at least 1`);
    this.remoteMaxPacket = Math.min(maxPacket, DEFAULT_MAX_PACKET * 2);
  }

  /** Neither side can send any more on this channel (the peer closed it, or the connection died). */
  get peerGone(): boolean {
    return this.closeReceived || this.aborted;
  }

  /** Bytes written but not yet sent: waiting for the peer's window. */
  get writableLength(): number {
    return this.queued;
  }

  /**
   * Queues data for the peer. Returns false when the caller should stop writing until `drain`.
   * Once the peer has closed the channel (or the connection died) the data is dropped and
   * false returned: the peer may close at any moment (RFC 4254 §5.3), so that is a race the
   * caller learns of through the `close` event, not an error. Writing after our own `end()`
   * or `close()` is a programming error (TypeError).
   */
  write(data: Uint8Array): boolean {
    if (this.peerGone) return false;
    if (this.eofSent || this.eofPending || this.closeSent)
      throw new TypeError(`write on channel ${this.localId} after end or close`);
    if (data.length > 0) {
      this.queue.push(data);
      this.queued += data.length;
      this.bytesOut += data.length;
      this.flush();
    }
    if (this.queued > 0) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  /** Half-close our direction (§5.3): EOF after the queued data. */
  end(): void {
    if (this.eofSent || this.eofPending || this.closeSent) return;
    this.eofPending = true;
    this.flush();
  }

  /**
   * Our side is done: send what is queued, then EOF, then CLOSE (§5.3), without waiting for
   * the peer's EOF. Data the peer still sends is discarded (its window is still honoured).
   */
  finish(): void {
    if (this.closeSent) return;
    this.closeAfterEof = true;
    if (this.eofSent) this.close();
    else this.end();
  }

  /** Close both directions now (§5.3). Queued data is dropped. */
  close(): void {
    if (this.closeSent) return;
    this.queue = [];
    this.queued = 0;
    this.closeSent = true;
    this.host.send(new Writer(8).byte(MSG.CHANNEL_CLOSE).uint32(this.remoteId).bytes());
    this.maybeRelease();
  }

  /** Sends what the window, packet size and transport allow. */
  flush(): void {
    while (this.queue.length > 0 && this.remoteWindow > 0 && !this.closeSent) {
      if (this.host.congested) {
        this.host.wantDrain(this);
        return;
      }
      const head = this.queue[0] as Uint8Array;
      const n = Math.min(head.length, this.remoteWindow, this.remoteMaxPacket);
      const chunk = head.subarray(0, n);
      // RFC 4254 §5.2: byte SSH_MSG_CHANNEL_DATA, uint32 recipient channel, string data.
      const h = new Uint8Array(9);
      h[0] = MSG.CHANNEL_DATA;
      const rid = this.remoteId;
      h[1] = rid >>> 24;
      h[2] = (rid >>> 16) & 0xff;
      h[3] = (rid >>> 8) & 0xff;
      h[4] = rid & 0xff;
      h[5] = n >>> 24;
      h[6] = (n >>> 16) & 0xff;
      h[7] = (n >>> 8) & 0xff;
      h[8] = n & 0xff;
      this.host.send(h, chunk);
      this.remoteWindow -= n;
      this.queued -= n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
    if (this.queue.length === 0) {
      if (this.eofPending && !this.eofSent && !this.closeSent) {
        this.eofPending = false;
        this.eofSent = true;
        this.host.send(new Writer(8).byte(MSG.CHANNEL_EOF).uint32(this.remoteId).bytes());
        if (this.closeAfterEof) {
          this.close();
          return;
        }
      }
      if (this.needDrain) {
        this.needDrain = false;
        this.handlers.drain?.();
      }
    }
  }

  /**
   * The consumer is done with `n` delivered bytes: re-grant window once half of it is used,
   * so the peer never idles waiting for an adjust (and probe whether the window limits it).
   */
  consumed(n: number): void {
    if (this.closeSent || this.closeReceived) return;
    const { grant, probe } = this.window.consume(n);
    if (grant > 0) this.sendAdjust(grant);
    // RFC 4254 §5.4: a request the peer does not know is answered with CHANNEL_FAILURE.
    if (probe)
      this.host.send(
        new Writer(48)
          .byte(MSG.CHANNEL_REQUEST)
          .uint32(this.remoteId)
          .string(WINDOW_PROBE_REQUEST)
          .boolean(true)
          .bytes(),
      );
  }

  private sendAdjust(n: number): void {
    this.host.send(new Writer(12).byte(MSG.CHANNEL_WINDOW_ADJUST).uint32(this.remoteId).uint32(n).bytes());
  }

  /** CHANNEL_SUCCESS or CHANNEL_FAILURE: the answer to our window probe, if one is out. */
  onRequestReply(): void {
    const extra = this.window.probeAnswered();
    if (extra > 0 && !this.closeSent && !this.closeReceived) this.sendAdjust(extra);
  }

  // ---- from the mux ------------------------------------------------------------------------

  /** The peer granted `n` more bytes of window (CHANNEL_WINDOW_ADJUST): queued data may go. */
  onWindowAdjust(n: number): void {
    // RFC 4254 §5.2: the window may not exceed 2^32 − 1 (docs/PROTOCOL.md, "Channels").
    if (this.remoteWindow + n > MAX_WINDOW) {
      throw channelError(`window adjust of ${n} overflows channel ${this.localId}'s window past 2^32-1`);
    }
    this.remoteWindow += n;
    this.flush();
  }

  /**
   * CHANNEL_DATA, or CHANNEL_EXTENDED_DATA of `extendedType`, from the peer: checked against
   * our window and packet size, then delivered (or held until a consumer attaches).
   */
  onData(data: Uint8Array, extendedType?: number): void {
    if (this.eofReceived) throw channelError(`data on channel ${this.localId} after EOF`);
    if (data.length > this.localMaxPacket) {
      throw channelError(
        `peer sent a ${data.length}-byte data packet on channel ${this.localId}; the maximum is ${this.localMaxPacket}`,
      );
    }
    const window = this.localWindow;
    if (!this.window.receive(data.length)) {
      throw channelError(
        `peer sent ${data.length} bytes on channel ${this.localId} with only ${window} bytes of window`,
      );
    }
    this.bytesIn += data.length;
    if (this.closeSent) return; // draining after our CLOSE: discard
    const copy = this.early ? data.slice() : data;
    this.deliver(() => {
      if (extendedType === undefined) this.handlers.data?.(copy);
      else if (this.handlers.extendedData) this.handlers.extendedData(extendedType, copy);
      else this.consumed(copy.length);
    });
  }

  /** CHANNEL_EOF from the peer: delivered after the data before it. */
  onEof(): void {
    if (this.eofReceived) return;
    this.eofReceived = true;
    this.deliver(() => this.handlers.eof?.());
  }

  /** CHANNEL_CLOSE from the peer: answered with ours if we have not sent one (§5.3). */
  onClose(): void {
    if (this.closeReceived) return;
    this.closeReceived = true;
    // §5.3: answer a CLOSE with CLOSE if we have not sent one.
    if (!this.closeSent) this.close();
    this.maybeRelease();
  }

  private released = false;

  private maybeRelease(): void {
    if (this.closeSent && this.closeReceived && !this.released) {
      this.released = true;
      this.host.release(this);
      this.deliver(() => this.handlers.close?.());
    }
  }

  /** The connection died: report close to the consumer without sending anything. */
  abort(): void {
    if (this.released) return;
    this.released = true;
    this.aborted = true;
    this.closeSent = true;
    this.closeReceived = true;
    this.queue = [];
    this.queued = 0;
    this.deliver(() => this.handlers.close?.());
  }
}
