/**
 * Test harness: a TCP relay on a free loopback port in front of a target (the harness sshd),
 * whose behaviour can be switched at any moment, for each connection it carries and for new
 * ones — the network faults of issue 13 (a link that is slow, black-holed, reset, closed, or
 * a bastion that refuses connections), made with node:net alone so it runs the same under
 * Node, Bun and Deno.
 *
 *   const relay = await startFaultRelay(sshd.port);
 *   ... point the client at relay.port ...
 *   await relay.set("freeze");             // every link and every new one: nothing crosses
 *   await relay.set("reset", "existing");  // RST both sides of the links there are
 *   await relay.set("refuse", "new");      // new connections: ECONNREFUSED (listener closed)
 *   await relay.set("pass");               // back to normal (listening again, same port)
 *   await relay.stop();
 *
 * Modes:
 * - `pass`: bytes cross as they come; FIN and RST from either end are passed on as such.
 * - `{ delay: ms }`: each chunk is held `ms` before it is forwarded, each way, order kept.
 * - `{ freeze: "up" }` / `{ freeze: "down" }`: the same for one direction only (up is
 *   client → target), the other passing as in `pass`.
 * - `freeze`: a black hole: both sockets stay open and are read, nothing is forwarded (not
 *   even a FIN). What was read is held and crosses when the link is switched back to `pass`
 *   or `delay`, as TCP would deliver it after a short outage; a link left frozen is usually
 *   reset or closed afterwards. Reading stops once FREEZE_HOLD_BYTES are held each way, so
 *   the sender's own buffers fill, as they would with no ACKs coming back.
 * - `reset`: an action, not a state: RST to both sides (Node's socket.resetAndDestroy(),
 *   which Node 20+, Bun 1.4 and Deno 2.9 all implement; plain destroy() where it is missing).
 *   For new connections: accepted, then reset at once.
 * - `close`: FIN to both sides (what was held is dropped); each socket is destroyed once its
 *   peer has closed too, or after CLOSE_LINGER_MS. For new connections: accepted, then closed.
 * - `refuse`: new connections only: the listener is closed, so a connect gets ECONNREFUSED;
 *   leaving `refuse` listens again on the same port. Links already there are left as they are.
 *
 * When the target itself refuses (sshd down behind the relay), the accepted client connection
 * is reset: to the client this looks like a bastion that dropped the connection at once.
 */
import * as net from "node:net";

export type FaultMode =
  | "pass"
  | "freeze"
  | "reset"
  | "close"
  | "refuse"
  | { delay: number }
  | { freeze: "up" | "down" };
/** What a single link can be switched to (`refuse` concerns new connections only). */
export type LinkMode = Exclude<FaultMode, "refuse">;
export type FaultScope = "all" | "existing" | "new";

/** Bytes held per direction before a frozen or delayed link stops reading. */
export const FREEZE_HOLD_BYTES = 16 * 1024 * 1024;
/** Bytes queued per direction (held plus unsent in the destination socket) before reading pauses. */
const QUEUE_HIGH = 4 * 1024 * 1024;
export const CLOSE_LINGER_MS = 2000;

/** One connection carried by the relay: the client's socket and the relay's own to the target. */
export interface RelayLink {
  readonly id: number;
  readonly mode: LinkMode;
  /** Bytes forwarded client → target so far. */
  readonly bytesUp: number;
  /** Bytes forwarded target → client so far. */
  readonly bytesDown: number;
  /** Bytes read from either side since the link was created (forwarded or not). */
  readonly bytesRead: number;
  /** False once both sockets are closed. */
  readonly open: boolean;
  /** Resolves when both sockets are closed. */
  readonly closed: Promise<void>;
  set(mode: LinkMode): void;
}

export interface FaultRelay {
  host: "127.0.0.1";
  port: number;
  targetHost: string;
  targetPort: number;
  /** The mode new connections get. */
  readonly newMode: FaultMode;
  /** Connections accepted so far (refused ones are not accepted). */
  readonly accepted: number;
  /** The links still open, oldest first. */
  links(): RelayLink[];
  /**
   * Switches the existing links, new connections, or both. Resolves once it is in effect:
   * for `refuse`, when the listener is closed; when leaving `refuse`, when it listens again.
   */
  set(mode: FaultMode, scope?: FaultScope): Promise<void>;
  /** Resolves when at least `n` links are open (rejects after `timeoutMs`). */
  waitForLinks(n: number, timeoutMs?: number): Promise<RelayLink[]>;
  /** Resets every link and closes the listener. */
  stop(): Promise<void>;
}

/**
 * RST where the runtime's node:net can send one, an ordinary close otherwise. Not after our own
 * FIN: libuv refuses a reset once the socket is shut down for writing, and Node then never
 * emits 'close'; there destroy() is used (with unread bytes the kernel still answers RST).
 */
export function resetSocket(socket: net.Socket): void {
  if (socket.destroyed) return;
  if (socket.writableEnded) {
    socket.destroy();
    return;
  }
  const s = socket as net.Socket & { resetAndDestroy?: () => void };
  if (typeof s.resetAndDestroy === "function") {
    try {
      s.resetAndDestroy();
      return;
    } catch {
      // not connected yet: fall through
    }
  }
  socket.destroy();
}

function describeMode(mode: FaultMode): string {
  if (typeof mode !== "object") return mode;
  return "delay" in mode ? `delay(${mode.delay})` : `freeze(${mode.freeze})`;
}

function checkMode(mode: FaultMode): void {
  if (typeof mode === "object") {
    if ("freeze" in mode) {
      if (mode.freeze !== "up" && mode.freeze !== "down")
        throw new TypeError(`freeze: expected "up" or "down", got ${String(mode.freeze)}`);
    } else if (!Number.isFinite(mode.delay) || mode.delay < 0)
      throw new RangeError(`delay: expected a number of milliseconds >= 0, got ${mode.delay}`);
  } else if (!["pass", "freeze", "reset", "close", "refuse"].includes(mode)) {
    throw new TypeError(`mode: expected pass, delay, freeze, reset, close or refuse, got ${String(mode)}`);
  }
}

interface Held {
  chunk: Buffer;
  at: number;
}

/** One direction of a link: what `from` sends goes to `to`, through a queue kept in order. */
class Direction {
  private queue: Held[] = [];
  private queued = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private finPending = false;
  private finSent = false;
  forwarded = 0;

  constructor(
    private readonly link: Link,
    private readonly name: "up" | "down",
    private readonly from: net.Socket,
    private readonly to: net.Socket,
  ) {}

  /** Nothing crosses this way now. */
  private frozen(): boolean {
    const mode = this.link.mode;
    return mode === "freeze" || (typeof mode === "object" && "freeze" in mode && mode.freeze === this.name);
  }

  /** Milliseconds each chunk is held this way. */
  private delay(): number {
    const mode = this.link.mode;
    return typeof mode === "object" && "delay" in mode ? mode.delay : 0;
  }

  onData(chunk: Buffer): void {
    this.link.bytesRead += chunk.length;
    if (this.link.isClosing) return; // closing: what comes now is dropped
    if (this.queue.length === 0 && !this.frozen() && this.delay() === 0 && !this.to.destroyed) {
      this.forwarded += chunk.length;
      if (!this.to.write(chunk)) this.from.pause();
      return;
    }
    this.queue.push({ chunk, at: Date.now() });
    this.queued += chunk.length;
    const limit = this.frozen() ? FREEZE_HOLD_BYTES : QUEUE_HIGH;
    if (this.queued >= limit) this.from.pause();
    this.flush();
  }

  onEnd(): void {
    this.finPending = true;
    this.flush();
  }

  /** The destination drained, or the mode changed: forward what is due, pause or resume reading. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.link.isClosing || this.to.destroyed) return;
    if (this.frozen()) {
      // a black hole still reads, up to what it may hold
      if (this.queued < FREEZE_HOLD_BYTES && !this.finPending) this.from.resume();
      return;
    }
    const delay = this.delay();
    const now = Date.now();
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const due = head.at + delay;
      if (due > now) {
        this.timer = setTimeout(() => this.flush(), due - now);
        break;
      }
      this.queue.shift();
      this.queued -= head.chunk.length;
      this.forwarded += head.chunk.length;
      this.to.write(head.chunk);
      if (this.to.writableLength >= QUEUE_HIGH) break; // the 'drain' handler calls flush again
    }
    if (this.queue.length === 0 && this.finPending && !this.finSent) {
      this.finSent = true;
      this.to.end();
    }
    if (this.queued + this.to.writableLength < QUEUE_HIGH && !this.finPending) this.from.resume();
  }

  drop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
    this.queued = 0;
  }
}

class Link implements RelayLink {
  mode: LinkMode;
  bytesRead = 0;
  isClosing = false;
  open = true;
  readonly closed: Promise<void>;
  private readonly up: Direction;
  private readonly down: Direction;
  private upstreamReady = false;

  constructor(
    readonly id: number,
    mode: LinkMode,
    private readonly client: net.Socket,
    private readonly server: net.Socket,
    onGone: (link: Link) => void,
  ) {
    this.mode = mode;
    this.up = new Direction(this, "up", client, server);
    this.down = new Direction(this, "down", server, client);
    let clientClosed = false;
    let serverClosed = false;
    this.closed = new Promise((resolve) => {
      const check = () => {
        if (clientClosed && serverClosed) {
          this.open = false;
          this.up.drop();
          this.down.drop();
          onGone(this);
          resolve();
        }
      };
      client.once("close", () => {
        clientClosed = true;
        check();
      });
      server.once("close", () => {
        serverClosed = true;
        check();
      });
    });
    client.on("data", (d: Buffer) => this.up.onData(d));
    server.on("data", (d: Buffer) => this.down.onData(d));
    client.on("end", () => this.up.onEnd());
    server.on("end", () => this.down.onEnd());
    client.on("drain", () => this.down.flush());
    server.on("drain", () => this.up.flush());
    // An error on one side (ECONNRESET, EPIPE) is passed on as RST to the other, unless the
    // link is frozen (a black hole passes nothing on) or already being closed by us.
    client.on("error", () => this.peerFailed(server));
    server.on("error", () => this.peerFailed(client));
    server.once("connect", () => {
      this.upstreamReady = true;
      if (!this.isClosing) client.resume();
      this.up.flush();
    });
  }

  private peerFailed(other: net.Socket): void {
    if (this.isClosing) return;
    if (this.mode === "freeze" || (typeof this.mode === "object" && "freeze" in this.mode)) return;
    this.isClosing = true;
    this.up.drop();
    this.down.drop();
    resetSocket(other);
    resetSocket(this.client);
    resetSocket(this.server);
  }

  get bytesUp(): number {
    return this.up.forwarded;
  }

  get bytesDown(): number {
    return this.down.forwarded;
  }

  set(mode: LinkMode): void {
    checkMode(mode);
    if (!this.open) return;
    if (mode === "reset") {
      this.isClosing = true;
      this.up.drop();
      this.down.drop();
      resetSocket(this.client);
      resetSocket(this.server);
      return;
    }
    if (this.isClosing) return;
    if (mode === "close") {
      this.isClosing = true;
      this.up.drop();
      this.down.drop();
      for (const s of [this.client, this.server]) {
        s.resume(); // read (and drop) until the peer answers our FIN with its own
        s.end();
        setTimeout(() => s.destroy(), CLOSE_LINGER_MS).unref?.();
      }
      return;
    }
    this.mode = mode;
    if (this.upstreamReady) {
      this.up.flush();
      this.down.flush();
    }
  }
}

/**
 * Starts a relay on 127.0.0.1 (a free port, or `options.port`) in front of
 * `targetHost:targetPort`, in `pass` mode.
 */
export async function startFaultRelay(
  targetPort: number,
  options: { targetHost?: string; port?: number } = {},
): Promise<FaultRelay> {
  const targetHost = options.targetHost ?? "127.0.0.1";
  const links = new Set<Link>();
  let seq = 0;
  let accepted = 0;
  let newMode: FaultMode = "pass";
  let server: net.Server | undefined;
  let stopped = false;

  const onConnection = (client: net.Socket) => {
    accepted++;
    client.on("error", () => {});
    const mode = newMode;
    if (mode === "reset") {
      resetSocket(client);
      return;
    }
    if (mode === "close") {
      client.resume();
      client.end();
      setTimeout(() => client.destroy(), CLOSE_LINGER_MS).unref?.();
      return;
    }
    if (mode === "refuse") {
      // accepted in the instant before the listener closed
      resetSocket(client);
      return;
    }
    client.pause();
    const upstream = net.connect({ host: targetHost, port: targetPort, allowHalfOpen: true });
    upstream.on("error", () => {});
    const link = new Link(++seq, mode, client, upstream, (l) => links.delete(l));
    links.add(link);
  };

  const listen = (port: number) =>
    new Promise<net.Server>((resolve, reject) => {
      const srv = net.createServer({ allowHalfOpen: true }, onConnection);
      srv.once("error", reject);
      srv.listen(port, "127.0.0.1", () => {
        srv.off("error", reject);
        resolve(srv);
      });
    });

  server = await listen(options.port ?? 0);
  const port = (server.address() as net.AddressInfo).port;

  const closeListener = async () => {
    const srv = server;
    server = undefined;
    if (!srv) return;
    // close() stops accepting at once; its callback waits for the connections, which we keep.
    await new Promise<void>((resolve) => {
      srv.close();
      // Node closes the listening handle synchronously; give Bun's and Deno's layers a turn.
      setTimeout(resolve, 20);
    });
  };

  const relay: FaultRelay = {
    host: "127.0.0.1",
    port,
    targetHost,
    targetPort,
    get newMode() {
      return newMode;
    },
    get accepted() {
      return accepted;
    },
    links: () => [...links].filter((l) => l.open),
    async set(mode, scope = "all") {
      checkMode(mode);
      if (stopped) throw new Error("the fault relay is stopped");
      if (mode === "refuse" && scope === "existing")
        throw new TypeError(`mode refuse concerns new connections only; got scope "existing"`);
      if (scope !== "new" && mode !== "refuse") for (const l of [...links]) l.set(mode);
      if (scope === "existing") return;
      const was = newMode;
      newMode = mode;
      if (mode === "refuse" && was !== "refuse") await closeListener();
      if (mode !== "refuse" && !server) {
        try {
          server = await listen(port);
        } catch (err) {
          throw new Error(
            `fault relay: cannot listen on 127.0.0.1:${port} again after ${describeMode(was)}: ${(err as Error).message}`,
          );
        }
      }
    },
    async waitForLinks(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const open = relay.links();
        if (open.length >= n) return open;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`fault relay: ${relay.links().length} link(s) open after ${timeoutMs} ms, expected ${n}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const l of [...links]) l.set("reset");
      await closeListener();
      await Promise.all([...links].map((l) => l.closed));
    },
  };
  return relay;
}
