/**
 * Runtime adapter: an in-memory connected pair, for unit tests and benches.
 * Delivery is asynchronous (a microtask) so that both ends behave like sockets.
 */
import type { Conn, ConnHandlers } from "./types.ts";

const noop = () => {};

class MemoryConn implements Conn {
  peer!: MemoryConn;
  private handlers: ConnHandlers = { data: noop, drain: noop, end: noop, close: noop };
  private paused = false;
  private pending: Uint8Array[] = [];
  private ended = false;
  private closed = false;
  private peerEnded = false;
  private endReceived = false;
  readonly remoteAddress = "memory";
  readonly remotePort = 0;
  readonly localAddress = "memory";
  readonly localPort = 0;

  write(data: Uint8Array): boolean {
    if (this.closed || this.ended) return false;
    const copy = data.slice();
    queueMicrotask(() => this.peer.deliver(copy));
    return true;
  }
  private deliver(chunk: Uint8Array): void {
    if (this.closed) return;
    if (this.paused) this.pending.push(chunk);
    else this.handlers.data(chunk);
  }
  end(): void {
    if (this.ended) return;
    this.ended = true;
    queueMicrotask(() => this.peer.deliverEnd());
    this.closeIfDone();
  }
  private deliverEnd(): void {
    if (this.paused) this.peerEnded = true;
    else this.gotEnd();
  }
  private gotEnd(): void {
    this.endReceived = true;
    this.handlers.end();
    this.closeIfDone();
  }
  /** Like a TCP socket: once both sides have sent FIN (and ours was read), it is closed. */
  private closeIfDone(): void {
    if (!this.ended || !this.endReceived || this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.handlers.close());
  }
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => {
      this.handlers.close();
      this.peer.destroy();
    });
  }
  reset(): void {
    this.destroy();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    while (!this.paused && this.pending.length > 0) this.handlers.data(this.pending.shift() as Uint8Array);
    if (!this.paused && this.peerEnded) {
      this.peerEnded = false;
      this.gotEnd();
    }
  }
  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
  }
}

/** Two connected ends. */
export function memoryPair(): [Conn, Conn] {
  const a = new MemoryConn();
  const b = new MemoryConn();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
