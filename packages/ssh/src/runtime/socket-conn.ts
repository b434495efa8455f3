/**
 * What the `node:net` and Bun socket adapters share around their sockets: the owner's handlers,
 * held back by an `AttachGate` until the owner sets them (and pausing through it), and the
 * addresses as the socket reports them.
 */
import type { AttachGate } from "./attach-gate.ts";
import type { ConnHandlers } from "./types.ts";

const noop = () => {};

/** The addresses a socket reports; absent before it connects or after it closed. */
export interface SocketAddresses {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

export abstract class SocketConn {
  protected handlers: ConnHandlers = { data: noop, drain: noop, end: noop, close: noop };
  protected abstract readonly socket: SocketAddresses;
  protected abstract readonly gate: AttachGate;

  /** The socket closed (`error`: why). A close that came before the owner attached arrives here then. */
  protected abstract onClose(error?: Error): void;

  /** The owner attaches: a close that came first is reported now, else reading starts (unless paused). */
  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
    this.gate.attach((error) => this.onClose(error));
  }
  /** Stops reading until `resume`. */
  pause(): void {
    this.gate.pause();
  }
  /** Reads again (once the owner has attached). */
  resume(): void {
    this.gate.resume();
  }
  get remoteAddress(): string {
    return this.socket.remoteAddress ?? "";
  }
  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }
  get localAddress(): string {
    return this.socket.localAddress ?? "";
  }
  get localPort(): number {
    return this.socket.localPort ?? 0;
  }
}
