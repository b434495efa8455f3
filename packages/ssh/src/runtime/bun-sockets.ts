/**
 * Bun's own TCP sockets (`Bun.connect` / `Bun.listen`) behind the `Conn` / `Listener` seam.
 *
 * Bun's socket writes straight to the kernel and returns how many bytes it took; what it did
 * not take waits here (`WriteBacklog`) until its `drain` callback. Writes of one turn are gathered
 * and leave in one call. Each `data` callback hands over a fresh buffer, so chunks are passed on as they
 * are. The `Bun` global is read only when a connection is made: nothing outside this folder
 * touches it.
 */
import { AttachGate } from "./attach-gate.ts";
import { CONNECT_TIMEOUT_MS, connectUnixWithin, connectWithin } from "./connecting.ts";
import { SocketConn } from "./socket-conn.ts";
import type { Conn, Listener, Runtime } from "./types.ts";
import { WriteBacklog } from "./write-backlog.ts";

interface BunSocket {
  write(data: Uint8Array): number;
  /** Without an argument: send FIN and keep reading (`shutdown(true)` does something else). */
  shutdown(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay(noDelay?: boolean): boolean;
  setKeepAlive?(enable?: boolean, initialDelay?: number): boolean;
  data: BunConn | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
}

interface BunSocketHandler {
  open?(socket: BunSocket): void;
  data?(socket: BunSocket, data: Uint8Array): void;
  drain?(socket: BunSocket): void;
  end?(socket: BunSocket): void;
  close?(socket: BunSocket, error?: Error): void;
  error?(socket: BunSocket, error: Error): void;
  connectError?(socket: BunSocket, error: Error): void;
}

interface BunApi {
  connect(
    options:
      | { hostname: string; port: number; allowHalfOpen?: boolean; socket: BunSocketHandler }
      | { unix: string; allowHalfOpen?: boolean; socket: BunSocketHandler },
  ): Promise<BunSocket>;
  listen(
    options:
      | { hostname: string; port: number; allowHalfOpen?: boolean; socket: BunSocketHandler }
      | { unix: string; allowHalfOpen?: boolean; socket: BunSocketHandler },
  ): {
    readonly hostname: string;
    readonly port: number;
    stop(closeActiveConnections?: boolean): void;
  };
}

function bunApi(): BunApi {
  const api = (globalThis as { Bun?: BunApi }).Bun;
  if (!api) throw new Error("the bun socket adapter needs the Bun runtime");
  return api;
}

class BunConn extends SocketConn implements Conn {
  private readonly backlog = new WriteBacklog(() => this.flush());
  private readonly out = this.backlog.out;
  private endRequested = false;
  private shutDown = false;
  private peerEnded = false;
  private closed = false;
  protected readonly gate: AttachGate;

  constructor(protected readonly socket: BunSocket) {
    super();
    socket.data = this;
    socket.setNoDelay(true);
    // A closed Bun socket is left alone.
    this.gate = new AttachGate({
      pause: () => {
        if (!this.closed) socket.pause();
      },
      resume: () => {
        if (!this.closed) socket.resume();
      },
    });
  }

  // --- called by the handler table below

  onData(chunk: Uint8Array): void {
    if (!this.closed) this.handlers.data(chunk);
  }
  onDrain(): void {
    this.flush();
  }
  onEnd(): void {
    if (this.peerEnded || this.closed) return;
    this.peerEnded = true;
    this.handlers.end();
  }
  onClose(error?: Error): void {
    if (this.closed || !this.gate.closing(error)) return;
    // Bun reports a FIN that arrives after our own shutdown as a close alone; the owner
    // still hears the end first, as on Node.
    if (!error && !this.peerEnded) this.onEnd();
    this.closed = true;
    this.out.clear();
    this.handlers.close(error);
  }

  private flush(): void {
    while (!this.out.empty && !this.closed) {
      const chunk = this.out.peek();
      const n = this.socket.write(chunk);
      this.out.consumed(n);
      if (n < chunk.length) return; // the kernel is full: Bun calls `drain` when it can take more
    }
    if (this.closed) return;
    if (this.endRequested && !this.shutDown) {
      this.shutDown = true;
      this.socket.shutdown();
    }
    if (this.backlog.drainDue()) this.handlers.drain();
  }

  write(data: Uint8Array): boolean {
    if (this.closed || this.endRequested) return false;
    return this.backlog.push(data);
  }
  end(): void {
    if (this.endRequested || this.closed) return;
    this.endRequested = true;
    this.flush();
  }
  destroy(): void {
    if (this.closed) return;
    this.gate.release();
    this.socket.terminate();
    this.onClose();
  }
  /** Bun's `terminate` drops what is queued and aborts the connection at once. */
  reset(): void {
    this.destroy();
  }
}

function handlerTable(onOpen?: (conn: BunConn) => void): BunSocketHandler {
  return {
    open(socket) {
      const conn = new BunConn(socket);
      onOpen?.(conn);
    },
    data: (socket, data) => socket.data?.onData(data),
    drain: (socket) => socket.data?.onDrain(),
    end: (socket) => socket.data?.onEnd(),
    close: (socket, error) => socket.data?.onClose(error),
    error: (socket, error) => socket.data?.onClose(error),
  };
}

export const bunRuntime: Runtime = {
  name: "bun",
  async connect(host, port, options) {
    const connecting = bunApi().connect({ hostname: host, port, allowHalfOpen: true, socket: handlerTable() });
    const socket = await connectWithin(host, port, options?.timeoutMs ?? CONNECT_TIMEOUT_MS, connecting, (late) =>
      late.terminate(),
    );
    if (options?.keepAliveMs) socket.setKeepAlive?.(true, options.keepAliveMs);
    return socket.data as BunConn;
  },
  async connectUnix(path, options) {
    const connecting = bunApi().connect({ unix: path, allowHalfOpen: true, socket: handlerTable() });
    const socket = await connectUnixWithin(path, options?.timeoutMs ?? CONNECT_TIMEOUT_MS, connecting, (late) =>
      late.terminate(),
    );
    return socket.data as BunConn;
  },
  // Bun.listen throws node:net's codes itself (EADDRINUSE…), as `Runtime.listen` promises.
  async listen(host, port, onConn) {
    const server = bunApi().listen({ hostname: host, port, allowHalfOpen: true, socket: handlerTable(onConn) });
    const listener: Listener = {
      address: server.hostname,
      port: server.port,
      close: async () => server.stop(false),
    };
    return listener;
  },
  async listenUnix(path, onConn) {
    const server = bunApi().listen({ unix: path, allowHalfOpen: true, socket: handlerTable(onConn) });
    return { address: path, port: 0, close: async () => server.stop(false) };
  },
};
