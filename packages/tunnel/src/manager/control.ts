/**
 * A running tunnel's control socket: a Unix-domain socket next to its record (state.ts), in a
 * directory only its user can open, so whoever can connect is that user.
 *
 * The protocol is one JSON object per line, one exchange per connection: the client sends
 * `{"op": "status"}` (or `info`, `pause`, `resume`, `close`), the tunnel answers
 * `{"ok": true, "result": …}` or `{"ok": false, "error": "one line"}` and closes. A request
 * longer than `MAX_LINE` or not JSON is answered with an error, never read further.
 *
 * Sockets come from the runtime adapter (`listenUnix`, `connectUnix`): the same code runs
 * under Node, Bun and Deno.
 */
import * as fs from "node:fs";
import { type Conn, type Listener, type Runtime, runtime } from "@tunnel/ssh/runtime";

/** The longest request or answer line taken, in bytes. */
export const MAX_LINE = 256 * 1024;

/** sun_path holds 108 bytes on Linux, 104 on macOS: longer paths cannot be bound. */
const MAX_SOCKET_PATH = 103;

export const CONTROL_OPS = ["status", "info", "pause", "resume", "close"] as const;
export type ControlOp = (typeof CONTROL_OPS)[number];

export interface ControlRequest {
  op: ControlOp;
}

export type ControlHandler = (op: ControlOp) => Promise<unknown>;

const encoder = new TextEncoder();

/** Reads one line from `conn`, then hands it to `done` (or the reason it could not). */
function readLine(conn: Conn, done: (line: string | Error) => void): void {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let finished = false;
  const finish = (v: string | Error) => {
    if (finished) return;
    finished = true;
    done(v);
  };
  const text = () => {
    const all = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    return new TextDecoder().decode(all);
  };
  conn.setHandlers({
    data(chunk) {
      if (finished) return;
      const nl = chunk.indexOf(10);
      chunks.push(nl < 0 ? chunk : chunk.subarray(0, nl));
      size += nl < 0 ? chunk.length : nl;
      if (size > MAX_LINE) finish(new Error(`a control line is longer than ${MAX_LINE} bytes`));
      else if (nl >= 0) finish(text());
    },
    drain() {},
    end() {
      finish(size > 0 ? text() : new Error("the control connection closed before a full line"));
    },
    close(err) {
      finish(err ?? new Error("the control connection closed before a full line"));
    },
  });
  conn.resume();
}

/** How long an answered client may keep its end open before it is closed for it. */
const LINGER_MS = 5_000;

function sendLine(conn: Conn, value: unknown): void {
  conn.write(encoder.encode(`${JSON.stringify(value)}\n`));
  conn.end();
  const t = setTimeout(() => conn.destroy(), LINGER_MS);
  (t as { unref?: () => void }).unref?.();
}

/** Parses a request line: `{"op": …}` with a known op. */
export function parseRequest(line: string): ControlRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error('the control request is not JSON; expected {"op": …}');
  }
  const op = (v as { op?: unknown } | null)?.op;
  if (typeof op !== "string" || !(CONTROL_OPS as readonly string[]).includes(op)) {
    const shown = JSON.stringify(op)?.slice(0, 40) ?? "undefined";
    throw new Error(`unknown control op ${shown}; expected one of ${CONTROL_OPS.join(", ")}`);
  }
  return { op: op as ControlOp };
}

/**
 * Listens on `path` (replacing a stale socket file there: the caller owns the name) and
 * answers each request with `handle`. The socket is made 0600.
 */
export async function serveControl(
  path: string,
  handle: ControlHandler,
  sockets: Runtime = runtime,
): Promise<Listener> {
  if (!sockets.listenUnix) throw new Error(`the ${sockets.name} socket adapter cannot listen on a Unix socket`);
  if (new TextEncoder().encode(path).length > MAX_SOCKET_PATH) {
    throw new Error(`${path} is too long for a Unix socket; set XDG_STATE_HOME to a shorter directory`);
  }
  fs.rmSync(path, { force: true });
  const listener = await sockets.listenUnix(path, (conn) => {
    readLine(conn, (line) => {
      if (line instanceof Error) {
        conn.destroy();
        return;
      }
      let op: ControlOp;
      try {
        op = parseRequest(line).op;
      } catch (err) {
        sendLine(conn, { ok: false, error: (err as Error).message });
        return;
      }
      handle(op).then(
        (result) => sendLine(conn, { ok: true, result: result ?? null }),
        (err: Error) => sendLine(conn, { ok: false, error: err.message.split("\n")[0] }),
      );
    });
  });
  fs.chmodSync(path, 0o600);
  return listener;
}

/** The tunnel answered with an error (its message is the tunnel's own one line). */
export class ControlError extends Error {
  override readonly name = "ControlError";
}

/**
 * Sends one request and returns the answer's result. A socket that is not there or refuses
 * (its process is gone) rejects with the runtime's "cannot connect to PATH: …" error.
 */
export async function controlRequest(
  path: string,
  op: ControlOp,
  timeoutMs = 5_000,
  sockets: Runtime = runtime,
): Promise<unknown> {
  if (!sockets.connectUnix) throw new Error(`the ${sockets.name} socket adapter cannot reach a Unix socket`);
  const conn = await sockets.connectUnix(path, { timeoutMs });
  const line = await new Promise<string | Error>((resolve) => {
    const timer = setTimeout(() => {
      conn.destroy();
      resolve(new Error(`no answer on ${path} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    readLine(conn, (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    conn.write(encoder.encode(`${JSON.stringify({ op })}\n`));
  });
  conn.destroy();
  if (line instanceof Error) throw line;
  let answer: { ok?: unknown; result?: unknown; error?: unknown };
  try {
    answer = JSON.parse(line) as typeof answer;
  } catch {
    throw new Error(`the answer on ${path} is not JSON; expected {"ok": …}`);
  }
  if (answer?.ok === true) return answer.result;
  throw new ControlError(typeof answer?.error === "string" ? answer.error : `the answer on ${path} has no result`);
}
