/**
 * Engine: the local connections of a `TunnelSession` (open.ts). Each is held from accept
 * until it has a channel — waiting, bounded in number and in time, while the SSH connection
 * is set up or re-established — then carried as a `direct-tcpip` channel (RFC 4254 §7.2),
 * and counted until both it and its channel are closed. Channels the server opens to us (a
 * remote forward's connections) are counted here too (`adopt`).
 */
import type { Channel, Conn, SshClient } from "@tunnel/ssh";
import { type HeldConn, holdConn, type PipeStats, pipeChannel } from "./forward.ts";
import type { Target } from "./target.ts";

/** Local connections held while the SSH connection is set up (or re-established); more are refused. */
export const MAX_EARLY_CONNECTIONS = 128;
/** How long a local connection waits for the bastion, and the TCP connect timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;

/** Where one local connection goes, as its handshake said (see `OpenOptions.route`). */
export interface Route {
  host: string;
  port: number;
  /** Bytes the client sent past its handshake: they go first through the channel. */
  early?: Uint8Array | undefined;
  /** The channel is open: tell the client, before any byte from the far end reaches it. */
  opened?(conn: Conn): void;
  /** No channel: tell the client why and close the connection (the router owns it now). */
  failed?(conn: Conn, err: Error): void;
}

/** A local connection, from accept until both it and its channel are closed. */
interface LocalEntry {
  id: number;
  held: HeldConn;
  target: Target;
  /** Waiting for the bastion: closed when this fires. */
  timer?: ReturnType<typeof setTimeout> | undefined;
  piped: boolean;
  /** Set when a handshake chose the destination (`OpenOptions.route`). */
  route?: Route | undefined;
  /** Bytes carried so far (counted while its channel is piped). */
  stats: PipeStats;
}

/** What the connections need of their session. */
export interface CarryingSession {
  /** The SSH connection that carries them, while one is up. */
  client(): SshClient | undefined;
  /** False once the session is stopping or over: new connections are refused then. */
  accepting(): boolean;
  readonly options: {
    readonly connectTimeoutMs?: number | undefined;
    readonly reconnect?: boolean | undefined;
    readonly events?:
      | {
          info?(line: string): void;
          verbose?(line: string): void;
        }
      | undefined;
  };
  /** The last connection closed. */
  emptied(): void;
}

/** The local connections of one session, held, carried and counted. */
export class LocalConnections {
  /** Every local connection not yet fully closed: the count users see is this set's size. */
  private readonly all = new Set<LocalEntry>();
  /** Those waiting for an SSH connection (the first one, or after a loss). */
  private waiting: LocalEntry[] = [];
  private seq = 0;
  /** Bytes of the connections already closed: `bytes` adds those still open. */
  private closedBytes: PipeStats = { bytesIn: 0, bytesOut: 0 };

  constructor(private readonly session: CarryingSession) {}

  /** Connections open right now (waiting for the bastion, carried, or closing). */
  get size(): number {
    return this.all.size;
  }

  /** Bytes carried since the start, both ways (`bytesOut`: from the local clients towards the targets). */
  get bytes(): PipeStats {
    let { bytesIn, bytesOut } = this.closedBytes;
    for (const e of this.all) {
      bytesIn += e.stats.bytesIn;
      bytesOut += e.stats.bytesOut;
    }
    return { bytesIn, bytesOut };
  }

  /**
   * Takes a new local connection to `target` (`route`: as its handshake chose): carried at
   * once while an SSH connection is up, else held until one is, or refused while stopping.
   */
  accept(local: Conn, target: Target, route?: Route): void {
    if (!this.session.accepting()) {
      if (route?.failed) route.failed(local, new Error("the tunnel is closing"));
      else local.destroy();
      return;
    }
    let entry: LocalEntry | undefined;
    const held = holdConn(local, () => {
      // Gone before it had a channel: it no longer counts.
      if (entry && !entry.piped) this.forget(entry);
    });
    if (held.closed) return; // closed before we took it (a port probe): never counted
    entry = { id: ++this.seq, held, target, piped: false, route, stats: { bytesIn: 0, bytesOut: 0 } };
    this.all.add(entry);
    this.events?.verbose?.(
      `[${entry.id}] ${local.remoteAddress}:${local.remotePort} → ${target.host}:${target.port}: accepted`,
    );
    if (this.session.client()) {
      this.carry(entry);
      return;
    }
    // No SSH connection yet, or it is being re-established: wait for it, bounded in number
    // and in time.
    if (this.waiting.length >= MAX_EARLY_CONNECTIONS) {
      this.drop(entry, new Error("too many connections are waiting for the bastion"));
      return;
    }
    this.wait(entry, () =>
      this.events?.info?.(
        `Closed a connection to ${target.host}:${target.port}: the bastion was not reachable within ${this.timeoutMs / 1000} s`,
      ),
    );
  }

  /** A new SSH connection is up: carry whoever waited for it. */
  carryWaiting(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const e of waiting) this.carry(e);
  }

  /** Closes every connection still waiting for the bastion (the session stops or is over). */
  dropWaiting(): void {
    for (const e of this.waiting) this.drop(e);
    this.waiting = [];
  }

  /** Closing mid-stream is a cut, not an end: resets every connection left; returns how many. */
  resetAll(): number {
    const left = [...this.all];
    for (const e of left) e.held.conn.reset();
    return left.length;
  }

  /**
   * Carries a channel the server opened to us (a connection to a remote forward) over
   * `local`, counted with the local connections. The caller has connected `local` and
   * accepted the channel.
   */
  adopt(local: Conn, channel: Channel, target: Target): void {
    if (!this.session.accepting()) {
      local.reset();
      channel.close();
      return;
    }
    const held = holdConn(local);
    const entry: LocalEntry = { id: ++this.seq, held, target, piped: true, stats: { bytesIn: 0, bytesOut: 0 } };
    this.all.add(entry);
    const verbose = this.events?.verbose;
    pipeChannel(held, channel, {
      stats: entry.stats,
      closed: (stats, err) => {
        this.forget(entry);
        verbose?.(
          `[${entry.id}] closed: ${stats.bytesOut} bytes sent, ${stats.bytesIn} bytes received${err ? ` (${err.message})` : ""}`,
        );
      },
    });
    if (!held.closed) local.resume();
    verbose?.(`[${entry.id}] ${target.host}:${target.port}: open`);
  }

  private get events() {
    return this.session.options.events;
  }

  private get timeoutMs(): number {
    return this.session.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  }

  /** Waits for the bastion, closed if it is not back within the connect timeout. */
  private wait(entry: LocalEntry, timedOut?: () => void): void {
    const timeoutMs = this.timeoutMs;
    entry.timer = setTimeout(() => {
      this.waiting = this.waiting.filter((e) => e !== entry);
      timedOut?.();
      this.drop(entry, new Error(`the bastion was not reachable within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    this.waiting.push(entry);
  }

  /** Opens the channel for a held local connection and pipes the two. */
  private carry(entry: LocalEntry): void {
    clearTimeout(entry.timer);
    const client = this.session.client();
    const { held, target, id } = entry;
    if (held.closed) {
      this.forget(entry);
      return;
    }
    if (!client) {
      this.waiting.push(entry);
      return;
    }
    const verbose = this.events?.verbose;
    const local = held.conn;
    client.mux.openDirectTcpip(target.host, target.port, local.remoteAddress || "127.0.0.1", local.remotePort).then(
      (channel) => {
        entry.piped = true;
        if (entry.route && !held.closed) {
          entry.route.opened?.(local);
          if (entry.route.early?.length) channel.write(entry.route.early);
        }
        pipeChannel(held, channel, {
          stats: entry.stats,
          closed: (stats, err) => {
            this.forget(entry);
            verbose?.(
              `[${id}] closed: ${stats.bytesOut} bytes sent, ${stats.bytesIn} bytes received${err ? ` (${err.message})` : ""}`,
            );
          },
        });
        if (!held.closed) local.resume();
        verbose?.(`[${id}] open`);
      },
      (err: Error) => {
        if (held.closed) {
          this.forget(entry);
          return;
        }
        // The connection died while this channel was being opened: wait for the next one.
        if (this.session.client() !== client && this.session.accepting() && this.session.options.reconnect !== false) {
          this.wait(entry);
          return;
        }
        this.events?.info?.(`Connection to ${target.host}:${target.port} failed: ${err.message}`);
        this.drop(entry, err);
      },
    );
  }

  /** Closes a local connection that never got a channel (its router says why first). */
  private drop(entry: LocalEntry, why?: Error): void {
    clearTimeout(entry.timer);
    this.forget(entry);
    if (entry.route?.failed && !entry.held.closed)
      entry.route.failed(entry.held.conn, why ?? new Error("the tunnel closed"));
    // It never reached its target: a reset says so (as ssh -L does), where a FIN would look
    // like a server that answered nothing.
    else entry.held.conn.reset();
  }

  private forget(entry: LocalEntry): void {
    clearTimeout(entry.timer);
    if (!this.all.delete(entry)) return;
    this.closedBytes.bytesIn += entry.stats.bytesIn;
    this.closedBytes.bytesOut += entry.stats.bytesOut;
    if (this.all.size === 0) this.session.emptied();
  }
}
