/**
 * Benchmark tooling, not protocol: a TCP relay that behaves like a long link, for measuring
 * over a real-world round trip where netem is not available (issue 14).
 *
 * Each direction is a pipe with
 * - a fixed one-way delay: every chunk read is written `delayMs` after it was read, in order;
 * - a cap on bytes in flight: reading stops while the pipe holds `capBytes` (read, not yet
 *   written on), and resumes once it holds less — the link's buffer, which bounds throughput
 *   at cap ÷ delay as a bottleneck queue would;
 * - an optional rate limit: a token bucket of `burstBytes` refilled at `rateBytesPerSecond`.
 * A half-close (FIN) travels as a marker behind the data, so it arrives `delayMs` later too; a
 * connection that is cut (or closed while its peer still sends) cuts the other side, also
 * after the delay.
 *
 * It runs over the runtime seam (`Conn`/`Listener`), so under Node, Bun and Deno it uses each
 * runtime's own sockets. With no delay and no rate limit, chunks go straight through (no timer,
 * no copy): the relay must not be what a benchmark measures.
 */
import type { Conn, Listener, Runtime } from "@tunnel/ssh";

/** Where a delay relay forwards to, how long it holds bytes, and how much. */
export interface DelayRelayOptions {
  /** The runtime's socket adapter. */
  sockets: Runtime;
  /** One-way delay, milliseconds, applied to each direction (the round trip is twice this). */
  delayMs: number;
  /** Most bytes one direction holds (read, not yet written on); default 64 MiB. */
  capBytes?: number;
  /** Bytes per second per direction; undefined or 0: no limit. */
  rateBytesPerSecond?: number;
  /** Token bucket depth; default 64 KiB, or what 1 ms carries at the rate if more. */
  burstBytes?: number;
  /** Milliseconds, high resolution; default performance.now. */
  now?: () => number;
}

/** What a delay relay has carried so far. */
export interface RelayStats {
  /** Connections accepted since the start, closed ones included. */
  connections: number;
  /** Bytes written on, both directions, all connections. */
  bytes: number;
  /** The most one direction of one connection held at once. */
  peakHeld: number;
}

/** A running delay relay: where it listens, its counters, and how to stop it. */
export interface DelayRelay {
  /** The address it listens on. */
  readonly address: string;
  /** The port it listens on (the one the system chose, when asked for 0). */
  readonly port: number;
  /** Its counters, updated as it runs. */
  readonly stats: RelayStats;
  /** Stops listening and cuts every connection. */
  close(): Promise<void>;
}

/** The most one direction of a relay holds unless `capBytes` says otherwise. */
export const DEFAULT_RELAY_CAP = 64 * 1024 * 1024;
/** The smallest slice a rate-limited chunk is cut into (fewer, larger writes). */
const MIN_SLICE = 16 * 1024;

/** What travels through a pipe: data, the half-close, or the cut. */
type Item = { due: number; data: Uint8Array } | { due: number; data: "end" | "cut" };

/**
 * One direction, `src` → `dst`. The queue is an array with a moving head: pushes and shifts
 * are O(1) and nothing is copied.
 */
class Pipe {
  private readonly items: Item[] = [];
  private head = 0;
  /** Data bytes queued. */
  held = 0;
  private paused = false;
  /** `dst` said wait; the next `drain` resumes. */
  private blocked = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerDue = Number.POSITIVE_INFINITY;
  private tokens: number;
  private refilledAt: number;
  /** The half-close or cut has been queued (nothing may follow it). */
  sealed = false;
  private cutQueued = false;
  /** The half-close has gone out: this direction is finished. */
  finished = false;
  dead = false;
  private readonly immediate: boolean;

  constructor(
    private readonly src: Conn,
    private readonly dst: Conn,
    private readonly o: Required<Omit<DelayRelayOptions, "rateBytesPerSecond">> & { rate: number },
    private readonly stats: RelayStats,
  ) {
    this.tokens = o.burstBytes;
    this.refilledAt = o.now();
    this.immediate = o.delayMs <= 0 && o.rate <= 0;
  }

  push(data: Uint8Array | "end" | "cut"): void {
    if (this.dead) return;
    // Nothing follows a half-close but a cut (the sender vanished before the reply came).
    if (this.sealed && (data !== "cut" || this.cutQueued)) return;
    if (data === "end" || data === "cut") {
      this.sealed = true;
      if (data === "cut") this.cutQueued = true;
    } else {
      if (data.length === 0) return;
      // The fast path: no delay, no rate, nothing waiting — straight on.
      if (this.immediate && this.head === this.items.length && !this.blocked) {
        this.stats.bytes += data.length;
        if (!this.dst.write(data)) this.blocked = true;
        return;
      }
      this.held += data.length;
      if (this.held > this.stats.peakHeld) this.stats.peakHeld = this.held;
      if (this.held >= this.o.capBytes && !this.paused) {
        this.paused = true;
        this.src.pause();
      }
    }
    this.items.push({ due: this.o.now() + this.o.delayMs, data } as Item);
    if (this.immediate) this.flush();
    else if (this.timer === undefined && !this.blocked) this.arm(this.o.delayMs);
  }

  drained(): void {
    if (!this.blocked) return;
    this.blocked = false;
    this.flush();
  }

  private arm(ms: number): void {
    const due = this.o.now() + ms;
    if (this.timer !== undefined) {
      if (due >= this.timerDue) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerDue = Number.POSITIVE_INFINITY;
        this.flush();
      },
      Math.max(0, ms),
    );
  }

  /** Writes on everything due, as far as `dst` and the rate allow; re-arms for the rest. */
  private flush(): void {
    if (this.dead) return;
    // Timers fire late rather than early; a chunk due within half a millisecond goes now too,
    // so that chunks read in one burst leave in one burst.
    const now = this.o.now();
    const horizon = now + 0.5;
    while (this.head < this.items.length && !this.blocked) {
      const item = this.items[this.head] as Item;
      if (item.due > horizon) {
        this.arm(item.due - now);
        break;
      }
      if (typeof item.data !== "string" && this.o.rate > 0) {
        const { take, waitMs } = this.takeTokens(item.data.length, now);
        if (take === 0) {
          this.arm(waitMs);
          break;
        }
        if (take < item.data.length) {
          // The rest stays at the head, due as it was.
          const part = item.data.subarray(0, take);
          item.data = item.data.subarray(take);
          this.held -= take;
          this.stats.bytes += take;
          if (!this.dst.write(part)) this.blocked = true;
          continue;
        }
      }
      this.items[this.head++] = undefined as unknown as Item;
      if (item.data === "end") {
        this.finished = true;
        this.dst.end();
      } else if (item.data === "cut") {
        this.dst.reset();
      } else {
        this.held -= item.data.length;
        this.stats.bytes += item.data.length;
        if (!this.dst.write(item.data)) this.blocked = true;
      }
    }
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    if (this.paused && this.held < this.o.capBytes) {
      this.paused = false;
      this.src.resume();
    }
  }

  /**
   * Token bucket: how many bytes of an `n`-byte chunk may go now (taking their tokens), and
   * if none, the milliseconds to wait. A chunk larger than the tokens goes in slices of at
   * least MIN_SLICE bytes (or what is left of it), so no burst ever exceeds the bucket.
   */
  private takeTokens(n: number, now: number): { take: number; waitMs: number } {
    const rate = this.o.rate;
    this.tokens = Math.min(this.o.burstBytes, this.tokens + ((now - this.refilledAt) * rate) / 1000);
    this.refilledAt = now;
    const least = Math.min(n, MIN_SLICE, this.o.burstBytes);
    if (this.tokens < least) return { take: 0, waitMs: Math.max(0.1, ((least - this.tokens) * 1000) / rate) };
    const take = Math.min(n, Math.floor(this.tokens));
    this.tokens -= take;
    return { take, waitMs: 0 };
  }

  kill(): void {
    this.dead = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.items.length = 0;
    this.head = 0;
    this.held = 0;
  }
}

/**
 * Listens on `listenHost:listenPort` (0: any free port) and relays each connection to
 * `toHost:toPort` through a delayed pipe each way.
 */
export async function startDelayRelay(
  listenHost: string,
  listenPort: number,
  toHost: string,
  toPort: number,
  options: DelayRelayOptions,
): Promise<DelayRelay> {
  if (!(options.delayMs >= 0)) throw new RangeError(`delayMs: ${options.delayMs} is not a delay in milliseconds`);
  const capBytes = options.capBytes ?? DEFAULT_RELAY_CAP;
  if (!(capBytes > 0)) throw new RangeError(`capBytes: ${capBytes} is not a positive byte count`);
  const rate = options.rateBytesPerSecond ?? 0;
  if (!(rate >= 0)) throw new RangeError(`rateBytesPerSecond: ${rate} is not a rate`);
  const o = {
    sockets: options.sockets,
    delayMs: options.delayMs,
    capBytes,
    rate,
    burstBytes: options.burstBytes ?? Math.max(64 * 1024, rate / 1000),
    now: options.now ?? (() => performance.now()),
  };
  const stats: RelayStats = { connections: 0, bytes: 0, peakHeld: 0 };
  const open = new Set<Conn>();

  const relay = (client: Conn) => {
    stats.connections++;
    open.add(client);
    // Reads wait until the far side is connected: nothing is lost, nothing is held twice.
    client.pause();
    const noop = () => {};
    let up: Pipe | undefined;
    let down: Pipe | undefined;
    let clientClosed = false;
    const early = { ended: false, closed: false, error: false };
    client.setHandlers({
      data: (c) => up?.push(c),
      drain: () => down?.drained(),
      end: () => {
        if (up) up.push("end");
        else early.ended = true;
      },
      close: (err) => {
        clientClosed = true;
        open.delete(client);
        if (!up || !down) {
          early.closed = true;
          early.error = err !== undefined;
          return;
        }
        closed(up, down, err);
      },
    });
    /**
     * `from` closed: its outgoing pipe gets a cut behind its data unless it ended cleanly and
     * the other direction is finished too; what was on its way to `from` is dropped.
     */
    const closed = (outgoing: Pipe, incoming: Pipe, err: Error | undefined) => {
      incoming.kill();
      if (err !== undefined || !incoming.finished) outgoing.push("cut");
      else outgoing.push("end");
    };
    o.sockets.connect(toHost, toPort).then(
      (s) => {
        open.add(s);
        // Once both half-closes are out, the sockets close themselves.
        up = new Pipe(client, s, o, stats);
        down = new Pipe(s, client, o, stats);
        const u = up;
        const d = down;
        s.setHandlers({
          data: (c) => d.push(c),
          drain: () => u.drained(),
          end: () => d.push("end"),
          close: (err) => {
            open.delete(s);
            closed(d, u, err);
          },
        });
        if (early.ended) u.push("end");
        if (early.closed) closed(u, d, early.error ? new Error("client cut") : undefined);
        if (!clientClosed) client.resume();
      },
      () => {
        client.setHandlers({ data: noop, drain: noop, end: noop, close: noop });
        client.reset();
        open.delete(client);
      },
    );
  };

  const listener: Listener = await o.sockets.listen(listenHost, listenPort, relay);
  return {
    address: listener.address,
    port: listener.port,
    stats,
    async close() {
      await listener.close();
      for (const c of open) c.destroy();
      open.clear();
    },
  };
}
