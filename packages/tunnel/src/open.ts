/**
 * `tunnel open`: one SSH connection to the bastion, one local listener per target, each
 * local connection carried as a `direct-tcpip` channel of that one connection.
 */
import {
  type Conn,
  connectClient,
  type HostKeyVerifier,
  type Listener,
  type PrivateKey,
  type SshClient,
  SshError,
  type TransportInfo,
} from "@tunnel/ssh";
import { runtime } from "@tunnel/ssh/runtime";
import { type AlgorithmOptions, providerFor, resolveAlgorithms } from "./algorithms.ts";
import { defaultKnownHosts } from "./check.ts";
import { parseDestination } from "./destination.ts";
import { pipeChannel } from "./forward.ts";
import { expandHome, resolveIdentities } from "./identity.ts";
import { type HostKeyPolicy, knownHostsVerifier, type VerifierEvents } from "./known-hosts-file.ts";
import { localUserName } from "./local-user.ts";
import { rewriteUrl, type Target } from "./target.ts";

export const DEFAULT_LOCAL_PORT = 10000;
/** How far a default port may move when busy. */
export const PORT_SEARCH_RANGE = 100;
/** Local connections held while the SSH connection is set up; more are refused. */
export const MAX_EARLY_CONNECTIONS = 128;

export interface OpenOptions extends AlgorithmOptions {
  targets: Target[];
  via: string;
  port?: number | undefined;
  bind?: string | undefined;
  identity?: string | undefined;
  knownHosts?: string | undefined;
  hostKeyCheck?: HostKeyPolicy;
  password?: string | undefined;
  /** Keys to use instead of loading `identity` (embedders, the demo). */
  keys?: readonly PrivateKey[];
  /** A verifier to use instead of known_hosts (embedders, the demo). */
  verifier?: HostKeyVerifier;
  events?: VerifierEvents & {
    /** Human-oriented progress lines. */
    info?(line: string): void;
    /** Per-connection lines (--verbose). */
    verbose?(line: string): void;
  };
}

export interface OpenedTarget {
  target: Target;
  localHost: string;
  localPort: number;
  /** The rewritten URL (full, with password), when the target was a URL. */
  url: string | undefined;
  /** The same with the password masked. */
  maskedUrl: string | undefined;
}

export class TunnelSession {
  readonly opened: OpenedTarget[] = [];
  private client: SshClient | undefined;
  private listeners: Listener[] = [];
  private readonly locals = new Set<Conn>();
  private connSeq = 0;
  private endedResolve!: (err?: Error) => void;
  /** Resolves when the SSH connection ends: with an error unless we stopped it. */
  readonly ended: Promise<Error | undefined>;
  private stopping = false;
  /** Local connections accepted while the SSH connection was still being set up. */
  private early: { local: Conn; target: Target; gone: boolean }[] = [];

  constructor(private readonly options: OpenOptions) {
    this.ended = new Promise((r) => {
      this.endedResolve = r;
    });
  }

  /** What the SSH connection negotiated, once started. */
  get clientInfo(): TransportInfo | undefined {
    return this.client?.info;
  }

  get activeConnections(): number {
    return this.locals.size;
  }

  async start(): Promise<OpenedTarget[]> {
    const o = this.options;
    const dest = parseDestination(o.via);
    const provider = providerFor(o.crypto);
    const algorithms = resolveAlgorithms(o, provider);
    const knownHosts = expandHome(o.knownHosts ?? defaultKnownHosts());
    const keys = o.keys ?? resolveIdentities(o.identity).keys;
    const bind = o.bind ?? "127.0.0.1";
    // Bind first: a busy explicit port fails before we touch the network.
    await this.bindAll(bind);
    try {
      const conn = await (this.options.sockets ?? runtime).connect(dest.host, dest.port);
      this.client = await connectClient(conn, {
        host: dest.host,
        port: dest.port,
        username: dest.user ?? localUserName(),
        identities: keys,
        ...(o.password !== undefined ? { password: o.password } : {}),
        algorithms,
        provider,
        verifyHostKey: o.verifier ?? knownHostsVerifier(knownHosts, o.hostKeyCheck ?? "accept-new", o.events),
      });
    } catch (err) {
      await this.closeListeners();
      for (const e of this.early) e.local.destroy();
      this.early = [];
      throw err;
    }
    this.client.onceClosed((err) => {
      void this.closeListeners();
      for (const c of this.locals) c.destroy();
      this.endedResolve(
        this.stopping ? undefined : (err ?? new SshError("CONNECTION_LOST", "the bastion closed the connection")),
      );
    });
    const early = this.early;
    this.early = [];
    for (const e of early) if (!e.gone) this.onLocal(e.local, e.target);
    return this.opened;
  }

  private async bindAll(bind: string): Promise<void> {
    const explicit = this.options.port !== undefined;
    let port = this.options.port ?? DEFAULT_LOCAL_PORT;
    for (const target of this.options.targets) {
      const listener = await this.bindOne(bind, port, explicit, target);
      this.listeners.push(listener);
      const localHost = listener.address;
      this.opened.push({
        target,
        localHost,
        localPort: listener.port,
        url: rewriteUrl(target, localHost, listener.port),
        maskedUrl: rewriteUrl(target, localHost, listener.port, true),
      });
      if (port !== 0) port = listener.port + 1;
    }
  }

  private async bindOne(bind: string, port: number, explicit: boolean, target: Target): Promise<Listener> {
    const limit = explicit || port === 0 ? port : Math.min(65535, port + PORT_SEARCH_RANGE);
    for (let p = port; p <= limit; p++) {
      try {
        const l = await (this.options.sockets ?? runtime).listen(bind, p, (conn) => this.onLocal(conn, target));
        if (p !== port) this.options.events?.info?.(`Port ${port} is busy; using ${p} instead`);
        return l;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EADDRINUSE" && !explicit) continue;
        await this.closeListeners();
        if (code === "EADDRINUSE")
          throw new TypeError(`port ${p} on ${bind} is already in use; choose another with --port`);
        if (code === "EACCES") throw new TypeError(`no permission to listen on ${bind}:${p}; use a port above 1023`);
        if (code === "EADDRNOTAVAIL") throw new TypeError(`cannot listen on ${bind}: no such local address`);
        throw err;
      }
    }
    await this.closeListeners();
    throw new TypeError(`no free port between ${port} and ${limit} on ${bind}; choose one with --port`);
  }

  private onLocal(local: Conn, target: Target): void {
    const client = this.client;
    if (this.stopping) {
      local.destroy();
      return;
    }
    if (!client) {
      // The listener is up before the SSH connection is: hold early clients (paused, bounded)
      // and carry them once it is ready, rather than resetting them.
      if (this.early.length >= MAX_EARLY_CONNECTIONS) {
        local.destroy();
        return;
      }
      local.pause();
      const entry = { local, target, gone: false };
      local.setHandlers({
        data() {},
        drain() {},
        end() {},
        close() {
          entry.gone = true;
        },
      });
      this.early.push(entry);
      return;
    }
    const id = ++this.connSeq;
    const from = `${local.remoteAddress}:${local.remotePort}`;
    const verbose = this.options.events?.verbose;
    this.locals.add(local);
    local.pause(); // nothing is read until the channel exists
    let gone = false;
    local.setHandlers({
      data() {},
      drain() {},
      end() {},
      close() {
        gone = true;
      },
    });
    verbose?.(`[${id}] ${from} → ${target.host}:${target.port}: opening`);
    client.mux.openDirectTcpip(target.host, target.port, local.remoteAddress || "127.0.0.1", local.remotePort).then(
      (channel) => {
        if (gone) {
          // The local client left while the channel was being opened.
          this.locals.delete(local);
          channel.close();
          return;
        }
        pipeChannel(local, channel, {
          closed: (stats, err) => {
            this.locals.delete(local);
            verbose?.(
              `[${id}] closed: ${stats.bytesOut} bytes sent, ${stats.bytesIn} bytes received${err ? ` (${err.message})` : ""}`,
            );
          },
        });
        local.resume();
        verbose?.(`[${id}] open`);
      },
      (err: Error) => {
        this.locals.delete(local);
        local.destroy();
        this.options.events?.info?.(`Connection to ${target.host}:${target.port} failed: ${err.message}`);
      },
    );
  }

  private async closeListeners(): Promise<void> {
    const ls = this.listeners;
    this.listeners = [];
    await Promise.all(ls.map((l) => l.close().catch(() => {})));
  }

  /**
   * Stops accepting, lets open connections finish for `graceMs`, then closes what is left
   * and sends DISCONNECT. Call again (`force`) to end at once.
   */
  async stop(graceMs = 3000, force = false): Promise<void> {
    this.stopping = true;
    await this.closeListeners();
    if (!force) {
      const deadline = Date.now() + graceMs;
      while (this.locals.size > 0 && Date.now() < deadline && !this.forced) await sleep(50);
    }
    for (const c of this.locals) c.destroy();
    this.client?.close("tunnel closed by user");
  }

  private forced = false;
  /** A second Ctrl+C: stop waiting for the grace period. */
  forceStop(): void {
    this.forced = true;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
