/**
 * Connection layer: the channel table and the connection-protocol messages (RFC 4254):
 * global requests (§4), channel open / confirmation / failure (§5.1), data and window (§5.2),
 * EOF and CLOSE (§5.3), channel requests (§5.4), `direct-tcpip` (§7.2).
 *
 * Rules pinned here (docs/PROTOCOL.md, "Channels"): data for unknown or closed channels, duplicate or
 * unexpected OPEN_CONFIRMATION and unsolicited replies are handled without crash, hang or leak
 * — protocol errors close the connection with a clear reason; nothing grows with what the
 * peer sends.
 */

import { monotonic } from "../clock.ts";
import { DisconnectReason, SshError } from "../errors.ts";
import { MSG } from "../wire/messages.ts";
import { peerText } from "../wire/peer-text.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";
import { Channel, type ChannelHost, DEFAULT_MAX_PACKET, DEFAULT_WINDOW, validMaxPacket } from "./channel.ts";
import { KEEPALIVE_REQUEST } from "./keepalive.ts";
import { peerWindowCeiling } from "./peer-window.ts";

/** RFC 4254 §5.1 reason codes for SSH_MSG_CHANNEL_OPEN_FAILURE. */
export const OpenFailure = {
  ADMINISTRATIVELY_PROHIBITED: 1,
  CONNECT_FAILED: 2,
  UNKNOWN_CHANNEL_TYPE: 3,
  RESOURCE_SHORTAGE: 4,
} as const;

const OPEN_FAILURE_NAMES: Record<number, string> = {
  1: "administratively prohibited",
  2: "connect failed",
  3: "unknown channel type",
  4: "resource shortage",
};

/** A refused channel open: `reasonCode` is the RFC 4254 §5.1 code. */
export class ChannelOpenError extends SshError {
  /** The peer's reason (RFC 4254 §5.1): 1 prohibited, 2 connect failed, 3 unknown type, 4 shortage. */
  readonly reasonCode: number;
  constructor(reasonCode: number, description: string) {
    const name = OPEN_FAILURE_NAMES[reasonCode] ?? `reason ${reasonCode}`;
    super("CHANNEL_OPEN_FAILED", `channel open refused: ${name}${description ? ` (${description})` : ""}`);
    this.reasonCode = reasonCode;
  }
}

/**
 * How far one channel's receive window may grow (connection/window.ts): 16 MiB carries
 * 320 MiB/s at 50 ms, 160 MiB/s at 100 ms.
 */
export const DEFAULT_MAX_WINDOW = 16 * 1024 * 1024;
/** Growth beyond the initial windows that one connection's channels may share. */
export const DEFAULT_WINDOW_BUDGET = 128 * 1024 * 1024;

/** Most channels at once (OpenSSH caps at 10,000 too, its CHANNELS_MAX_CHANNELS is 16 * 1024). */
export const MAX_CHANNELS = 16 * 1024;

/** A global request's answer: reply data (empty for plain success), or undefined to refuse. */
export type GlobalReply = Uint8Array | undefined | Promise<Uint8Array | undefined>;

/** Async global replies that may wait (each is one pending tcpip-forward bind). */
export const MAX_PENDING_GLOBAL_REPLIES = 64;

/** Pings a client sends after login to learn the round trip (`measureRoundTrip`). */
export const ROUND_TRIP_PINGS = 3;

export interface MuxTransport {
  send(payload: Uint8Array, body?: Uint8Array): void;
  readonly congested: boolean;
  /** The peer's identification line, once read: some peers are granted less window (peer-window.ts). */
  readonly peerVersion?: { readonly softwareVersion: string } | undefined;
}

interface PendingOpen {
  channel: Channel;
  resolve(ch: Channel): void;
  reject(err: Error): void;
}

/** A channel the peer asks to open, waiting for us to accept or reject it (RFC 4254 §5.1). */
export interface IncomingOpen {
  /** The channel type asked for (RFC 4254 §5.1): `session`, `direct-tcpip`, `forwarded-tcpip`, … */
  type: string;
  /** The rest of the open message, type-specific (§6.1, §7.1, §7.2). */
  data: Reader;
  /**
   * Confirms the channel. Never throws for what the peer or the network did: if the
   * connection is gone by now, or the channel table is full, the channel comes back already
   * closed (its `close` event fires as soon as a consumer attaches).
   */
  accept(): Channel;
  /**
   * Refuses with an RFC 4254 §5.1 reason code (`OpenFailure`) and a description for the peer.
   * Does nothing if already answered or the connection is gone.
   */
  reject(reason: number, description: string): void;
}

const protocol = (m: string) => new SshError("PROTOCOL_ERROR", m, { reason: DisconnectReason.PROTOCOL_ERROR });

export class Mux implements ChannelHost {
  private readonly channels = new Map<number, Channel>();
  private readonly pending = new Map<number, PendingOpen>();
  private nextId = 0;
  private readonly drainWaiters = new Set<Channel>();
  /** Replies we wait for, in order (RFC 4254 §4: replies come in request order). */
  private globalWaiters: { resolve(r: Uint8Array | undefined): void; reject(e: Error): void; sentAt: number }[] = [];
  /** Incoming channel opens (forwarded-tcpip, or on a server every type). Default: refuse. */
  onOpen: ((open: IncomingOpen) => void) | undefined;
  /** Global requests we handle; return undefined to refuse. */
  onGlobalRequest: ((name: string, data: Reader) => GlobalReply) | undefined;
  private replyQueue: { done: boolean; reply: Uint8Array | undefined }[] = [];
  private dead: Error | undefined;
  /** Incoming opens handed to `onOpen` and not yet answered: they count against the cap. */
  private incomingPending = 0;
  /** Most channels at once, open or being opened, both directions together. */
  maxChannels = MAX_CHANNELS;
  /**
   * The largest a channel's receive window may grow to (the initial window: no growth), and
   * never past what the peer's software is known to cope with (`peerWindowCeiling`).
   */
  maxWindow = DEFAULT_MAX_WINDOW;
  /** Receive window beyond the initial ones that all channels together may be granted. */
  windowBudget = DEFAULT_WINDOW_BUDGET;
  private windowGrown = 0;

  constructor(private readonly transport: MuxTransport) {}

  get size(): number {
    return this.channels.size;
  }

  /** The cap on a new channel's receive window: ours, within what the peer copes with. */
  private channelMaxWindow(): number {
    return Math.min(this.maxWindow, peerWindowCeiling(this.transport.peerVersion?.softwareVersion));
  }

  // ---- ChannelHost -------------------------------------------------------------------------

  send(payload: Uint8Array, body?: Uint8Array): void {
    // A dead connection has aborted every channel already; nothing left to say.
    if (this.dead) return;
    this.transport.send(payload, body);
  }
  get congested(): boolean {
    return this.transport.congested;
  }
  release(channel: Channel): void {
    this.channels.delete(channel.localId);
    this.drainWaiters.delete(channel);
    this.windowGrown -= channel.grownBy;
    channel.grownBy = 0;
  }
  /** The least round trip a global request with want-reply has taken, in ms (Infinity: none yet). */
  roundTrip(): number {
    return this.leastRoundTrip;
  }
  private leastRoundTrip = Number.POSITIVE_INFINITY;
  growWindow(_channel: Channel, want: number): number {
    const got = Math.max(0, Math.min(want, this.windowBudget - this.windowGrown));
    this.windowGrown += got;
    return got;
  }
  wantDrain(channel: Channel): void {
    this.drainWaiters.add(channel);
  }

  /** The transport drained: let waiting channels send, in turn. */
  drained(): void {
    const waiting = [...this.drainWaiters];
    this.drainWaiters.clear();
    for (const ch of waiting) {
      if (this.transport.congested) {
        this.drainWaiters.add(ch);
        continue;
      }
      ch.flush();
    }
  }

  /** Channels open or being opened, either way. */
  private get inUse(): number {
    return this.channels.size + this.pending.size + this.incomingPending;
  }

  private allocateId(): number {
    if (this.inUse >= this.maxChannels) {
      throw new SshError("CHANNEL_ERROR", `too many channels open (${this.maxChannels})`);
    }
    while (this.channels.has(this.nextId) || this.pending.has(this.nextId)) this.nextId = (this.nextId + 1) >>> 0;
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    return id;
  }

  // ---- opening -----------------------------------------------------------------------------

  /** Opens a channel of `type` with type-specific `extra` bytes (§5.1). */
  open(type: string, extra: Uint8Array, window = DEFAULT_WINDOW, maxPacket = DEFAULT_MAX_PACKET): Promise<Channel> {
    if (this.dead) return Promise.reject(this.dead);
    let id: number;
    try {
      id = this.allocateId();
    } catch (err) {
      return Promise.reject(err);
    }
    const channel = new Channel(this, id, type, window, maxPacket, this.channelMaxWindow());
    return new Promise<Channel>((resolve, reject) => {
      this.pending.set(id, { channel, resolve, reject });
      const w = new Writer(64 + extra.length)
        .byte(MSG.CHANNEL_OPEN)
        .string(type)
        .uint32(id)
        .uint32(window)
        .uint32(maxPacket);
      w.raw(extra);
      try {
        this.transport.send(w.bytes());
      } catch (err) {
        this.pending.delete(id);
        reject(err as Error);
      }
    });
  }

  /** `direct-tcpip` (§7.2): ask the server to connect to host:port for us. */
  openDirectTcpip(host: string, port: number, originatorHost: string, originatorPort: number): Promise<Channel> {
    const extra = new Writer(64).string(host).uint32(port).string(originatorHost).uint32(originatorPort).bytes();
    return this.open("direct-tcpip", extra);
  }

  /**
   * Measures the round trip with `count` `keepalive@openssh.com` requests, each sent when the
   * last is answered (RFC 4254 §4: a peer that does not know the name fails it, which is answer
   * enough). The first answers after login are slow (the peer's and our own first-time work;
   * docs/ARCHITECTURE.md "Flow control"), hence more than one.
   */
  measureRoundTrip(count: number): void {
    if (count <= 0 || this.dead) return;
    this.globalRequest(KEEPALIVE_REQUEST, new Uint8Array(0), true).then(
      () => this.measureRoundTrip(count - 1),
      () => {},
    );
  }

  /** Sends a global request (§4); resolves with the reply's data, or undefined on failure. */
  globalRequest(name: string, data: Uint8Array, wantReply: boolean): Promise<Uint8Array | undefined> {
    if (this.dead) return Promise.reject(this.dead);
    const w = new Writer(64 + data.length).byte(MSG.GLOBAL_REQUEST).string(name).boolean(wantReply).raw(data);
    this.transport.send(w.bytes());
    if (!wantReply) return Promise.resolve(undefined);
    const sentAt = monotonic();
    return new Promise((resolve, reject) => this.globalWaiters.push({ resolve, reject, sentAt }));
  }

  // ---- incoming ----------------------------------------------------------------------------

  /** Handles connection-protocol messages (80–100). Returns false for other types. */
  handle(payload: Uint8Array): boolean {
    const type = payload[0] as number;
    if (type < MSG.GLOBAL_REQUEST || type > MSG.CHANNEL_FAILURE) return false;
    const r = new Reader(payload, 1);
    switch (type) {
      case MSG.GLOBAL_REQUEST:
        return this.onGlobalRequestMsg(r);
      case MSG.REQUEST_SUCCESS:
      case MSG.REQUEST_FAILURE: {
        const w = this.globalWaiters.shift();
        // Unsolicited reply (RFC 4254 §4; docs/PROTOCOL.md, "Channels"): ignored, as OpenSSH does.
        if (!w) return true;
        this.leastRoundTrip = Math.min(this.leastRoundTrip, monotonic() - w.sentAt);
        w.resolve(type === MSG.REQUEST_SUCCESS ? r.rest().slice() : undefined);
        return true;
      }
      case MSG.CHANNEL_OPEN:
        return this.onChannelOpen(r);
      case MSG.CHANNEL_OPEN_CONFIRMATION: {
        const id = r.uint32("recipient channel");
        const remoteId = r.uint32("sender channel");
        const window = r.uint32("initial window size");
        const maxPacket = r.uint32("maximum packet size");
        const p = this.pending.get(id);
        if (!p) {
          // Duplicate or unexpected confirmation (RFC 4254 §5.1; docs/PROTOCOL.md, "Channels").
          throw protocol(`OPEN_CONFIRMATION for channel ${id}, which has no open request outstanding`);
        }
        this.pending.delete(id);
        if (!validMaxPacket(maxPacket)) {
          // The channel exists on the peer's side now: close it properly (its id is freed when
          // the peer's CLOSE comes back) and fail only this open, not the connection.
          p.channel.remoteId = remoteId;
          this.channels.set(id, p.channel);
          p.channel.close();
          p.reject(
            new SshError(
              "CHANNEL_ERROR",
              `the server confirmed channel ${id} with maximum packet size ${maxPacket}; expected at least 1`,
            ),
          );
          return true;
        }
        p.channel.opened(remoteId, window, maxPacket);
        this.channels.set(id, p.channel);
        p.resolve(p.channel);
        return true;
      }
      case MSG.CHANNEL_OPEN_FAILURE: {
        const id = r.uint32("recipient channel");
        const reason = r.uint32("reason code");
        const description = r.remaining >= 4 ? r.utf8("description") : "";
        const p = this.pending.get(id);
        if (!p) throw protocol(`OPEN_FAILURE for channel ${id}, which has no open request outstanding`);
        this.pending.delete(id);
        p.reject(new ChannelOpenError(reason, peerText(description)));
        return true;
      }
      default:
        return this.onChannelMessage(type, r);
    }
  }

  private onGlobalRequestMsg(r: Reader): boolean {
    const name = r.ascii("request name");
    const wantReply = r.boolean("want reply");
    let reply: GlobalReply;
    try {
      reply = this.onGlobalRequest?.(name, r);
    } catch {
      reply = undefined;
    }
    // RFC 4254 §4: unknown requests get REQUEST_FAILURE (keepalive@openssh.com included, as
    // OpenSSH answers it), and replies go out in request order. Synchronous answers need no
    // queue; async ones (tcpip-forward binds a port) wait in a bounded one.
    if (!wantReply) return true;
    if (this.replyQueue.length === 0 && !(reply instanceof Promise)) {
      this.sendGlobalReply(reply);
      return true;
    }
    if (this.replyQueue.length >= MAX_PENDING_GLOBAL_REPLIES) {
      throw protocol(`more than ${MAX_PENDING_GLOBAL_REPLIES} global requests awaiting replies`);
    }
    const slot: { done: boolean; reply: Uint8Array | undefined } = { done: false, reply: undefined };
    this.replyQueue.push(slot);
    Promise.resolve(reply).then(
      (v) => this.completeReply(slot, v),
      () => this.completeReply(slot, undefined),
    );
    return true;
  }

  private completeReply(slot: { done: boolean; reply: Uint8Array | undefined }, reply: Uint8Array | undefined): void {
    slot.done = true;
    slot.reply = reply;
    while (this.replyQueue[0]?.done) {
      const head = this.replyQueue.shift() as { reply: Uint8Array | undefined };
      if (!this.dead) this.sendGlobalReply(head.reply);
    }
  }

  private sendGlobalReply(reply: Uint8Array | undefined): void {
    if (!reply) {
      this.transport.send(Uint8Array.of(MSG.REQUEST_FAILURE));
      return;
    }
    const out = new Uint8Array(1 + reply.length);
    out[0] = MSG.REQUEST_SUCCESS;
    out.set(reply, 1);
    this.transport.send(out);
  }

  private onChannelOpen(r: Reader): boolean {
    const type = r.ascii("channel type");
    const senderId = r.uint32("sender channel");
    const window = r.uint32("initial window size");
    const maxPacket = r.uint32("maximum packet size");
    let answered = false;
    let counted = false;
    const settle = () => {
      answered = true;
      if (counted) {
        counted = false;
        this.incomingPending--;
      }
    };
    const reject = (reason: number, description: string) => {
      if (answered) return;
      settle();
      if (this.dead) return;
      this.transport.send(
        new Writer(64)
          .byte(MSG.CHANNEL_OPEN_FAILURE)
          .uint32(senderId)
          .uint32(reason)
          .string(description)
          .string("")
          .bytes(),
      );
    };
    const accept = (): Channel => {
      if (answered) throw new TypeError("channel open already answered");
      // The answer may come long after the request (a target to connect first): by then the
      // connection may be gone or the table full. Either way the caller gets a closed channel.
      settle();
      if (this.dead || this.inUse >= this.maxChannels) {
        if (!this.dead) {
          answered = false;
          reject(OpenFailure.RESOURCE_SHORTAGE, "too many channels");
        }
        const gone = new Channel(this, -1, type);
        gone.abort();
        return gone;
      }
      const id = this.allocateId();
      const ch = new Channel(this, id, type, DEFAULT_WINDOW, DEFAULT_MAX_PACKET, this.channelMaxWindow());
      ch.opened(senderId, window, maxPacket);
      this.channels.set(id, ch);
      this.transport.send(
        new Writer(32)
          .byte(MSG.CHANNEL_OPEN_CONFIRMATION)
          .uint32(senderId)
          .uint32(id)
          .uint32(ch.localWindow)
          .uint32(ch.localMaxPacket)
          .bytes(),
      );
      return ch;
    };
    if (!this.onOpen) {
      reject(OpenFailure.ADMINISTRATIVELY_PROHIBITED, `channel type ${type} is not accepted`);
      return true;
    }
    if (!validMaxPacket(maxPacket)) {
      // RFC 4254 §5.1: such a channel could never carry a byte; refuse it, keep the connection.
      reject(OpenFailure.RESOURCE_SHORTAGE, `maximum packet size ${maxPacket} is invalid; expected at least 1`);
      return true;
    }
    if (this.inUse >= this.maxChannels) {
      reject(OpenFailure.RESOURCE_SHORTAGE, "too many channels");
      return true;
    }
    this.incomingPending++;
    counted = true;
    this.onOpen({ type, data: r, accept, reject });
    return true;
  }

  private onChannelMessage(type: number, r: Reader): boolean {
    const id = r.uint32("recipient channel");
    const ch = this.channels.get(id);
    if (!ch) {
      // RFC 4254 §5 (docs/PROTOCOL.md, "Channels"): data or requests for a channel we do not have.
      throw protocol(`message ${type} for unknown channel ${id}`);
    }
    switch (type) {
      case MSG.CHANNEL_WINDOW_ADJUST:
        ch.onWindowAdjust(r.uint32("bytes to add"));
        break;
      case MSG.CHANNEL_DATA: {
        const data = r.string("channel data");
        r.done("CHANNEL_DATA");
        ch.onData(data);
        break;
      }
      case MSG.CHANNEL_EXTENDED_DATA: {
        const code = r.uint32("data type code");
        const data = r.string("channel data");
        r.done("CHANNEL_EXTENDED_DATA");
        ch.onData(data, code);
        break;
      }
      case MSG.CHANNEL_EOF:
        ch.onEof();
        break;
      case MSG.CHANNEL_CLOSE:
        ch.onClose();
        break;
      case MSG.CHANNEL_REQUEST: {
        r.ascii("request type");
        const wantReply = r.boolean("want reply");
        // We make no channel requests that need the peer's; refuse the peer's (§5.4).
        if (wantReply && !ch.closeSent)
          this.transport.send(new Writer(8).byte(MSG.CHANNEL_FAILURE).uint32(ch.remoteId).bytes());
        break;
      }
      case MSG.CHANNEL_SUCCESS:
      case MSG.CHANNEL_FAILURE:
        // Our only channel request with want-reply is the window probe; anything else is
        // unsolicited and ignored (see connection/window.ts).
        ch.onRequestReply();
        break;
    }
    return true;
  }

  /** The connection is gone: fail pending opens, abort channels. */
  abort(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const w of this.globalWaiters) w.reject(err);
    this.globalWaiters = [];
    for (const ch of [...this.channels.values()]) ch.abort();
    this.channels.clear();
  }
}
