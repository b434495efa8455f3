/**
 * A forwarding-only SSH bastion: accepts `direct-tcpip` channels (RFC 4254 §7.2) to
 * destinations its policy allows and refuses everything else — sessions, shells, exec — with
 * a clear reason.
 */

import type { Listener } from "@tunnel/ssh";
import {
  OpenFailure,
  type PrivateKey,
  type ServerAuthPolicy,
  type SshServerConnection,
  serveConnection,
} from "@tunnel/ssh";
import { nodeRuntime } from "@tunnel/ssh/runtime";
import { pipeChannel } from "./forward.ts";

export interface ForwardingServerOptions {
  hostKeys: readonly PrivateKey[];
  auth: ServerAuthPolicy;
  /** May this connection reach host:port? Default: nothing is allowed. */
  allow?(host: string, port: number, session: SshServerConnection): boolean;
  log?(line: string): void;
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
  let seq = 0;
  const listener = await nodeRuntime.listen(bind, port, (conn) => {
    const id = ++seq;
    const from = `${conn.remoteAddress}:${conn.remotePort}`;
    o.log?.(`[${id}] connection from ${from}`);
    const session = serveConnection(conn, {
      hostKeys: o.hostKeys,
      auth: o.auth,
      onOpen(open, session) {
        if (open.type !== "direct-tcpip") {
          o.log?.(`[${id}] refused ${open.type} channel`);
          open.reject(
            OpenFailure.ADMINISTRATIVELY_PROHIBITED,
            "this server only forwards TCP (no shell, exec or subsystems)",
          );
          return;
        }
        const host = open.data.utf8("host to connect");
        const p = open.data.uint32("port to connect");
        if (!o.allow?.(host, p, session)) {
          o.log?.(`[${id}] refused direct-tcpip to ${host}:${p}`);
          open.reject(OpenFailure.ADMINISTRATIVELY_PROHIBITED, `forwarding to ${host}:${p} is not allowed`);
          return;
        }
        nodeRuntime.connect(host, p, { timeoutMs: 10_000 }).then(
          (target) => {
            const ch = open.accept();
            o.log?.(`[${id}] channel ${ch.localId} → ${host}:${p}`);
            pipeChannel(target, ch);
          },
          (err: Error) => {
            o.log?.(`[${id}] direct-tcpip to ${host}:${p} failed: ${err.message}`);
            open.reject(OpenFailure.CONNECT_FAILED, err.message);
          },
        );
      },
    });
    connections.add(session);
    session.onceClosed((err) => {
      connections.delete(session);
      o.log?.(`[${id}] closed${err ? `: ${err.message}` : ""}`);
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
