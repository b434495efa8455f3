/**
 * A forwarding-only SSH bastion: accepts `direct-tcpip` channels (RFC 4254 §7.2) to
 * destinations its policy allows and refuses everything else — sessions, shells, exec — with
 * a clear reason.
 */

import { type Listener, type Reader, Writer } from "@tunnel/ssh";

/** Remote forwards one connection may hold. */
export const MAX_REMOTE_FORWARDS = 64;

import {
  OpenFailure,
  type PrivateKey,
  peerText,
  type ServerAuthPolicy,
  type SshServerConnection,
  serveConnection,
} from "@tunnel/ssh";
import { type Runtime, runtime } from "@tunnel/ssh/runtime";
import { type CryptoMode, providerFor } from "./algorithms.ts";
import { pipeChannel } from "./forward.ts";

export interface ForwardingServerOptions {
  hostKeys: readonly PrivateKey[];
  auth: ServerAuthPolicy;
  /** May this connection reach host:port? Default: nothing is allowed. */
  allow?(host: string, port: number, session: SshServerConnection): boolean;
  /** Accept tcpip-forward (remote forwarding) requests, on loopback only. Default true. */
  allowRemoteForwarding?: boolean;
  log?(line: string): void;
  crypto?: CryptoMode | undefined;
  /** The socket adapter; default: this runtime's own. */
  sockets?: Runtime | undefined;
}

export interface ForwardingServer {
  listener: Listener;
  connections: Set<SshServerConnection>;
  close(): Promise<void>;
}

export async function startForwardingServer(
  bind: string,
  port: number,
  o: ForwardingServerOptions,
): Promise<ForwardingServer> {
  const connections = new Set<SshServerConnection>();
  const provider = providerFor(o.crypto);
  const sockets = o.sockets ?? runtime;
  let seq = 0;
  const listener = await sockets.listen(bind, port, (conn) => {
    const id = ++seq;
    const from = `${conn.remoteAddress}:${conn.remotePort}`;
    o.log?.(`[${id}] connection from ${from}`);
    const remote = new Map<string, Listener>();
    const session = serveConnection(conn, {
      hostKeys: o.hostKeys,
      auth: o.auth,
      provider,
      onGlobalRequest(name, data, s) {
        if (name === "tcpip-forward" && o.allowRemoteForwarding !== false) return bindRemote(data, s);
        if (name === "cancel-tcpip-forward") {
          const key = `${data.utf8("address")}:${data.uint32("port")}`;
          const l = remote.get(key);
          if (!l) return undefined;
          remote.delete(key);
          return l.close().then(() => new Uint8Array(0));
        }
        return undefined;
      },
      onOpen(open, session) {
        if (open.type !== "direct-tcpip") {
          o.log?.(`[${id}] refused ${peerText(open.type)} channel`);
          open.reject(
            OpenFailure.ADMINISTRATIVELY_PROHIBITED,
            "this server only forwards TCP (no shell, exec or subsystems)",
          );
          return;
        }
        const host = open.data.utf8("host to connect");
        const p = open.data.uint32("port to connect");
        if (!o.allow?.(host, p, session)) {
          o.log?.(`[${id}] refused direct-tcpip to ${peerText(host)}:${p}`);
          open.reject(OpenFailure.ADMINISTRATIVELY_PROHIBITED, `forwarding to ${host}:${p} is not allowed`);
          return;
        }
        sockets.connect(host, p, { timeoutMs: 10_000 }).then(
          (target) => {
            const ch = open.accept();
            o.log?.(`[${id}] channel ${ch.localId} → ${peerText(host)}:${p}`);
            pipeChannel(target, ch);
          },
          (err: Error) => {
            o.log?.(`[${id}] direct-tcpip to ${peerText(host)}:${p} failed: ${peerText(err.message)}`);
            open.reject(OpenFailure.CONNECT_FAILED, err.message);
          },
        );
      },
    });
    /** RFC 4254 §7.1: bind, and open forwarded-tcpip channels back for each connection. */
    async function bindRemote(data: Reader, s: SshServerConnection): Promise<Uint8Array | undefined> {
      const address = data.utf8("address to bind");
      const port = data.uint32("port to bind");
      // Like OpenSSH with GatewayPorts no: remote forwards listen on loopback only.
      const bindHost = ["", "*", "0.0.0.0", "localhost", "127.0.0.1"].includes(address)
        ? "127.0.0.1"
        : address === "::1"
          ? "::1"
          : undefined;
      if (!bindHost || port > 65535 || remote.size >= MAX_REMOTE_FORWARDS) {
        o.log?.(`[${id}] refused tcpip-forward ${peerText(address)}:${port}`);
        return undefined;
      }
      let listener: Listener;
      try {
        listener = await sockets.listen(bindHost, port, (local) => {
          local.pause();
          const extra = new Writer(64)
            .string(address)
            .uint32(listener.port)
            .string(local.remoteAddress)
            .uint32(local.remotePort)
            .bytes();
          s.mux.open("forwarded-tcpip", extra).then(
            (ch) => {
              pipeChannel(local, ch);
              local.resume();
            },
            () => local.destroy(),
          );
        });
      } catch (err) {
        o.log?.(`[${id}] tcpip-forward ${peerText(address)}:${port} failed: ${peerText((err as Error).message)}`);
        return undefined;
      }
      remote.set(`${address}:${listener.port}`, listener);
      o.log?.(`[${id}] listening on ${bindHost}:${listener.port} for the client`);
      return port === 0 ? new Writer(4).uint32(listener.port).bytes() : new Uint8Array(0);
    }

    connections.add(session);
    session.onceClosed((err) => {
      for (const l of remote.values()) void l.close();
      remote.clear();
      connections.delete(session);
      o.log?.(`[${id}] closed${err ? `: ${peerText(err.message)}` : ""}`);
    });
  });
  return {
    listener,
    connections,
    async close() {
      for (const c of connections) c.close();
      await listener.close();
    },
  };
}
