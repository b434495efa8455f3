/**
 * Transport layer: the connection state machine for both roles (RFC 4253 §4–§11).
 *
 * It owns the version exchange, the binary packet stream, key exchange and re-exchange
 * (RFC 4253 §7–§9), strict KEX (OpenSSH PROTOCOL §1.10, CVE-2023-48795), ext-info (RFC 8308)
 * and DISCONNECT. The key exchange flow lives in `kex-engine.ts` and each method in its own
 * `algorithms/kex-*.ts`; this file moves bytes and alone switches keys and sequence numbers
 * at NEWKEYS (RFC 4253 §7.3).
 *
 * Upper layers (auth, connection) see only `send(payload)` and their `onMessage` callback.
 * While a key exchange runs, their outgoing messages wait in a bounded queue (RFC 4253 §7.1
 * forbids sending them); the queue's cap is `maxQueueBytes`.
 */

import { plainOpener, plainSealer } from "../algorithms/cipher-none.ts";
import type { PacketOpener, PacketSealer } from "../algorithms/types.ts";
import type { CryptoProvider, RandomSource } from "../crypto/provider.ts";
import { DisconnectReason, SshError } from "../errors.ts";
import type { Conn } from "../runtime/types.ts";
import { MSG } from "../wire/messages.ts";
import { peerText } from "../wire/peer-text.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";
import { KexEngine, type KexEngineHost, type TransportInfo } from "./kex-engine.ts";
import { PacketReader, PacketWriter } from "./packet.ts";
import { DEFAULT_MAX_QUEUE_BYTES, LINGER_MS, type TransportOptions } from "./transport-options.ts";
import { encodeVersionLine, type ParsedVersion, VersionReader } from "./version.ts";

export type { TransportInfo } from "./kex-engine.ts";

export {
  type AlgorithmLists,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_REKEY_BYTES,
  DEFAULT_REKEY_MS,
  LINGER_MS,
  type TransportOptions,
} from "./transport-options.ts";

type Phase = "version" | "running" | "closed";

export class Transport implements KexEngineHost {
  readonly role: "client" | "server";
  readonly options: TransportOptions;
  readonly provider: CryptoProvider;
  readonly random: RandomSource;
  private readonly conn: Conn;
  private phase: Phase = "version";
  private readonly versionReader: VersionReader;
  readonly ourVersion: string;
  peerVersion: ParsedVersion | undefined;
  readonly reader: PacketReader;
  readonly writer: PacketWriter;
  private readonly kex: KexEngine;
  /** Upper-layer payloads waiting for a key exchange to end. */
  private queue: Uint8Array[] = [];
  private queueBytes = 0;
  private readonly maxQueueBytes: number;
  /** Whether a socket write returned false and we wait for drain. */
  private blocked = false;
  /** Packets received so far: a liveness signal for keepalives. */
  packetsReceived = 0;
  /** Held while an async host-key check runs: no further packets are processed. */
  private held = false;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** Keys of the exchange in progress, installed at NEWKEYS (RFC 4253 §7.3). */
  private pendingSealer: PacketSealer | undefined;
  private pendingOpener: PacketOpener | undefined;

  constructor(options: TransportOptions) {
    this.options = options;
    this.role = options.role;
    this.conn = options.conn;
    this.provider = options.provider;
    this.random = options.random;
    this.maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    this.versionReader = new VersionReader(this.role === "client");
    this.ourVersion = `SSH-2.0-${options.software ?? "tunnel_0.1"}`;
    this.reader = new PacketReader(plainOpener());
    this.writer = new PacketWriter(plainSealer(), this.random);
    this.kex = new KexEngine(this, options);
    this.conn.setHandlers({
      data: (chunk) => this.onData(chunk),
      drain: () => {
        this.blocked = false;
        this.options.onDrain?.();
      },
      end: () => {
        if (this.phase === "closed") this.conn.destroy();
        else
          this.fail(
            new SshError("CONNECTION_LOST", "the peer closed the connection", {
              reason: DisconnectReason.CONNECTION_LOST,
            }),
          );
      },
      close: (err) => {
        clearTimeout(this.lingerTimer);
        this.fail(
          new SshError("CONNECTION_LOST", err ? `connection lost: ${err.message}` : "the peer closed the connection", {
            reason: DisconnectReason.CONNECTION_LOST,
          }),
        );
      },
    });
  }

  /** Sends our identification line and our first KEXINIT (RFC 4253 §4.2, §7.1: no need to wait). */
  start(): void {
    this.sendVersion();
    this.beginKex();
  }

  /** The identification line alone (tests interleave other packets before the KEXINIT). */
  sendVersion(): void {
    this.conn.write(encodeVersionLine(this.ourVersion.slice("SSH-2.0-".length)));
  }

  /** Sends KEXINIT now: the first exchange, or a re-exchange once the first is done. */
  beginKex(): void {
    if (this.kex.sessionId) this.kex.rekey();
    else this.kex.start();
  }

  get info(): TransportInfo {
    return this.kex.info;
  }
  get sessionId(): Uint8Array | undefined {
    return this.kex.sessionId;
  }
  get closed(): boolean {
    return this.phase === "closed";
  }
  /** True while the socket's buffer is over its high-water mark or messages wait for a KEX. */
  get congested(): boolean {
    return this.blocked || this.queueBytes > 0;
  }
  /** Signature algorithms the server announced in ext-info `server-sig-algs` (RFC 8308 §3.1). */
  get serverSigAlgs(): readonly string[] | undefined {
    return this.kex.serverSigAlgs;
  }

  // ---- incoming ----------------------------------------------------------------------------

  private onData(chunk: Uint8Array): void {
    if (this.phase === "closed") return;
    try {
      if (this.phase === "version") {
        const got = this.versionReader.push(chunk);
        if (!got) return;
        for (const line of this.versionReader.preamble) this.options.onDebug?.(line);
        this.peerVersion = got.version;
        this.phase = "running";
        chunk = got.rest;
      }
      this.reader.push(chunk);
      this.pump();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Decodes and handles every complete packet, unless held. */
  private pump(): void {
    while (!this.held && this.phase === "running") {
      const payload = this.reader.next();
      if (payload === undefined) return;
      this.packetsReceived++;
      this.kex.countIn(payload.length);
      this.handle(payload, (this.reader.seq - 1) >>> 0);
    }
  }

  private handle(payload: Uint8Array, seq: number): void {
    const type = payload[0] as number;
    // The KEX engine enforces what may arrive during a key exchange (RFC 4253 §7.1) and the
    // strict-KEX rules; it consumes transport messages it owns.
    if (this.kex.filterIncoming(type, payload)) return;
    switch (type) {
      case MSG.DISCONNECT:
        this.onDisconnect(payload);
        return;
      case MSG.IGNORE:
        return;
      case MSG.DEBUG:
        this.onDebugMessage(payload);
        return;
      case MSG.UNIMPLEMENTED:
        // We only send what the peer advertised; nothing to retry. Note and carry on.
        return;
    }
    if (type >= 5 && type <= 19 && type !== MSG.SERVICE_REQUEST && type !== MSG.SERVICE_ACCEPT) {
      this.sendUnimplemented(seq);
      return;
    }
    if (!this.options.onMessage(payload)) this.sendUnimplemented(seq);
  }

  private onDisconnect(payload: Uint8Array): void {
    const r = new Reader(payload, 1);
    const reason = r.uint32("disconnect reason");
    const description = r.remaining >= 4 ? r.utf8("disconnect description") : "";
    const who = this.role === "client" ? "server" : "client";
    const err = new SshError(
      "DISCONNECTED",
      `${who} disconnected: ${peerText(description) || "no reason given"} (reason ${reason}: ${reasonName(reason)})`,
      { reason },
    );
    this.closeWith(err, false);
  }

  private onDebugMessage(payload: Uint8Array): void {
    const r = new Reader(payload, 1);
    const display = r.boolean("always_display");
    const message = r.utf8("debug message");
    if (display) this.options.onDebug?.(peerText(message));
  }

  private sendUnimplemented(seq: number): void {
    this.sendTransport(new Writer(8).byte(MSG.UNIMPLEMENTED).uint32(seq).bytes());
  }

  /** Pause input processing (async host-key check). */
  hold(): void {
    this.held = true;
    this.conn.pause();
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    this.conn.resume();
    try {
      this.pump();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  // ---- outgoing ----------------------------------------------------------------------------

  /**
   * Sends an upper-layer message; during a key exchange it waits in the bounded queue. Never
   * throws for the connection's state: once closed, messages are dropped (whoever sent them
   * hears of the close through `onClose`); a queue that would pass its cap fails the
   * connection with `QUEUE_FULL`, since a message cannot be dropped silently.
   */
  send(payload: Uint8Array, body?: Uint8Array): void {
    if (this.phase === "closed") return;
    if (this.kex.outgoingBlocked) {
      const length = payload.length + (body ? body.length : 0);
      if (this.queueBytes + length > this.maxQueueBytes) {
        this.fail(
          new SshError("QUEUE_FULL", `outgoing queue full during key exchange (${this.maxQueueBytes} bytes)`, {
            reason: DisconnectReason.BY_APPLICATION,
          }),
        );
        return;
      }
      // Queued messages are joined (and so copied): the caller may reuse `body` afterwards.
      let joined = payload;
      if (body) {
        joined = new Uint8Array(length);
        joined.set(payload);
        joined.set(body, payload.length);
      }
      this.queue.push(joined);
      this.queueBytes += length;
      return;
    }
    this.writePacket(payload, body);
  }

  /** Transport and KEX messages, never queued. */
  sendTransport(payload: Uint8Array): void {
    if (this.phase === "closed") return;
    this.writePacket(payload);
  }

  private writePacket(payload: Uint8Array, body?: Uint8Array): void {
    const wire = this.writer.framePieces(payload, body);
    let room = true;
    if (wire instanceof Uint8Array) room = this.conn.write(wire);
    else for (const piece of wire) room = this.conn.write(piece);
    if (!room) this.blocked = true;
    this.kex.countOut(payload.length + (body ? body.length : 0));
  }

  /** Called by the KEX engine once both NEWKEYS have passed. */
  flushQueue(): void {
    // Writing may cross the rekey threshold and start a new exchange: stop there and keep
    // the rest queued (RFC 4253 §7.1: nothing but KEX messages after our KEXINIT).
    let i = 0;
    while (i < this.queue.length && !this.kex.outgoingBlocked && this.phase !== "closed") {
      const p = this.queue[i++] as Uint8Array;
      this.queueBytes -= p.length;
      this.writePacket(p);
    }
    this.queue = this.queue.slice(i);
    if (!this.blocked && this.queue.length === 0) this.options.onDrain?.();
  }

  // ---- switching keys (RFC 4253 §7.3) -----------------------------------------------------

  prepareKeyChange(sealer: PacketSealer, opener: PacketOpener): void {
    this.pendingSealer?.dispose();
    this.pendingOpener?.dispose();
    this.pendingSealer = sealer;
    this.pendingOpener = opener;
  }

  /** NEWKEYS goes out under the old keys; every packet after it under the new ones. */
  sendNewKeys(resetSeq: boolean): string {
    const next = this.pendingSealer;
    if (!next) throw new SshError("PROTOCOL_ERROR", "no new keys to switch to");
    this.sendTransport(Uint8Array.of(MSG.NEWKEYS));
    this.writer.sealer.dispose();
    this.writer.sealer = next;
    this.pendingSealer = undefined;
    if (resetSeq) this.writer.seq = 0;
    return next.impl;
  }

  /** The peer's NEWKEYS was read under the old keys; every packet after it uses the new ones. */
  receiveNewKeys(resetSeq: boolean): string {
    const next = this.pendingOpener;
    if (!next) throw new SshError("PROTOCOL_ERROR", "received NEWKEYS before the key exchange reply");
    this.reader.opener.dispose();
    this.reader.opener = next;
    this.pendingOpener = undefined;
    if (resetSeq) this.reader.seq = 0;
    return next.impl;
  }

  // ---- closing -----------------------------------------------------------------------------

  /** Sends SSH_MSG_DISCONNECT (RFC 4253 §11.1) and closes. */
  disconnect(reason: number = DisconnectReason.BY_APPLICATION, description = "closed by user"): void {
    if (this.phase === "closed") return;
    if (this.phase === "running") {
      try {
        this.writePacket(new Writer(64).byte(MSG.DISCONNECT).uint32(reason).string(description).string("").bytes());
      } catch {
        // best effort
      }
    }
    this.closeWith(undefined, true);
  }

  /** Fails the connection: tells the peer why (when we can), then closes. */
  fail(err: Error): void {
    if (this.phase === "closed") return;
    const reason = err instanceof SshError ? err.reason : undefined;
    if (this.phase === "running" && reason !== undefined && reason !== DisconnectReason.CONNECTION_LOST) {
      try {
        this.writePacket(
          new Writer(64).byte(MSG.DISCONNECT).uint32(reason).string(err.message.slice(0, 200)).string("").bytes(),
        );
      } catch {
        // best effort
      }
    }
    this.closeWith(err, true);
  }

  private closeWith(err: Error | undefined, endSocket: boolean): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.kex.dispose();
    this.pendingSealer?.dispose();
    this.pendingOpener?.dispose();
    this.writer.sealer.dispose();
    this.reader.opener.dispose();
    this.queue = [];
    this.queueBytes = 0;
    if (endSocket) {
      // Half-close and let the peer close its side: destroying a socket with unread bytes
      // (OpenSSH sends hostkeys-00@openssh.com right after auth) makes the kernel send a
      // reset. Incoming bytes are discarded from here on; the linger is bounded.
      this.conn.end();
      this.lingerTimer = setTimeout(() => this.conn.destroy(), LINGER_MS);
    } else this.conn.destroy();
    this.options.onClose(err);
  }
}

const REASONS: Record<number, string> = Object.fromEntries(Object.entries(DisconnectReason).map(([k, v]) => [v, k]));

export function reasonName(reason: number): string {
  return REASONS[reason] ?? "UNKNOWN";
}
