/**
 * A forwarding-only SSH bastion (`tunnel serve`): `direct-tcpip` channels (RFC 4254 §7.2) to
 * destinations its policy allows, remote forwarding (`tcpip-forward`, §7.1) on the loopback
 * ports it grants, everything else — sessions, shells, exec — refused with a clear reason.
 *
 * Policy: server-wide `allow` (direct-tcpip) and `allowRemote` (listen ports; none by
 * default), and per key the authorized_keys options (authorized-keys.ts, sshd(8) semantics:
 * restrict, port-forwarding, permitopen, permitlisten, from=, expiry-time=). Both must agree.
 *
 * Limits, so that no client, logged in or not, makes it hold unbounded state:
 * - channels per connection, open or being opened, in both directions (`maxChannels`,
 *   default 1,024): an open past the cap gets RESOURCE_SHORTAGE before any socket is made;
 * - connections not yet authenticated: OpenSSH's MaxStartups random early drop (`maxStartups`,
 *   default 10:30:100), so what they can make us buffer is at most `full` × one maximal packet
 *   (256 KiB, RFC 4253 §6.1 and OpenSSH's PACKET_MAX_SIZE);
 * - the time to log in (`loginGraceMs`, default 30 s);
 * - remote forwards per connection (`MAX_REMOTE_FORWARDS`).
 *
 * Stopping (`drain`): no new SSH connections, channels or remote forwards; each client is sent
 * DISCONNECT (RFC 4253 §11.1) as soon as its channels are done, the rest when the grace period
 * ends (or at once, `forceStop`).
 */

import {
  type Channel,
  type DhGroup,
  fingerprintSha256,
  isCertificateType,
  type Listener,
  OpenFailure,
  type PrivateKey,
  peerText,
  type ServerAuthPolicy,
  SshError,
  type SshServerConnection,
  serveConnection,
} from "@tunnel/ssh";
import { type Runtime, runtime } from "@tunnel/ssh/runtime";
import { type Reader, Writer } from "@tunnel/ssh/wire";
import { type CryptoMode, providerFor } from "./algorithms.ts";
import { type AuthorizedKey, matchAuthorizedKey, permitListenAllows, permitOpenAllows } from "./authorized-keys.ts";
import { type HeldConn, holdConn, pipeChannel } from "./forward.ts";
import { loadModuli } from "./moduli.ts";
import { type OptionNames, optionName } from "./option-names.ts";
import {
  DEFAULT_MAX_STARTUPS,
  formatMaxStartups,
  type MaxStartups,
  NO_PORTS,
  type PortGrant,
  portGrantAllows,
  shouldDrop,
} from "./serve-limits.ts";
import { admitCertificate, type TrustedUserCa } from "./trusted-user-ca.ts";

/** Remote forwards one connection may hold. */
export const MAX_REMOTE_FORWARDS = 64;
/** Channels per connection unless `maxChannels` says otherwise. */
export const DEFAULT_SERVE_MAX_CHANNELS = 1024;
/** Time to log in unless `loginGraceMs` says otherwise. */
export const DEFAULT_LOGIN_GRACE_MS = 30_000;
/** Ends of a connection that are the peer's doing or the clock's, not a refusal of ours. */
const PEER_ENDED = new Set(["CONNECTION_LOST", "DISCONNECTED", "TIMEOUT"]);
/** Dropped connections are summed up in one log line at most this often. */
const DROP_LOG_INTERVAL_MS = 1000;

/** Who a forwarding server lets in and what it lets them forward. */
export interface ForwardingServerOptions {
  /**
   * The keys the server proves itself with, host certificates (`loadHostCertificate`) among
   * them; the CLI's `--host-key` and `--host-certificate`.
   */
  hostKeys: readonly PrivateKey[];
  /** Groups for diffie-hellman-group-exchange (RFC 4419); default: /etc/ssh/moduli's if readable, else built in. */
  dhGroups?: readonly DhGroup[];
  /** Password, none, banner…; its `publicKey` is replaced by `authorizedKeys` when both are given. */
  auth?: ServerAuthPolicy;
  /** Public-key logins from these entries, each with its options (from=, expiry-time=, …). */
  authorizedKeys?: readonly AuthorizedKey[];
  /** User certificates signed by these CAs log in (trusted-user-ca.ts, sshd's TrustedUserCAKeys). */
  trustedUserCaKeys?: readonly TrustedUserCa[];
  /** May this connection reach host:port? Default: nothing is allowed. */
  allow?(host: string, port: number, session: SshServerConnection): boolean;
  /** Ports remote forwards may listen on (on loopback). Default: none, remote forwarding is off. */
  allowRemote?: PortGrant;
  /** Channels per connection (default 1,024). */
  maxChannels?: number;
  /** The largest a channel's receive window may grow to (default 16 MiB). */
  maxWindow?: number;
  /** Random early drop of unauthenticated connections (default 10:30:100). */
  maxStartups?: MaxStartups;
  /** Time from connect to a completed login (default 30 s; 0: none). */
  loginGraceMs?: number;
  /** [0, 1) for the early drop; default Math.random. */
  random?: () => number;
  /** Receives a line per event: connections, logins, channels, refusals, drops (default: none kept). */
  log?(line: string): void;
  /** Which primitives carry the crypto (default `auto`); the CLI's `--crypto`. */
  crypto?: CryptoMode | undefined;
  /** The socket adapter; default: this runtime's own. */
  sockets?: Runtime | undefined;
  /** How log lines name the options (`allowRemote`…; option-names.ts); a CLI passes its flags. */
  optionNames?: OptionNames | undefined;
}

export interface DrainResult {
  /** Clients that still had channels open when the grace period ended (or was cut short). */
  clients: number;
  /** Channels they had open. */
  channels: number;
}

/** A running forwarding server: its listener, connections and channels, and how to stop it. */
export interface ForwardingServer {
  /** The listening socket: its `address` and `port` (the one the system chose, when asked for 0). */
  listener: Listener;
  /** The SSH connections open now, logged in or not. */
  connections: Set<SshServerConnection>;
  /** Channels open or being opened, over all connections. */
  readonly activeChannels: number;
  /** MaxStartups slots taken: connections not logged in yet, and ones refused before it (see `releaseStartup`). */
  readonly unauthenticated: number;
  /**
   * Stops accepting SSH connections, channels and remote-forward connections; disconnects each
   * client once its channels are done, and all that are left after `graceMs`. Resolves when
   * every client is gone. Calling it again returns the same promise.
   */
  drain(graceMs: number): Promise<DrainResult>;
  /** Ends the grace period now (a second Ctrl+C). */
  forceStop(): void;
  /** Disconnects everyone at once and stops listening. */
  close(): Promise<void>;
}

interface Client {
  id: number;
  session: SshServerConnection;
  address: string;
  authenticated: boolean;
  /** authorized_keys entries that admitted a key this client offered, by key blob. */
  admitted: Map<string, AuthorizedKey>;
  remote: Map<string, Listener>;
  /** Channels open or being opened, from the policy's yes to the end of both sides. */
  channels: number;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Starts a forwarding-only SSH server on `bind`:`port` (0: a free port). */
export async function startForwardingServer(
  bind: string,
  port: number,
  o: ForwardingServerOptions,
): Promise<ForwardingServer> {
  const maxChannels = o.maxChannels ?? DEFAULT_SERVE_MAX_CHANNELS;
  if (!Number.isInteger(maxChannels) || maxChannels < 1) {
    throw new RangeError(`maxChannels: expected a whole number of at least 1, got ${maxChannels}`);
  }
  const maxStartups = o.maxStartups ?? DEFAULT_MAX_STARTUPS;
  const allowRemote = o.allowRemote ?? NO_PORTS;
  const allowRemoteName = optionName(o.optionNames, "allowRemote");
  const loginGraceMs = o.loginGraceMs ?? DEFAULT_LOGIN_GRACE_MS;
  // Read once per server, as sshd reads its moduli file (RFC 4419 §3: the server's groups).
  const dhGroups = o.dhGroups ?? loadModuli();
  if (!(loginGraceMs >= 0)) throw new RangeError(`loginGraceMs: expected 0 or more milliseconds, got ${loginGraceMs}`);
  const random = o.random ?? Math.random;
  const log = (line: string) => o.log?.(line);
  const connections = new Set<SshServerConnection>();
  const clients = new Set<Client>();
  const provider = providerFor(o.crypto, o.optionNames);
  const sockets = o.sockets ?? runtime;
  let seq = 0;
  let unauthenticated = 0;

  // ---- stopping
  let draining = false;
  let drained: Promise<DrainResult> | undefined;
  let wake: (() => void) | undefined;
  let forced = false;
  const disconnectIfIdle = (c: Client) => {
    if (draining && c.channels === 0) c.session.close("server shutting down");
  };

  // ---- MaxStartups drops, summed up in one line a second
  let dropped = 0;
  let dropLoggedAt = 0;
  let dropTimer: ReturnType<typeof setTimeout> | undefined;
  const logDrops = () => {
    dropTimer = undefined;
    if (dropped === 0) return;
    log(
      `dropped ${dropped} connection(s): ${unauthenticated} not yet authenticated (max-startups ${formatMaxStartups(maxStartups)})`,
    );
    dropped = 0;
    dropLoggedAt = Date.now();
  };
  const noteDrop = () => {
    dropped++;
    if (Date.now() - dropLoggedAt >= DROP_LOG_INTERVAL_MS) logDrops();
    else if (!dropTimer) {
      dropTimer = setTimeout(logDrops, DROP_LOG_INTERVAL_MS);
      (dropTimer as { unref?: () => void }).unref?.();
    }
  };

  const listener = await sockets.listen(bind, port, (conn) => {
    if (draining) {
      conn.destroy();
      return;
    }
    // MaxStartups counts the connections already waiting, not this one (as sshd does).
    if (shouldDrop(unauthenticated, maxStartups, random)) {
      conn.destroy();
      noteDrop();
      return;
    }
    const id = ++seq;
    const from = `${conn.remoteAddress}:${conn.remotePort}`;
    log(`[${id}] connection from ${from}`);
    unauthenticated++;
    const client: Client = {
      id,
      session: undefined as unknown as SshServerConnection,
      address: conn.remoteAddress,
      authenticated: false,
      admitted: new Map(),
      remote: new Map(),
      channels: 0,
    };
    const auth: ServerAuthPolicy =
      o.authorizedKeys || o.trustedUserCaKeys
        ? {
            ...o.auth,
            publicKey: (user, key) => {
              if (isCertificateType(key.type)) {
                const c = admitCertificate(o.trustedUserCaKeys ?? [], key, user, client.address);
                if ("entry" in c) {
                  client.admitted.set(hex(key.blob), c.entry);
                  return {};
                }
                log(`[${id}] ${peerText(c.refusal)}`);
                return false;
              }
              const m = matchAuthorizedKey(o.authorizedKeys ?? [], key, client.address);
              if (m.entry) {
                client.admitted.set(hex(key.blob), m.entry);
                return {};
              }
              for (const r of m.refusals) {
                log(`[${id}] key ${fingerprintSha256(provider, key.blob)} refused by ${peerText(r)}`);
              }
              return false;
            },
          }
        : (o.auth ?? {});

    const refuseForwarding = (entry: AuthorizedKey | undefined): string | undefined => {
      if (draining) return "the server is shutting down";
      if (entry && !entry.portForwarding) return `port forwarding is off for this key (${entry.source})`;
      return undefined;
    };

    const session = serveConnection(conn, {
      hostKeys: o.hostKeys,
      ...(dhGroups ? { dhGroups } : {}),
      auth,
      provider,
      loginGraceMs,
      maxChannels,
      ...(o.maxWindow !== undefined ? { maxWindow: o.maxWindow } : {}),
      onGlobalRequest(name, data, s) {
        if (name === "tcpip-forward") return bindRemote(data, s);
        if (name === "cancel-tcpip-forward") {
          const key = `${data.utf8("address")}:${data.uint32("port")}`;
          const l = client.remote.get(key);
          if (!l) return undefined;
          client.remote.delete(key);
          return l.close().then(() => new Uint8Array(0));
        }
        return undefined;
      },
      onOpen(open, s) {
        if (open.type !== "direct-tcpip") {
          log(`[${id}] refused ${peerText(open.type)} channel`);
          open.reject(
            OpenFailure.ADMINISTRATIVELY_PROHIBITED,
            "this server only forwards TCP (no shell, exec or subsystems)",
          );
          return;
        }
        const host = open.data.utf8("host to connect");
        const p = open.data.uint32("port to connect");
        const entry = keyEntry(s);
        const why =
          refuseForwarding(entry) ??
          (!o.allow?.(host, p, s)
            ? "not among the server's allowed destinations"
            : !permitOpenAllows(entry?.permitOpen, host, p)
              ? `not permitted by permitopen (${entry?.source})`
              : undefined);
        if (why) {
          log(`[${id}] refused direct-tcpip to ${peerText(host)}:${p}: ${why}`);
          open.reject(OpenFailure.ADMINISTRATIVELY_PROHIBITED, `forwarding to ${host}:${p} is not allowed`);
          return;
        }
        const done = countChannel(client);
        sockets.connect(host, p, { timeoutMs: 10_000 }).then(
          (target) => {
            // Never throws: if the connection died meanwhile the channel comes back closed,
            // and the pipe then closes the target too.
            const ch = open.accept();
            if (ch.localId >= 0) log(`[${id}] channel ${ch.localId} → ${peerText(host)}:${p}`);
            // Handed over held (paused, what it did meanwhile remembered), resumed once piped.
            const held = holdConn(target);
            pipe(held, ch, done);
            if (!held.closed) target.resume();
          },
          (err: Error) => {
            log(`[${id}] direct-tcpip to ${peerText(host)}:${p} failed: ${peerText(err.message)}`);
            open.reject(OpenFailure.CONNECT_FAILED, err.message);
            done();
          },
        );
      },
    });
    client.session = session;

    /** The authorized_keys entry this client logged in with (undefined: not by such a key). */
    function keyEntry(s: SshServerConnection): AuthorizedKey | undefined {
      const key = s.auth.result?.key;
      return key ? client.admitted.get(hex(key.blob)) : undefined;
    }

    /** RFC 4254 §7.1: bind, and open forwarded-tcpip channels back for each connection. */
    async function bindRemote(data: Reader, s: SshServerConnection): Promise<Uint8Array | undefined> {
      const address = data.utf8("address to bind");
      const port = data.uint32("port to bind");
      const entry = keyEntry(s);
      // Like OpenSSH with GatewayPorts no: remote forwards listen on loopback only.
      const bindHost = ["", "*", "0.0.0.0", "localhost", "127.0.0.1"].includes(address)
        ? "127.0.0.1"
        : address === "::1"
          ? "::1"
          : undefined;
      const why =
        refuseForwarding(entry) ??
        (port > 65535
          ? "not a port"
          : !portGrantAllows(allowRemote, port)
            ? allowRemote.ranges.length === 0
              ? `remote forwarding is off (${allowRemoteName} grants ports)`
              : `port ${port} is not granted (${allowRemoteName} ${allowRemote.text})`
            : !permitListenAllows(entry?.permitListen, address, port)
              ? `not permitted by permitlisten (${entry?.source})`
              : !bindHost
                ? "only loopback addresses can be bound"
                : client.remote.size >= MAX_REMOTE_FORWARDS
                  ? `already ${MAX_REMOTE_FORWARDS} remote forwards on this connection`
                  : undefined);
      if (why || !bindHost) {
        log(`[${id}] refused tcpip-forward ${peerText(address)}:${port}: ${why}`);
        return undefined;
      }
      let listener: Listener;
      try {
        listener = await sockets.listen(bindHost, port, (local) => {
          if (draining) {
            local.destroy();
            return;
          }
          const held = holdConn(local);
          const extra = new Writer(64)
            .string(address)
            .uint32(listener.port)
            .string(local.remoteAddress)
            .uint32(local.remotePort)
            .bytes();
          const done = countChannel(client);
          // Counted against maxChannels from here on; past the cap the open fails at once.
          s.mux.open("forwarded-tcpip", extra).then(
            (ch) => {
              pipe(held, ch, done);
              if (!held.closed) local.resume();
            },
            () => {
              local.destroy();
              done();
            },
          );
        });
      } catch (err) {
        log(`[${id}] tcpip-forward ${peerText(address)}:${port} failed: ${peerText((err as Error).message)}`);
        return undefined;
      }
      if (s.transport.closed || draining) {
        // The connection went away (or the server began to stop) while the port was bound.
        void listener.close();
        return undefined;
      }
      client.remote.set(`${address}:${listener.port}`, listener);
      log(`[${id}] listening on ${bindHost}:${listener.port} for the client`);
      return port === 0 ? new Writer(4).uint32(listener.port).bytes() : new Uint8Array(0);
    }

    connections.add(session);
    clients.add(client);
    session.authenticated.then((r) => {
      if (client.authenticated) return;
      client.authenticated = true;
      unauthenticated--;
      const entry = keyEntry(session);
      log(`[${id}] logged in as ${peerText(r.user)} by ${r.method}${entry ? ` (${entry.source})` : ""}`);
    });
    const since = Date.now();
    session.onceClosed((err) => {
      if (!client.authenticated) {
        client.authenticated = true; // counted out once
        releaseStartup(since, err);
      }
      for (const l of client.remote.values()) void l.close();
      client.remote.clear();
      connections.delete(session);
      clients.delete(client);
      log(`[${id}] closed${err ? `: ${peerText(err.message)}` : ""}`);
      wakeIfDone();
    });
  });

  /**
   * A connection that ended before logging in gives its MaxStartups slot back — at once if it
   * went away or timed out, but only when its login grace would have ended if we refused it for
   * what it sent (an oversized or malformed packet, a failed key exchange). Closing it frees
   * its memory; keeping the slot means a client cannot get a fresh connection in its place by
   * misbehaving, so it holds no more slots than by keeping the connection open, as sshd's
   * would, and none of the memory.
   */
  function releaseStartup(since: number, err: Error | undefined): void {
    const ours = err instanceof SshError && !PEER_ENDED.has(err.code);
    const left = (loginGraceMs || DEFAULT_LOGIN_GRACE_MS) - (Date.now() - since);
    if (!ours || left <= 0 || draining) {
      unauthenticated--;
      return;
    }
    const t = setTimeout(() => {
      unauthenticated--;
    }, left);
    (t as { unref?: () => void }).unref?.();
  }

  /** Counts one channel of `c` from now on; the function returned uncounts it (once). */
  function countChannel(c: Client): () => void {
    c.channels++;
    let counted = true;
    return () => {
      if (!counted) return;
      counted = false;
      c.channels--;
      disconnectIfIdle(c);
      wakeIfDone();
    };
  }

  /**
   * Carries the socket over the channel. The channel counts as done once it is closed both
   * ways (RFC 4254 §5.3), even if the socket still lingers over its last bytes; or, if it
   * closed before we could see it, once the pipe is done with both.
   */
  function pipe(held: HeldConn, ch: Channel, done: () => void): void {
    pipeChannel(held, ch, { closed: done });
    const piped = ch.events;
    ch.events = {
      ...piped,
      close() {
        piped.close?.();
        done();
      },
    };
  }

  function wakeIfDone(): void {
    if (draining && clients.size === 0) wake?.();
  }

  function activeChannels(): number {
    let n = 0;
    for (const c of clients) n += c.channels;
    return n;
  }

  function drain(graceMs: number): Promise<DrainResult> {
    drained ??= (async () => {
      draining = true;
      for (const c of clients) {
        for (const l of c.remote.values()) void l.close();
        c.remote.clear();
        disconnectIfIdle(c);
      }
      await listener.close().catch(() => {});
      if (clients.size > 0 && !forced) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
          if (clients.size === 0 || forced) wake();
        });
      }
      const left = [...clients];
      const result = { clients: left.length, channels: left.reduce((n, c) => n + c.channels, 0) };
      for (const c of left) c.session.close("server shutting down");
      clearTimeout(dropTimer);
      logDrops();
      return result;
    })();
    return drained;
  }

  return {
    listener,
    connections,
    get activeChannels() {
      return activeChannels();
    },
    get unauthenticated() {
      return unauthenticated;
    },
    drain,
    forceStop() {
      forced = true;
      wake?.();
    },
    async close() {
      forced = true;
      wake?.();
      await drain(0);
    },
  };
}
