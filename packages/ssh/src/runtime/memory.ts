/**
 * Runtime adapter: an in-memory connected pair, for unit tests and benches.
 * Delivery is asynchronous (a microtask) so that both ends behave like sockets.
 */
import { Inbox } from "./inbox.ts";
import type { Conn, ConnHandlers } from "./types.ts";

const noop = () => {};

class MemoryConn implements Conn {
  peer!: MemoryConn;
  private handlers: ConnHandlers = { data: noop, drain: noop, end: noop, close: noop };
  private readonly inbox = new Inbox(
    (chunk) => this.handlers.data(chunk),
    () => this.gotEnd(),
  );
  private ended = false;
  private closed = false;
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
    this.inbox.push(chunk);
  }
  end(): void {
    if (this.ended) return;
    this.ended = true;
    queueMicrotask(() => this.peer.deliverEnd());
    this.closeIfDone();
  }
  private deliverEnd(): void {
    this.inbox.end();
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
    this.inbox.pause();
  }
  resume(): void {
    this.inbox.resume();
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
