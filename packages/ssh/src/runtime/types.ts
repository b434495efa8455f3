/**
 * Runtime seam: the byte-stream interface the protocol runs over (docs/ARCHITECTURE.md, "The layers of `@tunnel/ssh`").
 *
 * A TCP socket, an in-memory pipe, or (for jump hosts) an SSH channel all present
 * this same shape; nothing above this folder knows which runtime carries the bytes.
 */

/**
 * Bytes a socket adapter may hold in its write buffer before `write` says "wait". Node's own
 * default (16 KiB) is smaller than one SSH packet, which would stall the pipe after every
 * packet; a few hundred KiB keeps it full while still bounding memory per connection. Every
 * adapter uses this one mark (`node-net.ts`, and `write-backlog.ts` for Bun and Deno).
 */
export const WRITE_HIGH_WATER = 512 * 1024;

/** What a `Conn` tells its owner, the callbacks set with `Conn.setHandlers`. */
export interface ConnHandlers {
  /** A chunk arrived. The chunk is owned by the receiver (it may be kept). */
  data(chunk: Uint8Array): void;
  /** The write buffer fell below its high-water mark after `write` returned false. */
  drain(): void;
  /** The peer half-closed (no more data will arrive). */
  end(): void;
  /** The connection is gone; `error` if it failed. Called once. */
  close(error?: Error): void;
}

/** One TCP or Unix socket connection, as every runtime adapter presents it. */
export interface Conn {
  /** Queue bytes. Returns false once the runtime's buffer is above its high-water mark. */
  write(data: Uint8Array): boolean;
  /** Half-close: no more writes from us. */
  end(): void;
  /** Tear down at once. */
  destroy(): void;
  /**
   * Tear down at once and tell the peer the stream was cut (a TCP RST where the runtime can
   * send one), so that a truncated stream is never mistaken for a complete one.
   */
  reset(): void;
  /** Stop / restart delivering `data` (flow control). */
  pause(): void;
  /** Deliver `data` again after `pause`. */
  resume(): void;
  /**
   * Sets the callbacks, replacing any set before. The socket adapters read nothing until the
   * first call: what arrives earlier, a close included, waits for it.
   */
  setHandlers(handlers: ConnHandlers): void;
  /** The peer's address as the socket reports it; "" when it has none (a Unix socket). */
  readonly remoteAddress: string;
  /** The peer's port; 0 when it has none (a Unix socket). */
  readonly remotePort: number;
  /** Our end's address as the socket reports it; "" when it has none (a Unix socket). */
  readonly localAddress: string;
  /** Our end's port; 0 when it has none (a Unix socket). */
  readonly localPort: number;
}

/** A listening socket: where it listens, and how to stop. */
export interface Listener {
  /** The address it listens on, as the runtime reports it; for a Unix socket, its path. */
  readonly address: string;
  /** The port it listens on (the one the system picked when asked for 0); 0 for a Unix socket. */
  readonly port: number;
  /** Stops accepting (the port is free once it resolves); connections already accepted live on. */
  close(): Promise<void>;
}

/** How `Runtime.connect` connects: its timeout and TCP keepalive. */
export interface ConnectOptions {
  /** How long connecting may take, in ms (default 15 s); then the attempt is dropped and rejects. */
  timeoutMs?: number;
  /**
   * Turn on TCP keepalive, first probe after this many ms of silence: the kernel then notices
   * a peer that vanished even while nothing is sent (a complement to SSH-level keepalives).
   */
  keepAliveMs?: number;
}

/**
 * A socket runtime: what a socket adapter provides (TCP connect and listen, Unix sockets) over
 * one JavaScript runtime's socket API. Not the JavaScript runtime itself (node, bun, deno),
 * though each adapter is named after the one whose API it uses.
 */
export interface Runtime {
  /** The adapter's name: the JavaScript runtime whose socket API it uses ("node", "bun", "deno"). */
  readonly name: string;
  /**
   * Opens a TCP connection to `host:port`. Rejects with an `Error` naming them: "cannot connect
   * to host:port: connection refused" (or host not found, or the runtime's words), or a timeout.
   */
  connect(host: string, port: number, options?: ConnectOptions): Promise<Conn>;
  /**
   * A Unix-domain stream socket at `path` (an ssh-agent's `SSH_AUTH_SOCK`). Its `Conn` has
   * no addresses: they read "" and 0. Errors name the path: "cannot connect to PATH: no such
   * socket" (or connection refused, permission denied). Node's, Bun's and Deno's adapters all
   * have it; a test double that never reaches an agent may leave it out.
   */
  connectUnix?(path: string, options?: { timeoutMs?: number }): Promise<Conn>;
  /**
   * Listens on `host:port` (port 0: one the system picks). A refusal is an `Error` whose
   * `code` is node:net's name for it on every runtime — `EADDRINUSE` (the port is taken),
   * `EACCES` (not permitted), `EADDRNOTAVAIL` (no such local address) — so that callers can
   * say what to change; other failures carry the runtime's own code, if any.
   */
  listen(host: string, port: number, onConn: (conn: Conn) => void): Promise<Listener>;
  /**
   * Listens on a Unix-domain stream socket at `path` (a tunnel's control socket); the file is
   * created with the process's umask, so the caller puts it in a directory only its user can
   * reach. Its `Listener` reads address `path` and port 0; `close` stops accepting. Node's,
   * Bun's and Deno's adapters all have it; a test double may leave it out.
   */
  listenUnix?(path: string, onConn: (conn: Conn) => void): Promise<Listener>;
}
