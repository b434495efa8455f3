/**
 * Sockets from `node:net` behind the `Conn` / `Listener` seam: Node's own, and the Node
 * compatibility layer of Bun and Deno (which their entry points offer as the "node" adapter).
 */
import * as net from "node:net";
import type { Conn, ConnHandlers, Listener, Runtime } from "./types.ts";

const noop = () => {};

/**
 * Bytes a connection may hold in its write buffer before `write` says "wait". Node's own
 * default (16 KiB) is smaller than one SSH packet, which would stall the pipe after every
 * packet; a few hundred KiB keeps it full while still bounding memory per connection.
 */
export const WRITE_HIGH_WATER = 512 * 1024;

class NodeConn implements Conn {
  private handlers: ConnHandlers = { data: noop, drain: noop, end: noop, close: noop };
  private closed = false;
  /** No handlers yet: the socket stays paused and a close is held until they arrive. */
  private attached = false;
  private ownerPaused = false;
  private heldClose: { error?: Error } | undefined;

  constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.pause();
    socket.on("data", (b: Buffer) => this.handlers.data(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
    socket.on("drain", () => this.handlers.drain());
    socket.on("end", () => this.handlers.end());
    socket.on("error", (err) => this.finish(err));
    socket.on("close", () => this.finish());
  }

  private finish(err?: Error): void {
    if (this.closed) return;
    if (!this.attached) {
      this.heldClose ??= { error: err };
      return;
    }
    this.closed = true;
    this.handlers.close(err);
  }

  private corked = false;
  private readonly uncork = () => {
    this.corked = false;
    this.socket.uncork();
  };

  /**
   * Writes made in one turn of the event loop (all the packets decoded from one read, say)
   * leave in one writev: the socket is corked at the first and uncorked once the turn's
   * synchronous work is done.
   */
  write(data: Uint8Array): boolean {
    const socket = this.socket;
    if (socket.destroyed) return false;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      queueMicrotask(this.uncork);
    }
    socket.write(data);
    return socket.writableLength < WRITE_HIGH_WATER;
  }
  end(): void {
    this.socket.end();
  }
  destroy(): void {
    this.attached = true;
    this.socket.destroy();
  }
  pause(): void {
    this.ownerPaused = true;
    this.socket.pause();
  }
  resume(): void {
    this.ownerPaused = false;
    if (this.attached) this.socket.resume();
  }
  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
    if (this.attached) return;
    this.attached = true;
    if (this.heldClose) this.finish(this.heldClose.error);
    else if (!this.ownerPaused) this.socket.resume();
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

export const nodeRuntime: Runtime = {
  name: "node",
  connect(host, port, options) {
    return new Promise((resolve, reject) => {
      // allowHalfOpen: a peer's FIN ends one direction only (RFC 4254 §5.3 half-close).
      const socket = net.connect({ host, port, allowHalfOpen: true });
      const timeoutMs = options?.timeoutMs ?? 15_000;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connection to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        resolve(new NodeConn(socket));
      });
      socket.once("error", (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const why =
          err.code === "ECONNREFUSED"
            ? "connection refused"
            : err.code === "ENOTFOUND"
              ? "host not found"
              : err.message;
        reject(new Error(`cannot connect to ${host}:${port}: ${why}`));
      });
    });
  },
  listen(host, port, onConn) {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true }, (s) => onConn(new NodeConn(s)));
      server.once("error", reject);
      server.listen(port, host, () => {
        server.removeListener("error", reject);
        const addr = server.address() as net.AddressInfo;
        const listener: Listener = {
          address: addr.address,
          port: addr.port,
          close: () => new Promise<void>((r) => server.close(() => r())),
        };
        resolve(listener);
      });
    });
  },
};
