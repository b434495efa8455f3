/**
 * Sockets from `node:net` behind the `Conn` / `Listener` seam: Node's own, and the Node
 * compatibility layer of Bun and Deno (which their entry points offer as the "node" adapter).
 */
import * as net from "node:net";
import { AttachGate } from "./attach-gate.ts";
import { CONNECT_TIMEOUT_MS, connectError, timeoutError, unixConnectError, unixTimeoutError } from "./connecting.ts";
import { SocketConn } from "./socket-conn.ts";
import { type Conn, type Listener, type Runtime, WRITE_HIGH_WATER } from "./types.ts";

class NodeConn extends SocketConn implements Conn {
  private closed = false;
  protected readonly gate: AttachGate;

  constructor(protected readonly socket: net.Socket) {
    super();
    socket.setNoDelay(true);
    this.gate = new AttachGate(socket);
    socket.on("data", (b: Buffer) => this.handlers.data(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
    socket.on("drain", () => this.handlers.drain());
    socket.on("end", () => this.handlers.end());
    socket.on("error", (err) => this.onClose(err));
    socket.on("close", () => this.onClose());
  }

  protected onClose(err?: Error): void {
    if (this.closed || !this.gate.closing(err)) return;
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
    this.gate.release();
    this.socket.destroy();
  }
  reset(): void {
    this.gate.release();
    // resetAndDestroy (Node 16.17+) closes with SO_LINGER 0: the peer gets an RST. Bun's and
    // Deno's node:net may lack it; a plain destroy is the best they offer.
    const s = this.socket as net.Socket & { resetAndDestroy?: () => void };
    if (typeof s.resetAndDestroy === "function" && !s.destroyed) s.resetAndDestroy();
    else s.destroy();
  }
}

export const nodeRuntime: Runtime = {
  name: "node",
  connect(host, port, options) {
    return new Promise((resolve, reject) => {
      // allowHalfOpen: a peer's FIN ends one direction only (RFC 4254 §5.3 half-close).
      const socket = net.connect({ host, port, allowHalfOpen: true });
      const timeoutMs = options?.timeoutMs ?? CONNECT_TIMEOUT_MS;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(timeoutError(host, port, timeoutMs));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        if (options?.keepAliveMs) socket.setKeepAlive(true, options.keepAliveMs);
        resolve(new NodeConn(socket));
      });
      socket.once("error", (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(connectError(host, port, err));
      });
    });
  },
  connectUnix(path, options) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ path, allowHalfOpen: true });
      const timeoutMs = options?.timeoutMs ?? CONNECT_TIMEOUT_MS;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(unixTimeoutError(path, timeoutMs));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        resolve(new NodeConn(socket));
      });
      socket.once("error", (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(unixConnectError(path, err));
      });
    });
  },
  // node:net's own errors carry the codes `Runtime.listen` promises.
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
          // Stops accepting at once. Not server.close's callback: it waits for every accepted
          // connection to end, so a caller draining them would wait on itself.
          close: async () => {
            if (server.listening) server.close();
          },
        };
        resolve(listener);
      });
    });
  },
  listenUnix(path, onConn) {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true }, (s) => onConn(new NodeConn(s)));
      server.once("error", reject);
      server.listen(path, () => {
        server.removeListener("error", reject);
        resolve({
          address: path,
          port: 0,
          close: async () => {
            if (server.listening) server.close();
          },
        });
      });
    });
  },
};
