/**
 * Deno's own TCP sockets (`Deno.connect` / `Deno.listen`) behind the `Conn` / `Listener` seam.
 *
 * A read loop pulls into one reused buffer and hands each chunk on as its own copy (the
 * receiver may keep it); it stops pulling while the owner has paused, which is what pushes
 * back on the peer. Writes of one turn are gathered (`WriteBacklog`) and written by one pump, which reports
 * `drain` once the queue is low again. Reading starts only once the owner has set its
 * handlers, so nothing that arrives early is lost. The `Deno` global is read only when a
 * connection is made.
 */
import { CONNECT_TIMEOUT_MS, connectUnixWithin, connectWithin } from "./connecting.ts";
import type { Conn, ConnHandlers, Listener, Runtime } from "./types.ts";
import { WriteBacklog } from "./write-backlog.ts";

/** A TCP address; a Unix socket's has `path` and neither of these. */
interface DenoAddr {
  readonly hostname?: string;
  readonly port?: number;
}

interface DenoTcpConn {
  read(into: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay(noDelay?: boolean): void;
  setKeepAlive?(keepAlive?: boolean): void;
  readonly remoteAddr: DenoAddr;
  readonly localAddr: DenoAddr;
}

interface DenoTcpListener {
  accept(): Promise<DenoTcpConn>;
  close(): void;
  readonly addr: DenoAddr;
}

interface DenoApi {
  connect(
    options: { hostname: string; port: number; transport: "tcp" } | { path: string; transport: "unix" },
  ): Promise<DenoTcpConn>;
  listen(
    options: { hostname: string; port: number; transport: "tcp" } | { path: string; transport: "unix" },
  ): DenoTcpListener;
}

function denoApi(): DenoApi {
  const api = (globalThis as { Deno?: DenoApi }).Deno;
  if (!api) throw new Error("the deno socket adapter needs the Deno runtime");
  return api;
}

/**
 * Each connection reads into its own buffer: it starts small and doubles, up to the maximum,
 * whenever a read fills it, so a thousand quiet connections hold 16 KiB each, not 128.
 */
const READ_BUFFER_MIN = 16 * 1024;
const READ_BUFFER_MAX = 128 * 1024;

const noop = () => {};

class DenoConn implements Conn {
  private handlers: ConnHandlers = { data: noop, drain: noop, end: noop, close: noop };
  private readonly backlog = new WriteBacklog(() => void this.pump());
  private readonly out = this.backlog.out;
  private pumping = false;
  private endRequested = false;
  private writeClosed = false;
  private peerEnded = false;
  private closed = false;
  private reading = false;
  private paused = false;
  private wake: (() => void) | undefined;

  constructor(private readonly conn: DenoTcpConn) {
    try {
      conn.setNoDelay(true);
    } catch {
      // not a TCP socket: nothing to set
    }
  }

  private finish(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.out.clear();
    try {
      this.conn.close();
    } catch {
      // already closed by the runtime
    }
    this.wake?.();
    this.handlers.close(error);
  }

  private async readLoop(): Promise<void> {
    let buffer = new Uint8Array(READ_BUFFER_MIN);
    try {
      while (!this.closed) {
        if (this.paused) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          this.wake = undefined;
          continue;
        }
        const n = await this.conn.read(buffer);
        if (this.closed) return;
        if (n === null) {
          this.peerEnded = true;
          this.handlers.end();
          if (this.writeClosed) this.finish();
          return;
        }
        this.handlers.data(buffer.slice(0, n));
        if (n === buffer.length && buffer.length < READ_BUFFER_MAX) buffer = new Uint8Array(buffer.length * 2);
      }
    } catch (err) {
      this.finish(err as Error);
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.out.empty && !this.closed) {
        const chunk = this.out.peek();
        // The queue counts these bytes until they are written.
        const n = await this.conn.write(chunk);
        if (this.closed) break;
        this.out.consumed(n);
        if (!this.closed && this.backlog.drainDue()) this.handlers.drain();
      }
      if (this.endRequested && !this.writeClosed && !this.closed) {
        this.writeClosed = true;
        await this.conn.closeWrite();
        if (this.peerEnded) this.finish();
      }
    } catch (err) {
      this.finish(err as Error);
    } finally {
      this.pumping = false;
    }
  }

  write(data: Uint8Array): boolean {
    if (this.closed || this.endRequested) return false;
    return this.backlog.push(data, this.pumping);
  }
  end(): void {
    if (this.endRequested || this.closed) return;
    this.endRequested = true;
    void this.pump();
  }
  destroy(): void {
    this.finish();
  }
  /** Deno offers no way to send an RST (no SO_LINGER): closing is the nearest it has. */
  reset(): void {
    this.finish();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.wake?.();
  }
  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
    if (this.reading) return;
    this.reading = true;
    void this.readLoop();
  }
  get remoteAddress(): string {
    return this.conn.remoteAddr.hostname ?? "";
  }
  get remotePort(): number {
    return this.conn.remoteAddr.port ?? 0;
  }
  get localAddress(): string {
    return this.conn.localAddr.hostname ?? "";
  }
  get localPort(): number {
    return this.conn.localAddr.port ?? 0;
  }
}

export const denoRuntime: Runtime = {
  name: "deno",
  async connect(host, port, options) {
    const connecting = denoApi().connect({ hostname: host, port, transport: "tcp" });
    const conn = await connectWithin(host, port, options?.timeoutMs ?? CONNECT_TIMEOUT_MS, connecting, (late) =>
      late.close(),
    );
    // Deno sets no delay for the first probe: the system's default applies.
    if (options?.keepAliveMs) conn.setKeepAlive?.(true);
    return new DenoConn(conn);
  },
  async connectUnix(path, options) {
    // Deno's UnixConn reads, writes and half-closes like its TcpConn; it has no setNoDelay,
    // which DenoConn tolerates.
    const connecting = denoApi().connect({ path, transport: "unix" });
    const conn = await connectUnixWithin(path, options?.timeoutMs ?? CONNECT_TIMEOUT_MS, connecting, (late) =>
      late.close(),
    );
    return new DenoConn(conn);
  },
  async listen(host, port, onConn) {
    const listener = listenOrThrow({ hostname: host, port, transport: "tcp" });
    return acceptLoop(listener, onConn, listener.addr.hostname ?? "", listener.addr.port ?? 0);
  },
  async listenUnix(path, onConn) {
    return acceptLoop(listenOrThrow({ path, transport: "unix" }), onConn, path, 0);
  },
};

function listenOrThrow(
  options: { hostname: string; port: number; transport: "tcp" } | { path: string; transport: "unix" },
): DenoTcpListener {
  try {
    return denoApi().listen(options);
  } catch (err) {
    // node:net's codes, as `Runtime.listen` promises (types.ts).
    const e = err as Error & { code?: string };
    const code =
      e.name === "AddrInUse"
        ? "EADDRINUSE"
        : e.name === "PermissionDenied"
          ? "EACCES"
          : e.name === "AddrNotAvailable"
            ? "EADDRNOTAVAIL"
            : e.code;
    throw Object.assign(new Error(e.message), { code });
  }
}

/** Accepts until closed; `close` resolves once the pending accept is cancelled (the port is free). */
function acceptLoop(listener: DenoTcpListener, onConn: (conn: Conn) => void, address: string, port: number): Listener {
  let open = true;
  const accepting = (async () => {
    while (open) {
      let conn: DenoTcpConn;
      try {
        conn = await listener.accept();
      } catch {
        return; // the listener was closed
      }
      onConn(new DenoConn(conn));
    }
  })();
  return {
    address,
    port,
    close: async () => {
      if (!open) return;
      open = false;
      listener.close();
      // The port is free only once the pending accept has been cancelled.
      await accepting;
    },
  };
}
