/**
 * `tunnel expose`: a local service made reachable on the bastion — a remote forward
 * (RFC 4254 §7.1 `tcpip-forward`; each connection the bastion accepts arrives as a
 * `forwarded-tcpip` channel, §7.2, and is carried to the local service), as `ssh -R`.
 *
 * It rides on `TunnelSession` (open.ts), so it keeps alive, reconnects with backoff and stops
 * gracefully as `tunnel open` does: the forward is requested again on every new connection
 * (`setup`), asking for the port the bastion gave last time so that the address people were
 * told stays right. When the port was the server's choice and that port is not free again
 * (the old connection's listener can outlive it on the server for a while), a new one is
 * taken and announced; when the user chose the port, the session retries until it is free.
 */
import { type ForwardedConnection, type IncomingOpen, OpenFailure, type SshClient } from "@tunnel/ssh";
import { runtime } from "@tunnel/ssh/runtime";
import type { PipeStats } from "./forward.ts";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "./local-connections.ts";
import { type OpenOptions, TunnelSession } from "./open.ts";
import { optionName } from "./option-names.ts";
import type { Target } from "./target.ts";

/** The default `--remote-bind`: the bastion's loopback, as sshd's GatewayPorts=no binds anyway. */
export const DEFAULT_REMOTE_BIND = "127.0.0.1";

/** What `ExposeSession` carries (a local service) and where the bastion listens for it. */
export interface ExposeOptions extends Omit<OpenOptions, "targets" | "port" | "bind" | "route" | "setup"> {
  /** The local service the bastion's connections are carried to. */
  localHost: string;
  /** The local service's port. */
  localPort: number;
  /** The address the bastion listens on (default 127.0.0.1; "" or "*" for all, if its policy lets it). */
  remoteBind?: string | undefined;
  /** The port it listens on (default 0: its choice). */
  remotePort?: number | undefined;
  /** `OpenOptions.events`, and when the bastion listens for the service. */
  events?: OpenOptions["events"] & {
    /** The bastion listens (again, after a reconnection: `again`); `address` is what to connect to there. */
    exposed?(address: string, again: boolean): void;
  };
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A local service reachable on the bastion (a remote forward, as `ssh -R`), kept across reconnections. */
export class ExposeSession {
  private readonly session: TunnelSession;
  private readonly bind: string;
  private readonly wanted: number;
  private readonly local: Target;
  /** The port the bastion listens on now (or last did). */
  private bound: number | undefined;

  constructor(private readonly options: ExposeOptions) {
    this.bind = options.remoteBind ?? DEFAULT_REMOTE_BIND;
    this.wanted = options.remotePort ?? 0;
    const spec = hostPort(options.localHost, options.localPort);
    this.local = { spec, variable: undefined, host: options.localHost, port: options.localPort, url: undefined };
    this.session = new TunnelSession({
      ...options,
      targets: [],
      setup: (client, again) => this.forward(client, again),
    });
  }

  /** Where the local service can be reached on the bastion's side, once started. */
  get remoteAddress(): string | undefined {
    return this.bound === undefined ? undefined : hostPort(this.bind === "" ? "0.0.0.0" : this.bind, this.bound);
  }

  /** The local service, as `host:port`. */
  get localAddress(): string {
    return this.local.spec;
  }

  /** Connections from the bastion open right now. */
  get activeConnections(): number {
    return this.session.activeConnections;
  }

  /** True while the connection to the bastion is being re-established. */
  get reconnecting(): boolean {
    return this.session.reconnecting;
  }

  /** Bytes carried both ways, as `TunnelSession.bytes` counts them (`bytesIn`: arrived from the bastion). */
  get bytes(): PipeStats {
    return this.session.bytes;
  }

  /** False once the session is stopping or over. */
  get accepting(): boolean {
    return this.session.accepting;
  }

  /** Never: the listening port is the bastion's (a manager's pause is refused for it). */
  readonly paused = false;

  /** Always refused: the listening port is the bastion's. */
  async pause(): Promise<void> {
    throw new Error("an exposed port listens on the bastion; it cannot be paused from here");
  }

  /** Always refused, as `pause` is. */
  async resume(): Promise<void> {
    throw new Error("an exposed port listens on the bastion; it cannot be paused from here");
  }

  /** Resolves once the session is over: with the error that ended it, or undefined after `stop`. */
  get ended(): Promise<Error | undefined> {
    return this.session.ended;
  }

  /** Connects and asks the bastion to listen; resolves with the address there. */
  async start(): Promise<string> {
    await this.session.start();
    return this.remoteAddress as string;
  }

  /** As `TunnelSession.stop`: open connections get `graceMs` to finish; resolves with how many were cut. */
  stop(graceMs?: number): Promise<number> {
    return this.session.stop(graceMs);
  }

  /** Stops waiting for the grace period of `stop` (a second Ctrl+C). */
  forceStop(): void {
    this.session.forceStop();
  }

  /** `setup` of each new connection: the tcpip-forward request. */
  private async forward(client: SshClient, again: boolean): Promise<void> {
    const handler = this.onForwarded.bind(this);
    const ask = again && this.bound !== undefined ? this.bound : this.wanted;
    let port: number;
    try {
      port = await client.forwardRemote(this.bind, ask, handler);
    } catch (err) {
      if (!again) {
        // Our own server's option, named as the caller names it (the CLI: `tunnel serve`'s flag).
        const allowRemote = optionName(this.options.optionNames, "allowRemote");
        throw new Error(
          `the bastion refused to listen on ${hostPort(this.bind || "*", ask)} (${(err as Error).message}); ` +
            `OpenSSH's sshd needs AllowTcpForwarding yes or remote (and PermitListen), tunnel serve needs ${allowRemote}`,
        );
      }
      // The port the server chose before is not free again: take another, and say so.
      if (this.wanted !== 0 || ask === 0) throw err;
      port = await client.forwardRemote(this.bind, 0, handler);
    }
    const moved = this.bound !== undefined && port !== this.bound;
    this.bound = port;
    if (!again || moved) this.options.events?.exposed?.(this.remoteAddress as string, again);
  }

  /** A connection to the bastion's port: carried to the local service once that answers. */
  private onForwarded(open: IncomingOpen, info: ForwardedConnection): void {
    if (!this.session.accepting) {
      open.reject(OpenFailure.ADMINISTRATIVELY_PROHIBITED, "the tunnel is closing");
      return;
    }
    const o = this.options;
    const from = hostPort(info.originHost, info.originPort);
    o.events?.verbose?.(`${from} on the bastion → ${this.local.spec}: accepted`);
    (o.sockets ?? runtime)
      .connect(o.localHost, o.localPort, { timeoutMs: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS })
      .then(
        (conn) => this.session.adopt(conn, open.accept(), this.local),
        (err: Error) => {
          open.reject(OpenFailure.CONNECT_FAILED, err.message);
          o.events?.info?.(
            `A connection from ${from} on the bastion could not reach ${this.local.spec}: ${err.message}`,
          );
        },
      );
  }
}
