/**
 * `tunnel open`: one SSH connection to the bastion, one local listener per target, each
 * local connection carried as a `direct-tcpip` channel of that one connection (RFC 4254 §7.2).
 *
 * The same session carries `tunnel run` (the targets on free ports), `tunnel socks` (one
 * listener whose connections name their destination in a handshake: `route`) and `tunnel
 * expose` (remote forwards requested on each new connection: `setup`, their connections
 * carried by `adopt`), so all of them keep alive, reconnect and stop in the same way.
 */
import {
  type Channel,
  type Conn,
  type HostKeyVerifier,
  type Listener,
  type PrivateKey,
  type SshClient,
  SshError,
  type TransportInfo,
} from "@tunnel/ssh";
import { runtime } from "@tunnel/ssh/runtime";
import type { AuthIdentityOptions } from "./agent-identities.ts";
import { type AlgorithmOptions, providerFor } from "./algorithms.ts";
import { noneAuthWarning } from "./auth-warning.ts";
import { appliedConfigLines, type ResolvedDestination, resolveDestination } from "./destination-config.ts";
import type { PipeStats } from "./forward.ts";
import { type ConnectOne, connectChain } from "./hop-chain.ts";
import { loginTo } from "./hop-login.ts";
import type { HostKeyPolicy, VerifierEvents } from "./known-hosts-file.ts";
import { DEFAULT_CONNECT_TIMEOUT_MS, LocalConnections, type Route } from "./local-connections.ts";
import { DEFAULT_LOCAL_PORT, listenLocal } from "./local-ports.ts";
import { optionName } from "./option-names.ts";
import type { PassphrasePrompter } from "./passphrase.ts";
import { postQuantumWarning } from "./pq-warning.ts";
import { isPermanentFailure, reconnectDelay } from "./reconnect.ts";
import { rewriteUrl, type Target } from "./target.ts";

/** OpenSSH's ServerAliveInterval for our tunnels (its own default is off). */
export const DEFAULT_KEEPALIVE_MS = 15_000;
/** OpenSSH's ServerAliveCountMax. */
export const DEFAULT_KEEPALIVE_COUNT = 3;

/** What `TunnelSession` opens (targets), via which bastion, and how it connects and reconnects. */
export interface OpenOptions extends AlgorithmOptions, Pick<AuthIdentityOptions, "identityFiles" | "identitiesOnly"> {
  /** The services to reach (`resolveTarget`), one local listener each, in this order. */
  targets: Target[];
  /**
   * The bastion: `[user@]host[:port]`, or a Host of ssh_config when `sshConfig` is read; the
   * CLI's `--via`, else TUNNEL_VIA.
   */
  via: string;
  /** `--jump`: jump hosts `[user@]host[:port],…` before `via` (or `none`), replacing ssh_config's ProxyJump and ProxyCommand. */
  jump?: string | undefined;
  /**
   * ssh_config to resolve `via` through: `true` for ~/.ssh/config then /etc/ssh/ssh_config,
   * a path for that file only (ssh -F; `none`: none); absent: none (embedders, the demo).
   */
  sshConfig?: string | boolean | undefined;
  /**
   * The first target's local port, each next target on the port after the one before; the
   * CLI's `--port`. Given, each must be free (0: any free port); absent, from 10000, a busy port
   * moves on to the next free one (up to 100 further).
   */
  port?: number | undefined;
  /** The local address to listen on (default 127.0.0.1); the CLI's `--bind`. */
  bind?: string | undefined;
  /** A private key file, offered before ssh_config's IdentityFile ones; the CLI's `--identity`. */
  identity?: string | undefined;
  /** IdentityAgent: a socket path, `none`, `SSH_AUTH_SOCK` or `$VAR` (default: SSH_AUTH_SOCK). */
  agent?: string | undefined;
  /**
   * The one known_hosts file to check host keys against and record new ones in, instead of
   * ssh_config's UserKnownHostsFile and GlobalKnownHostsFile or ssh's defaults (without
   * ssh_config: ~/.ssh/known_hosts); the CLI's `--known-hosts`.
   */
  knownHosts?: string | undefined;
  /**
   * What to do with a host key known_hosts does not vouch for, on every host of the chain
   * (default: ssh_config's StrictHostKeyChecking, else `accept-new`); the CLI's `--host-key-check`.
   */
  hostKeyCheck?: HostKeyPolicy;
  /**
   * A password given up front (the CLI reads TUNNEL_PASSWORD): used for password and
   * keyboard-interactive on every connection, never asked.
   */
  password?: string | undefined;
  /** How to ask for a password on the first connection: default as ssh asks; `false` never (BatchMode). */
  prompter?: PassphrasePrompter | false | undefined;
  /** Keys to use instead of loading `identity` (embedders, the demo). */
  keys?: readonly PrivateKey[];
  /** A verifier to use instead of known_hosts (embedders, the demo). */
  verifier?: HostKeyVerifier;
  /** SSH keepalive interval (0: off) and silent intervals before the bastion counts as dead. */
  keepaliveMs?: number | undefined;
  /**
   * Silent keepalive intervals before the bastion counts as gone (default: ssh_config's
   * ServerAliveCountMax, else 3); the CLI's `--keepalive-count`.
   */
  keepaliveCountMax?: number | undefined;
  /** Reconnect when the connection is lost (default true). */
  reconnect?: boolean | undefined;
  /** How long a local connection waits for the bastion during an outage; also the TCP connect timeout. */
  connectTimeoutMs?: number | undefined;
  /** Rekey after this many bytes each way (tests force frequent rekeys with it). */
  rekeyBytes?: number | undefined;
  /** The largest a channel's receive window may grow to (default 16 MiB). */
  maxWindow?: number | undefined;
  /** What the session reports as it goes: host keys added or accepted unchecked, progress and connection lines. */
  events?: VerifierEvents & {
    /** Human-oriented progress lines. */
    info?(line: string): void;
    /** Per-connection lines (--verbose). */
    verbose?(line: string): void;
  };
  /**
   * Asks each local connection where it goes before it is carried (a SOCKS handshake)
   * instead of sending it to its listener's target. The router calls `carry` once the
   * handshake named the destination — from within its data handler, so that nothing the
   * connection does in between is missed — or closes the connection itself.
   */
  route?: ((conn: Conn, carry: (route: Route) => void) => void) | undefined;
  /**
   * Runs on every new SSH connection before it carries anything (`again` on reconnections):
   * remote forwards are requested here. If it fails, that connection is closed: the first
   * time `start` fails with the error; after a reconnection the session retries later.
   */
  setup?: ((client: SshClient, again: boolean) => Promise<void>) | undefined;
}

/** One target as opened: the local address to use, and its URL rewritten to it. */
export interface OpenedTarget {
  /** The target as given. */
  target: Target;
  /** The local address its listener is bound to. */
  localHost: string;
  /** The local port its listener is bound to: the one found when 0 or a busy default port was asked for. */
  localPort: number;
  /** The rewritten URL (full, with password), when the target was a URL. */
  url: string | undefined;
  /** The same with the password masked. */
  maskedUrl: string | undefined;
}

export type { Route } from "./local-connections.ts";

/** Local forwards through one SSH connection to a bastion, kept alive and reconnected. */
export class TunnelSession {
  /** Each target's local port and URL, once `start` has bound them. */
  readonly opened: OpenedTarget[] = [];
  private client: SshClient | undefined;
  private listeners: Listener[] = [];
  /** Every local connection not yet fully closed (local-connections.ts). */
  private readonly locals: LocalConnections;
  private endedResolve!: (err?: Error) => void;
  /** Resolves when the tunnel ends: with an error unless it was stopped. */
  readonly ended: Promise<Error | undefined>;
  private stopping = false;
  private finished = false;
  private attempt = 0;
  private lostAt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private wakeStop: (() => void) | undefined;
  private pausedNow = false;

  constructor(private readonly options: OpenOptions) {
    this.ended = new Promise((r) => {
      this.endedResolve = r;
    });
    this.locals = new LocalConnections({
      client: () => this.client,
      accepting: () => this.accepting,
      options,
      emptied: () => this.wakeStop?.(),
    });
  }

  /** What the SSH connection negotiated, once started. */
  get clientInfo(): TransportInfo | undefined {
    return this.client?.info;
  }

  /** Local connections open right now (waiting for the bastion, carried, or closing). */
  get activeConnections(): number {
    return this.locals.size;
  }

  /** True while the connection to the bastion is being re-established. */
  get reconnecting(): boolean {
    return this.attempt > 0;
  }

  /** Bytes carried since the start, both ways (`bytesOut`: from the local clients towards the targets). */
  get bytes(): PipeStats {
    return this.locals.bytes;
  }

  /** True between `pause` and `resume`: nothing listens on the local ports. */
  get paused(): boolean {
    return this.pausedNow;
  }

  /**
   * Stops accepting local connections: the ports are closed (a client is refused) but the
   * tunnel, its SSH connection and the connections already open live on.
   */
  async pause(): Promise<void> {
    if (this.pausedNow || !this.accepting) return;
    this.pausedNow = true;
    await this.closeListeners();
  }

  /** Listens again on the same addresses and ports as before `pause`; fails if one was taken meanwhile. */
  async resume(): Promise<void> {
    if (!this.pausedNow || !this.accepting) return;
    const bound: Listener[] = [];
    try {
      for (const o of this.opened) {
        const l = await this.bindOne(o.localHost, o.localPort, true, o.target);
        bound.push(l);
        this.listeners.push(l);
      }
    } catch (err) {
      await Promise.all(bound.map((l) => l.close().catch(() => {})));
      this.listeners = [];
      throw err;
    }
    this.pausedNow = false;
  }

  /** False once the session is stopping or over: new connections are refused then. */
  get accepting(): boolean {
    return !this.stopping && !this.finished;
  }

  /**
   * Binds the local ports (a busy one fails before any network use), then connects and logs
   * in to the bastion; resolves with `opened`. A failure ends the session and rejects.
   */
  async start(): Promise<OpenedTarget[]> {
    const bind = this.options.bind ?? "127.0.0.1";
    // Bind first: a busy explicit port fails before we touch the network.
    await this.bindAll(bind);
    try {
      this.attach(await this.prepare(await this.connect(), false));
    } catch (err) {
      this.finish(err as Error);
      throw err;
    }
    return this.opened;
  }

  private resolvedVia: ResolvedDestination | undefined;
  /** The post-quantum warning was considered (first connection). */
  private kexChecked = false;

  /** `via` through ssh_config and the flags: resolved once, when the session first connects. */
  private bastion(): ResolvedDestination {
    if (this.resolvedVia) return this.resolvedVia;
    const o = this.options;
    const dest = resolveDestination({ ...o, destination: o.via });
    for (const line of dest.config?.warnings ?? []) o.events?.info?.(`WARNING: ${line}`);
    for (const line of appliedConfigLines(dest)) o.events?.verbose?.(`config: ${line}`);
    this.resolvedVia = dest;
    return dest;
  }

  /**
   * One SSH connection to the bastion, host key verified and authenticated — through its jump
   * hosts or ProxyCommand, when it has them (hop-chain.ts), the whole chain built afresh.
   */
  private async connect(): Promise<SshClient> {
    const o = this.options;
    const dest = this.bastion();
    const provider = providerFor(o.crypto, o.optionNames);
    const connectOne: ConnectOne = (d, conn, hop) =>
      loginTo(o, d, conn, hop, {
        provider,
        // Asked on the first connection only: a reconnection in the background asks nobody.
        prompter: this.attempt > 0 ? false : o.prompter,
        policy: "accept-new",
        verifier: o.verifier,
        keys: o.keys,
        client: {
          keepaliveMs: d.keepaliveMs ?? DEFAULT_KEEPALIVE_MS,
          keepaliveCountMax: d.keepaliveCountMax ?? DEFAULT_KEEPALIVE_COUNT,
          ...(o.rekeyBytes !== undefined ? { rekeyBytes: o.rekeyBytes } : {}),
        },
      });
    const first = dest.jumps[0] ?? dest;
    const keepAliveMs = first.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    const { client } = await connectChain(
      dest,
      {
        sockets: o.sockets,
        connectTimeoutMs: first.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        keepAliveMs,
      },
      connectOne,
    );
    // Downloads through any server: our receive windows grow on long links (connection/window.ts).
    if (o.maxWindow !== undefined) client.mux.maxWindow = o.maxWindow;
    return client;
  }

  /** Runs `setup` on a new connection; closes the connection if that fails. */
  private async prepare(client: SshClient, again: boolean): Promise<SshClient> {
    if (!this.options.setup) return client;
    try {
      await this.options.setup(client, again);
    } catch (err) {
      client.close("tunnel set-up failed");
      throw err;
    }
    return client;
  }

  /** A new SSH connection is up: carry whoever waited for it, and watch it. */
  private attach(client: SshClient): void {
    if (this.stopping) {
      client.close("tunnel closed by user");
      return;
    }
    this.client = client;
    if (!this.kexChecked) {
      // Once per session: the key exchange is the server's, the same on every reconnection.
      this.kexChecked = true;
      const kex = client.info.negotiated?.kex ?? "";
      const pq = postQuantumWarning(kex, this.bastion().algorithms.kexAlgorithms !== undefined);
      if (pq) this.options.events?.info?.(pq);
    }
    if (client.auth?.method === "none") {
      this.options.events?.info?.(noneAuthWarning(this.bastion().user, this.options.via));
    }
    if (this.attempt > 0) {
      const secs = ((Date.now() - this.lostAt) / 1000).toFixed(1);
      this.options.events?.info?.(`Reconnected after ${secs} s`);
      this.attempt = 0;
    }
    client.onceClosed((err) => this.onLost(client, err));
    this.locals.carryWaiting();
  }

  private onLost(client: SshClient, err: Error | undefined): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.stopping) {
      this.finish();
      return;
    }
    const why = err ?? new SshError("CONNECTION_LOST", "the bastion closed the connection");
    if (this.options.reconnect === false || isPermanentFailure(why)) {
      this.finish(why);
      return;
    }
    this.lostAt = Date.now();
    this.attempt = 0;
    this.scheduleRetry(why);
  }

  private scheduleRetry(why: Error): void {
    this.attempt++;
    const delay = reconnectDelay(this.attempt);
    const lost = this.attempt === 1 ? "Connection to bastion lost" : "Reconnecting failed";
    this.options.events?.info?.(
      `${lost} (${why.message}); reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${this.attempt})`,
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect()
        .then((client) => this.prepare(client, true))
        .then(
          (client) => this.attach(client),
          (e: Error) => {
            if (this.stopping) this.finish();
            else if (isPermanentFailure(e)) this.finish(e);
            else this.scheduleRetry(e);
          },
        );
    }, delay);
  }

  /** The tunnel is over: nothing listens, nothing waits, `ended` resolves. */
  private finish(err?: Error): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.retryTimer);
    void this.closeListeners();
    this.locals.dropWaiting();
    // Whatever is still carried was cut with the connection: its channel abort resets it.
    this.endedResolve(this.stopping ? undefined : err);
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

  /** One local listener (local-ports.ts); on failure, those already bound are closed too. */
  private async bindOne(bind: string, port: number, explicit: boolean, target: Target): Promise<Listener> {
    const o = this.options;
    try {
      return await listenLocal(
        {
          sockets: o.sockets ?? runtime,
          bind,
          port,
          explicit,
          portOption: optionName(o.optionNames, "port"),
          info: (line) => o.events?.info?.(line),
        },
        (conn) => this.onLocal(conn, target),
      );
    } catch (err) {
      await this.closeListeners();
      throw err;
    }
  }

  private onLocal(local: Conn, target: Target): void {
    if (!this.accepting) {
      local.destroy();
      return;
    }
    const router = this.options.route;
    if (!router) {
      this.locals.accept(local, target);
      return;
    }
    router(local, (route) => {
      const spec = `${route.host.includes(":") ? `[${route.host}]` : route.host}:${route.port}`;
      this.locals.accept(
        local,
        { spec, variable: undefined, host: route.host, port: route.port, url: undefined },
        route,
      );
    });
  }

  /**
   * Carries a channel the server opened to us (a connection to a remote forward) over
   * `local`, counted with the local connections: `stop` lets it finish within the grace and
   * then cuts it. The caller has connected `local` and accepted the channel.
   */
  adopt(local: Conn, channel: Channel, target: Target): void {
    this.locals.adopt(local, channel, target);
  }

  private async closeListeners(): Promise<void> {
    const ls = this.listeners;
    this.listeners = [];
    await Promise.all(ls.map((l) => l.close().catch(() => {})));
  }

  /**
   * Stops accepting, lets open connections finish for `graceMs`, then resets what is left
   * and sends DISCONNECT. `forceStop` (a second Ctrl+C) cuts the wait short. Resolves with
   * the number of connections that had to be cut.
   */
  async stop(graceMs = 3000, force = false): Promise<number> {
    if (force) this.forceStop();
    if (this.stopping) return 0;
    this.stopping = true;
    clearTimeout(this.retryTimer);
    await this.closeListeners();
    this.locals.dropWaiting();
    if (this.locals.size > 0 && !this.forced) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.wakeStop = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeStop = undefined;
    }
    const cut = this.locals.resetAll();
    if (this.client) this.client.close("tunnel closed by user");
    else this.finish();
    return cut;
  }

  private forced = false;
  /** A second Ctrl+C: stop waiting for the grace period. */
  forceStop(): void {
    this.forced = true;
    this.wakeStop?.();
  }
}
