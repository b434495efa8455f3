/**
 * What every socket adapter says when a connection cannot be made, in one wording whatever the
 * runtime's own error looks like (node:net's codes, Bun's, Deno's error classes), and the
 * connect timeout that Bun's and Deno's connect calls lack. TCP and Unix-domain sockets (an
 * ssh-agent's) alike.
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

/** "cannot connect to /path: no such socket" (or connection refused, permission denied, the runtime's words). */
export function unixConnectError(path: string, err: Error & { code?: string }): Error {
  const why =
    err.code === "ENOENT" || err.name === "NotFound" || /no such file/i.test(err.message)
      ? "no such socket"
      : err.code === "ECONNREFUSED" || err.name === "ConnectionRefused" || /connection refused/i.test(err.message)
        ? "connection refused (nothing listens there)"
        : err.code === "EACCES" || err.name === "PermissionDenied" || /permission denied/i.test(err.message)
          ? "permission denied"
          : err.code === "ENOTSOCK" || /not a socket/i.test(err.message)
            ? "not a socket"
            : err.message;
  return new Error(`cannot connect to ${path}: ${why}`);
}

export function unixTimeoutError(path: string, timeoutMs: number): Error {
  return new Error(`connection to ${path} timed out after ${timeoutMs} ms`);
}

/**
 * `connecting`, unless it takes longer than `timeoutMs`: then the timeout error, and whatever
 * connects afterwards is handed to `discard` (closed), never leaked.
 */
export function connectWithin<T>(
  host: string,
  port: number,
  timeoutMs: number,
  connecting: Promise<T>,
  discard: (late: T) => void,
): Promise<T> {
  return settleWithin(timeoutMs, connecting, discard, {
    timeout: () => timeoutError(host, port, timeoutMs),
    failed: (err) => connectError(host, port, err),
  });
}

/** `connectWithin` for a Unix-domain socket at `path`. */
export function connectUnixWithin<T>(
  path: string,
  timeoutMs: number,
  connecting: Promise<T>,
  discard: (late: T) => void,
): Promise<T> {
  return settleWithin(timeoutMs, connecting, discard, {
    timeout: () => unixTimeoutError(path, timeoutMs),
    failed: (err) => unixConnectError(path, err),
  });
}

async function settleWithin<T>(
  timeoutMs: number,
  connecting: Promise<T>,
  discard: (late: T) => void,
  errors: { timeout(): Error; failed(err: Error & { code?: string }): Error },
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(errors.timeout());
    }, timeoutMs);
  });
  const attempt = connecting.then(
    (conn) => {
      if (timedOut) discard(conn);
      return conn;
    },
    (err: Error) => {
      throw errors.failed(err);
    },
  );
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
