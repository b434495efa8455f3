/**
 * The SSH server front: transport (RFC 4253) in the server role, user auth (RFC 4252) and the
 * connection protocol (RFC 4254) over any `Conn`. What a channel open may do is the caller's
 * policy (`onOpen`); by default every channel type is refused.
 *
 * What a client that has not logged in can cost us is bounded: the time (`loginGraceMs`) and
 * the bytes of a packet in progress (`PRE_AUTH_MAX_BUFFERED`, RFC 4253 §6.1's 35,000-byte
 * packet, instead of the 256 KiB allowed once logged in), so that a server holding many such
 * connections (OpenSSH's MaxStartups is 100) holds little memory for them.
 */

import { DEFAULT_CIPHERS } from "./algorithms/cipher.ts";
import type { DhGroup } from "./algorithms/dh-groups.ts";
import { CERT_HOST_KEY_ALGORITHMS, DEFAULT_HOST_KEY_ALGORITHMS } from "./algorithms/hostkey.ts";
import { DEFAULT_KEX } from "./algorithms/kex.ts";
import { DEFAULT_MACS } from "./algorithms/mac.ts";
import { ServerAuth, type ServerAuthPolicy, type ServerAuthResult } from "./auth/server.ts";
import { type GlobalReply, type IncomingOpen, Mux } from "./connection/mux.ts";
import { nobleProvider } from "./crypto/noble.ts";
import { type CryptoProvider, type RandomSource, systemRandom } from "./crypto/provider.ts";
import { DisconnectReason, SshError } from "./errors.ts";
import type { PrivateKey } from "./keys/types.ts";
import type { Conn } from "./runtime/types.ts";
import { type AlgorithmLists, Transport, type TransportInfo } from "./transport/transport.ts";
import type { Reader } from "./wire/reader.ts";

/**
 * Bytes of an unfinished packet a client may make us hold before it has logged in. RFC 4253
 * §6.1: every implementation must take packets of 35,000 bytes, so no client can count on
 * more from a server it has not authenticated to yet; honest ones send far less before
 * USERAUTH_SUCCESS (KEXINIT, a key exchange value, a key and a signature).
 */
export const PRE_AUTH_MAX_BUFFERED = 35_000;

/** What `serveConnection` needs: host keys, who may log in, what to do with requests. */
export interface ServerOptions {
  /**
   * Our host keys, at least one; the one that can sign the negotiated host key algorithm signs
   * the exchange hash (RFC 4253 §8). A key with its certificate (`certifiedKey`) adds the certificate algorithms.
   */
  hostKeys: readonly PrivateKey[];
  /** Who may log in, and by which methods. */
  auth: ServerAuthPolicy;
  /**
   * Algorithm lists to offer, each in preference order; a list left out is the default (for host
   * keys, the plain and certificate algorithms). Host key algorithms our keys cannot sign are dropped.
   */
  algorithms?: Partial<AlgorithmLists>;
  /** The cryptographic primitives; `nobleProvider` if absent. */
  provider?: CryptoProvider;
  /** Where random bytes come from; `systemRandom` if absent (tests pass a fixed one). */
  random?: RandomSource;
  /** Our identification line's software version, `SSH-2.0-<software>` (RFC 4253 §4.2); default `tunnel_0.1`. */
  software?: string;
  /**
   * Handshake + auth deadline, from the moment the connection is taken (OpenSSH's
   * LoginGraceTime, 120 s by default there and here); 0: none.
   */
  loginGraceMs?: number;
  /** Channels open or being opened at once, both directions (`Mux.maxChannels`). */
  maxChannels?: number;
  /** The largest a channel's receive window may grow to (`Mux.maxWindow`): uploads on long links. */
  maxWindow?: number;
  /** Offer strict KEX (OpenSSH's kex-strict-s-v00@openssh.com); default true. Off only to test peers without it. */
  strictKex?: boolean;
  /** Groups for diffie-hellman-group-exchange (a moduli file's, `parseModuli`); built-in RFC 3526 groups if absent. */
  dhGroups?: readonly DhGroup[];
  /** Accepts or rejects each channel the client opens (RFC 4254 §5.1); absent: every open is refused. */
  onOpen?(open: IncomingOpen, session: SshServerConnection): void;
  /**
   * Answers each global request of the client (RFC 4254 §4), e.g. `tcpip-forward`: reply data,
   * or undefined (or a throw) to refuse. Absent: all are refused.
   */
  onGlobalRequest?(name: string, data: Reader, session: SshServerConnection): GlobalReply;
}

/** One client's connection to our server: its transport, its login, its channels. */
export class SshServerConnection {
  /** The transport under this connection (RFC 4253): key exchange, packets, rekeying. */
  readonly transport: Transport;
  /** The connection protocol (RFC 4254): the client's channels and global requests. */
  readonly mux: Mux;
  /** User authentication (RFC 4252): its `result` names who logged in, once someone has. */
  readonly auth: ServerAuth;
  private closeListeners: ((err?: Error) => void)[] = [];
  private closedWith: { err?: Error } | undefined;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private readyResolve!: (r: ServerAuthResult) => void;
  /** Resolves once the client authenticated. */
  readonly authenticated: Promise<ServerAuthResult>;

  constructor(conn: Conn, options: ServerOptions) {
    // Checked before the connection is touched.
    if (options.maxChannels !== undefined && !(Number.isInteger(options.maxChannels) && options.maxChannels >= 1)) {
      throw new RangeError(`maxChannels: expected a whole number of at least 1, got ${options.maxChannels}`);
    }
    if (options.loginGraceMs !== undefined && !(options.loginGraceMs >= 0)) {
      throw new RangeError(`loginGraceMs: expected 0 or more milliseconds, got ${options.loginGraceMs}`);
    }
    this.authenticated = new Promise((r) => {
      this.readyResolve = r;
    });
    const provider = options.provider ?? nobleProvider;
    this.transport = new Transport({
      role: "server",
      conn: this.boundBeforeAuth(conn),
      algorithms: {
        kex: DEFAULT_KEX,
        // Only those the host keys can sign are offered: certificate forms only with a host
        // certificate (`certifiedKey`, PROTOCOL.certkeys).
        hostKey: [...DEFAULT_HOST_KEY_ALGORITHMS, ...CERT_HOST_KEY_ALGORITHMS],
        cipher: DEFAULT_CIPHERS,
        mac: DEFAULT_MACS,
        ...options.algorithms,
      },
      provider,
      random: options.random ?? systemRandom,
      hostKeys: options.hostKeys,
      ...(options.software !== undefined ? { software: options.software } : {}),
      ...(options.strictKex !== undefined ? { strictKex: options.strictKex } : {}),
      ...(options.dhGroups !== undefined ? { dhGroups: options.dhGroups } : {}),
      onMessage: (p) => this.onMessage(p),
      onClose: (err) => this.onClose(err),
      onDrain: () => this.mux.drained(),
    });
    const t = this.transport;
    this.auth = new ServerAuth(
      {
        send: (p) => t.send(p),
        get sessionId() {
          return t.sessionId;
        },
        provider,
      },
      options.auth,
    );
    this.auth.fatal = (err) => this.transport.fail(err);
    this.auth.onSuccess = (r) => {
      clearTimeout(this.graceTimer);
      this.readyResolve(r);
    };
    this.mux = new Mux(this.transport);
    if (options.maxChannels !== undefined) this.mux.maxChannels = options.maxChannels;
    if (options.maxWindow !== undefined) this.mux.maxWindow = options.maxWindow;
    this.mux.onOpen = (open) => {
      if (options.onOpen) options.onOpen(open, this);
      else open.reject(1, "this server accepts no channels");
    };
    this.mux.onGlobalRequest = (name, data) => options.onGlobalRequest?.(name, data, this);
    const grace = options.loginGraceMs ?? 120_000;
    if (grace > 0) {
      this.graceTimer = setTimeout(() => {
        this.transport.fail(
          new SshError("TIMEOUT", `authentication did not finish within ${grace} ms`, {
            reason: DisconnectReason.PROTOCOL_ERROR,
          }),
        );
      }, grace);
    }
    this.transport.start();
  }

  /** What the connection negotiated: algorithms, the peer's version, the implementations used. */
  get info(): TransportInfo {
    return this.transport.info;
  }

  /**
   * The connection as the transport sees it: until the client has logged in, a packet left
   * unfinished after a read may not hold more than `PRE_AUTH_MAX_BUFFERED` bytes.
   */
  private boundBeforeAuth(conn: Conn): Conn {
    const check = () => {
      if (this.auth.done) return;
      const held = this.transport.reader.buffered;
      if (held <= PRE_AUTH_MAX_BUFFERED) return;
      this.transport.fail(
        new SshError(
          "BAD_PACKET",
          `the client sent more than ${PRE_AUTH_MAX_BUFFERED} bytes of one packet (${held}) before logging in`,
          { reason: DisconnectReason.PROTOCOL_ERROR },
        ),
      );
      // No lingering half-close for this one: reading what else it sends would cost what the
      // bound is there to save.
      conn.destroy();
    };
    return {
      write: (data) => conn.write(data),
      end: () => conn.end(),
      destroy: () => conn.destroy(),
      reset: () => conn.reset(),
      pause: () => conn.pause(),
      resume: () => conn.resume(),
      setHandlers: (h) =>
        conn.setHandlers({
          ...h,
          data: (chunk) => {
            h.data(chunk);
            check();
          },
        }),
      get remoteAddress() {
        return conn.remoteAddress;
      },
      get remotePort() {
        return conn.remotePort;
      },
      get localAddress() {
        return conn.localAddress;
      },
      get localPort() {
        return conn.localPort;
      },
    };
  }

  private onMessage(payload: Uint8Array): boolean {
    if (this.auth.handle(payload)) return true;
    return this.mux.handle(payload);
  }

  private onClose(err?: Error): void {
    clearTimeout(this.graceTimer);
    this.closedWith = err ? { err } : {};
    this.mux.abort(err ?? new SshError("CONNECTION_LOST", "connection closed"));
    for (const l of this.closeListeners) l(err);
    this.closeListeners = [];
  }

  /** Called once when the connection ends (at once if it has); `err` unless it ended cleanly. */
  onceClosed(listener: (err?: Error) => void): void {
    if (this.closedWith) listener(this.closedWith.err);
    else this.closeListeners.push(listener);
  }

  /** Clean close: SSH_MSG_DISCONNECT "by application" (RFC 4253 §11.1) with `description`. */
  close(description = "server closing"): void {
    this.transport.disconnect(DisconnectReason.BY_APPLICATION, description);
  }
}

/** Serves one connection. */
export function serveConnection(conn: Conn, options: ServerOptions): SshServerConnection {
  return new SshServerConnection(conn, options);
}
