/**
 * The SSH client front: composes transport (RFC 4253), user auth (RFC 4252) and, as it grows,
 * the connection protocol (RFC 4254) over any `Conn`.
 */

import { DEFAULT_CIPHERS } from "./algorithms/cipher.ts";
import { DEFAULT_HOST_KEY_ALGORITHMS } from "./algorithms/hostkey.ts";
import { DEFAULT_KEX } from "./algorithms/kex.ts";
import { DEFAULT_MACS } from "./algorithms/mac.ts";
import { type AuthResult, ClientAuth, type ClientAuthOptions } from "./auth/client.ts";
import { type Keepalive, startKeepalive } from "./connection/keepalive.ts";
import { ChannelOpenError, type IncomingOpen, Mux, OpenFailure, ROUND_TRIP_PINGS } from "./connection/mux.ts";
import { nobleProvider } from "./crypto/noble.ts";
import { type CryptoProvider, type RandomSource, systemRandom } from "./crypto/provider.ts";
import { DisconnectReason, SshError } from "./errors.ts";
import type { HostKeyVerifier } from "./keys/types.ts";
import type { Conn } from "./runtime/types.ts";
import { type AlgorithmLists, Transport, type TransportInfo } from "./transport/transport.ts";
import { MSG } from "./wire/messages.ts";
import { Reader } from "./wire/reader.ts";
import { Writer } from "./wire/writer.ts";

/** Where a connection arriving through a remote forward was made, and from where (RFC 4254 §7.2). */
export interface ForwardedConnection {
  /** The address that was connected: the one the forward was requested on. */
  address: string;
  /** The port that was connected: the forward's, or the one the server bound for a request of port 0. */
  port: number;
  /** The originator's address, as the server reports it (not checked). */
  originHost: string;
  /** The originator's port, as the server reports it. */
  originPort: number;
}

/** Takes (accepts or rejects) each connection the server forwards to us. */
export type RemoteForwardHandler = (open: IncomingOpen, info: ForwardedConnection) => void;

/** The client's algorithm lists when `ClientOptions.algorithms` leaves one out. */
export const DEFAULT_ALGORITHMS: AlgorithmLists = {
  kex: DEFAULT_KEX,
  hostKey: DEFAULT_HOST_KEY_ALGORITHMS,
  cipher: DEFAULT_CIPHERS,
  mac: DEFAULT_MACS,
};

/** What `connectClient` needs: the host as named, how to verify its key, how to log in. */
export interface ClientOptions extends ClientAuthOptions {
  /** The host and port as the user named them (for the verifier and messages). */
  host: string;
  /** The server's port as the user named it (for the verifier and messages); the connection itself is `conn`. */
  port: number;
  /** Decides whether the server's host key is accepted; mandatory (`HostKeyVerifier`). */
  verifyHostKey: HostKeyVerifier;
  /** Algorithm lists to offer, each in preference order; a list left out is `DEFAULT_ALGORITHMS`'. */
  algorithms?: Partial<AlgorithmLists>;
  /** The cryptographic primitives; `nobleProvider` if absent. */
  provider?: CryptoProvider;
  /** Where random bytes come from; `systemRandom` if absent (tests pass a fixed one). */
  random?: RandomSource;
  /** Handshake + auth deadline. */
  timeoutMs?: number;
  /** Our identification line's software version, `SSH-2.0-<software>` (RFC 4253 §4.2); default `tunnel_0.1`. */
  software?: string;
  /**
   * Text the server wants shown, escaped by `peerText`: lines it sends before its version line
   * (RFC 4253 §4.2) and SSH_MSG_DEBUG with always_display set (§11.3).
   */
  onDebug?(message: string): void;
  /** Re-exchange keys after this many payload bytes either way (RFC 4253 §9); default 1 GiB. */
  rekeyBytes?: number;
  /** Re-exchange keys this many ms after the last exchange, checked as packets pass; default one hour. */
  rekeyMs?: number;
  /**
   * Liveness checks once authenticated (OpenSSH's ServerAliveInterval, in ms; 0 or absent:
   * off) and how many silent intervals make the server dead (ServerAliveCountMax, default 3).
   */
  keepaliveMs?: number;
  /** Silent keepalive intervals that make the server dead (ServerAliveCountMax): an integer ≥ 1, default 3. */
  keepaliveCountMax?: number;
  /**
   * Right after login, time a few keepalive requests in turn (`Mux.measureRoundTrip`): receive
   * windows then grow only where the round trip, not a queue, holds the server back
   * (connection/window.ts). `tunnel open` does; off by default, so a login writes nothing more.
   */
  measureRoundTrip?: boolean;
}

/** A client connection (`connectClient` returns it logged in): channels through `mux`, remote forwards, close. */
export class SshClient {
  /** The transport under this connection (RFC 4253): key exchange, packets, rekeying. */
  readonly transport: Transport;
  /** How the login succeeded; undefined until `start` resolves. */
  auth: AuthResult | undefined;
  private readonly authState: ClientAuth;
  private closeListeners: ((err?: Error) => void)[] = [];
  private closedWith: { err?: Error } | undefined;
  /** The connection protocol (RFC 4254): channels and global requests. */
  readonly mux: Mux;
  private keepalive: Keepalive | undefined;
  private readonly options: ClientOptions;

  constructor(conn: Conn, options: ClientOptions) {
    this.options = options;
    if (typeof options.verifyHostKey !== "function") {
      throw new TypeError("verifyHostKey must be a function: host-key verification is mandatory");
    }
    this.transport = new Transport({
      role: "client",
      conn,
      algorithms: { ...DEFAULT_ALGORITHMS, ...options.algorithms },
      provider: options.provider ?? nobleProvider,
      random: options.random ?? systemRandom,
      host: options.host,
      port: options.port,
      verifyHostKey: options.verifyHostKey,
      ...(options.software !== undefined ? { software: options.software } : {}),
      ...(options.rekeyBytes !== undefined ? { rekeyBytes: options.rekeyBytes } : {}),
      ...(options.rekeyMs !== undefined ? { rekeyMs: options.rekeyMs } : {}),
      ...(options.onDebug ? { onDebug: options.onDebug } : {}),
      onMessage: (p) => this.onMessage(p),
      onDrain: () => this.mux.drained(),
      onClose: (err) => this.onClose(err),
    });
    this.authState = new ClientAuth(this.transport, options);
    this.mux = new Mux(this.transport);
    this.mux.onOpen = (open) => this.onOpen(open);
  }

  private readonly remoteForwards = new Map<string, RemoteForwardHandler>();

  /** Incoming channels: only `forwarded-tcpip` for a forward we asked for (RFC 4254 §7.2). */
  private onOpen(open: IncomingOpen): void {
    if (open.type !== "forwarded-tcpip") {
      open.reject(OpenFailure.ADMINISTRATIVELY_PROHIBITED, `channel type ${open.type} is not accepted by this client`);
      return;
    }
    const address = open.data.utf8("address that was connected");
    const port = open.data.uint32("port that was connected");
    const originHost = open.data.utf8("originator IP address");
    const originPort = open.data.uint32("originator port");
    const handler = this.remoteForwards.get(`${address}:${port}`);
    if (!handler) {
      open.reject(OpenFailure.ADMINISTRATIVELY_PROHIBITED, `no forwarding was requested for ${address}:${port}`);
      return;
    }
    handler(open, { address, port, originHost, originPort });
  }

  /**
   * RFC 4254 §7.1 tcpip-forward: the server listens on address:port (0 picks a port) and
   * opens a forwarded-tcpip channel per connection; `handler` accepts or rejects each.
   * Resolves with the bound port.
   */
  async forwardRemote(address: string, port: number, handler: RemoteForwardHandler): Promise<number> {
    const reply = await this.mux.globalRequest(
      "tcpip-forward",
      new Writer(64).string(address).uint32(port).bytes(),
      true,
    );
    if (!reply)
      throw new ChannelOpenError(
        OpenFailure.ADMINISTRATIVELY_PROHIBITED,
        `the server refused to listen on ${address}:${port}`,
      );
    const bound = port === 0 ? new Reader(reply).uint32("bound port") : port;
    this.remoteForwards.set(`${address}:${bound}`, handler);
    return bound;
  }

  /** RFC 4254 §7.1 cancel-tcpip-forward. */
  async cancelRemote(address: string, port: number): Promise<void> {
    this.remoteForwards.delete(`${address}:${port}`);
    await this.mux.globalRequest("cancel-tcpip-forward", new Writer(64).string(address).uint32(port).bytes(), true);
  }

  /** What the connection negotiated: algorithms, the peer's version, the implementations used. */
  get info(): TransportInfo {
    return this.transport.info;
  }

  private onMessage(payload: Uint8Array): boolean {
    if (this.authState.handle(payload)) return true;
    return this.mux.handle(payload);
  }

  private onClose(err?: Error): void {
    this.keepalive?.stop();
    this.closedWith = err ? { err } : {};
    const e = err ?? new SshError("CONNECTION_LOST", "connection closed");
    this.authState.abort(e);
    this.mux.abort(e);
    for (const l of this.closeListeners) l(err);
    this.closeListeners = [];
  }

  /** Called once when the connection ends; `err` unless we closed it. */
  onceClosed(listener: (err?: Error) => void): void {
    if (this.closedWith) listener(this.closedWith.err);
    else this.closeListeners.push(listener);
  }

  /** Handshake, host-key check and authentication. */
  async start(timeoutMs = 30_000): Promise<AuthResult> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = new Promise<never>((_, reject) => {
      this.onceClosed((err) =>
        reject(err ?? new SshError("CONNECTION_LOST", "connection closed during the handshake")),
      );
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SshError("TIMEOUT", `handshake and authentication did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const kexDone = new Promise<void>((resolve) => {
      const prev = this.transport.options.onKexDone;
      this.transport.options.onKexDone = (first) => {
        prev?.(first);
        if (first) resolve();
      };
    });
    try {
      this.transport.start();
      await Promise.race([kexDone, closed, timeout]);
      this.auth = await Promise.race([this.authState.run(), closed, timeout]);
      if (!this.closedWith) {
        this.keepalive = startKeepalive({
          intervalMs: this.options.keepaliveMs ?? 0,
          countMax: this.options.keepaliveCountMax ?? 3,
          received: () => this.transport.packetsReceived,
          mux: this.mux,
          dead: (err) => this.transport.fail(err),
        });
        // Pings after login, before any data queues: the round trip by which receive windows
        // judge whether the link or a queue holds the peer back (connection/window.ts).
        if (this.options.measureRoundTrip) this.mux.measureRoundTrip(ROUND_TRIP_PINGS);
      }
      return this.auth;
    } catch (err) {
      // A server hanging up on too many refused keys: the error names the keys offered.
      const e = this.authState.explain(err as Error);
      this.transport.fail(e);
      throw e;
    } finally {
      clearTimeout(timer);
      closed.catch(() => {});
    }
  }

  /** Clean close: SSH_MSG_DISCONNECT "by application" (RFC 4253 §11.1). */
  close(description = "disconnected by user"): void {
    this.transport.disconnect(DisconnectReason.BY_APPLICATION, description);
  }

  /** Sends SSH_MSG_IGNORE (RFC 4253 §11.2), e.g. as traffic padding. */
  sendIgnore(data: Uint8Array = new Uint8Array(0)): void {
    this.transport.send(new Writer(16).byte(MSG.IGNORE).string(data).bytes());
  }
}

/** Connects over `conn`: returns once authenticated. */
export async function connectClient(conn: Conn, options: ClientOptions): Promise<SshClient> {
  const client = new SshClient(conn, options);
  await client.start(options.timeoutMs);
  return client;
}
