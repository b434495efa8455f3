/**
 * What every socket adapter says when a connection cannot be made, in one wording whatever the
 * runtime's own error looks like (node:net's codes, Bun's, Deno's error classes), and the
 * connect timeout that Bun's and Deno's connect calls lack.
 */

/** The timeout every adapter uses unless the caller gives one. */
export const CONNECT_TIMEOUT_MS = 15_000;

/** "cannot connect to host:port: connection refused" (or host not found, or the runtime's words). */
export function connectError(host: string, port: number, err: Error & { code?: string }): Error {
  const why =
    err.code === "ECONNREFUSED" || err.name === "ConnectionRefused" || /connection refused/i.test(err.message)
      ? "connection refused"
      : err.code === "ENOTFOUND" ||
          err.code === "DNSException" ||
          err.name === "NotFound" ||
          /lookup|resolve|name or service/i.test(err.message)
        ? "host not found"
        : err.message;
  return new Error(`cannot connect to ${host}:${port}: ${why}`);
}

export function timeoutError(host: string, port: number, timeoutMs: number): Error {
  return new Error(`connection to ${host}:${port} timed out after ${timeoutMs} ms`);
}

/**
 * `connecting`, unless it takes longer than `timeoutMs`: then the timeout error, and whatever
 * connects afterwards is handed to `discard` (closed), never leaked.
 */
export async function connectWithin<T>(
  host: string,
  port: number,
  timeoutMs: number,
  connecting: Promise<T>,
  discard: (late: T) => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(timeoutError(host, port, timeoutMs));
    }, timeoutMs);
  });
  const attempt = connecting.then(
    (conn) => {
      if (timedOut) discard(conn);
      return conn;
    },
    (err: Error) => {
      throw connectError(host, port, err);
    },
  );
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
