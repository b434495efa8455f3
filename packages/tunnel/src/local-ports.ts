/**
 * Engine: the local ports a `TunnelSession` (open.ts) listens on. A default port moves on to
 * the next free one, up to `PORT_SEARCH_RANGE` further; an explicit one must be free. Listen
 * errors become one line for people, read from the `code` every `Runtime.listen` sets
 * (runtime/types.ts in @tunnel/ssh: node:net's names on Node, Bun and Deno alike).
 */
import type { Conn, Listener, Runtime } from "@tunnel/ssh";

export const DEFAULT_LOCAL_PORT = 10000;
/** How far a default port may move when busy. */
export const PORT_SEARCH_RANGE = 100;

export interface LocalPort {
  sockets: Runtime;
  bind: string;
  port: number;
  /** The caller chose `port`: it is that one or an error. */
  explicit: boolean;
  /** How messages name the port option (the CLI's `--port`). */
  portOption: string;
  /** A busy default port moved. */
  info?: ((line: string) => void) | undefined;
}

/** Listens on `p.bind`, at `p.port` or (a default port) the next free one. */
export async function listenLocal(p: LocalPort, onConn: (conn: Conn) => void): Promise<Listener> {
  const { bind, port, explicit } = p;
  const limit = explicit || port === 0 ? port : Math.min(65535, port + PORT_SEARCH_RANGE);
  for (let at = port; at <= limit; at++) {
    try {
      const l = await p.sockets.listen(bind, at, onConn);
      if (at !== port) p.info?.(`Port ${port} is busy; using ${at} instead`);
      return l;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === "EADDRINUSE" && !explicit) continue;
      if (code === "EADDRINUSE")
        throw new TypeError(`port ${at} on ${bind} is already in use; choose another with ${p.portOption}`);
      if (code === "EACCES") throw new TypeError(`no permission to listen on ${bind}:${at}; use a port above 1023`);
      if (code === "EADDRNOTAVAIL") throw new TypeError(`cannot listen on ${bind}: no such local address`);
      throw err;
    }
  }
  throw new TypeError(`no free port between ${port} and ${limit} on ${bind}; choose one with ${p.portOption}`);
}
