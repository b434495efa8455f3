/**
 * When and whether to reconnect to the bastion after the SSH connection is lost.
 *
 * Backoff: exponential with full jitter over a floor (the first retry comes within 1 s,
 * later ones double up to a cap of 30 s), so that many tunnels cut by the same outage do not
 * come back in step. Failures that another attempt cannot cure — authentication refused, a
 * host key that does not match (or could be an impostor), settings that name nothing the
 * server offers — end the tunnel instead: retrying them would only hammer the server or, for
 * a changed host key, keep knocking on an impostor's door.
 */
export const RECONNECT_FIRST_MS = 1_000;
export const RECONNECT_MAX_MS = 30_000;

/** Delay before attempt `n` (1-based): within [cap/2, cap] where cap = min(1 s · 2^(n−1), 30 s). */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be 1 or more, got ${attempt}`);
  const cap = Math.min(RECONNECT_FIRST_MS * 2 ** (attempt - 1), RECONNECT_MAX_MS);
  return Math.round(cap / 2 + random() * (cap / 2));
}

const PERMANENT = new Set<string>([
  "AUTH_FAILED",
  "HOST_KEY_CHANGED",
  "HOST_KEY_REJECTED",
  "HOST_KEY_UNKNOWN",
  "BAD_SIGNATURE",
  "NO_COMMON_ALGORITHM",
  "STRICT_KEX_VIOLATION",
  "KEY_FORMAT",
  "KEY_ENCRYPTED",
]);

/** Is this a failure that reconnecting cannot cure? */
export function isPermanentFailure(err: Error): boolean {
  if (err instanceof TypeError || err instanceof RangeError) return true;
  // By name and code, not class: the error may come from another copy of the protocol package.
  return err.name === "SshError" && PERMANENT.has((err as Error & { code: string }).code);
}
