/**
 * Connection layer: liveness checks over an established connection, with the meaning of
 * OpenSSH's ServerAliveInterval / ServerAliveCountMax (ssh_config(5)).
 *
 * Every `intervalMs` in which nothing at all arrived from the peer, a
 * `keepalive@openssh.com` global request with want-reply is sent (RFC 4254 §4: a peer that
 * does not know the name answers REQUEST_FAILURE, which proves it alive just as well). Any
 * packet from the peer resets the count; after `countMax` silent intervals in a row (at least
 * one of them with a request out) the connection is declared dead. The requests travel inside the encrypted transport, so a
 * machine in the middle cannot answer them, unlike TCP keepalives.
 */

import { SshError } from "../errors.ts";
import type { Mux } from "./mux.ts";

export const KEEPALIVE_REQUEST = "keepalive@openssh.com";

export interface KeepaliveOptions {
  intervalMs: number;
  countMax: number;
  /** Packets received so far (the transport's counter). */
  received(): number;
  mux: Mux;
  /** The peer is considered dead. */
  dead(err: SshError): void;
}

export interface Keepalive {
  stop(): void;
}

/** Starts the checks; `intervalMs` ≤ 0 turns them off. */
export function startKeepalive(o: KeepaliveOptions): Keepalive {
  if (!(o.intervalMs > 0)) return { stop() {} };
  if (!Number.isInteger(o.countMax) || o.countMax < 1) {
    throw new RangeError(`keepalive countMax must be an integer of at least 1, got ${o.countMax}`);
  }
  let seen = o.received();
  // Intervals in a row in which nothing arrived, and probes sent in them.
  let silent = 0;
  let probes = 0;
  const timer = setInterval(() => {
    const now = o.received();
    if (now !== seen) {
      seen = now;
      silent = 0;
      probes = 0;
      return;
    }
    silent++;
    // Dead after `countMax` silent intervals (OpenSSH's man page: 15 s × 3 → about 45 s),
    // provided at least one probe had a whole interval to be answered.
    if (silent >= o.countMax && probes > 0) {
      clearInterval(timer);
      const secs = (o.intervalMs * silent) / 1000;
      o.dead(new SshError("TIMEOUT", `no answer to keepalives for ${secs} s: the peer is not responding`));
      return;
    }
    probes++;
    // The reply itself is a packet, which the counter sees; its content does not matter.
    o.mux.globalRequest(KEEPALIVE_REQUEST, new Uint8Array(0), true).catch(() => {});
  }, o.intervalMs);
  (timer as { unref?: () => void }).unref?.();
  return {
    stop: () => clearInterval(timer),
  };
}
