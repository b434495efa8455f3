/**
 * Connection layer: one channel's receive window (RFC 4254 §5.2), which grows while the
 * window, not the consumer, is what holds the sender back.
 *
 * A sender may have at most one window of data unacknowledged, so a channel moves at most
 * window ÷ round-trip time: with OpenSSH's fixed 2 MiB, 40 MiB/s at 50 ms whatever the link
 * could carry (docs/ARCHITECTURE.md "Flow control"). So, as PuTTY has done since 2007:
 *
 * - Window is re-granted only as the consumer reports bytes consumed, once half of it or
 *   `GRANT_PACKETS` maximum packets have been consumed, whichever comes first: memory stays
 *   bounded by the window whatever the peer sends. Waiting for half of a large window would
 *   leave a window-bound sender idle for half of each round trip, so it would move only about
 *   three quarters of a window per round trip (OpenSSH grants after three packets for the
 *   same reason, channels.c).
 * - With a grant we may send a probe: a channel request with want-reply that the peer answers
 *   in order (§5.4; a peer that does not know it answers CHANNEL_FAILURE). When the answer
 *   arrives, every byte the peer sent before it read our grant has arrived. If by then the
 *   peer had used up all the credit it had before that grant, it was waiting for us: the
 *   window is the bottleneck.
 * - If so, and the consumer keeps up (little delivered and not yet consumed), the window
 *   doubles, up to `max` and within what the connection's budget grants (`grow`). It never
 *   shrinks; it never grows for a consumer that lags, so a slow reader is not given more.
 * - A window-bound peer is not always held back by the round trip: with no delay it runs out
 *   of credit only because the bytes queue (in the sockets, in our decoder, in the peer), and
 *   a larger window only queues more. That queue is not free for the peer: OpenSSH 9.2's sshd
 *   spends most of its CPU regrowing its buffers once it is allowed 8 MiB or more at loopback
 *   speed (docs/ARCHITECTURE.md "Flow control"). So the window grows only while it is less
 *   than about two round trips' worth of what it carried: `rate × roundTrip ≥ size / 2`, the
 *   rate being the bytes that arrived between the probe and its answer over that time, the
 *   round trip the least the connection has seen (`roundTrip`: a ping after login, keepalives)
 *   or, failing that, the probe's own. On a long link a window-bound channel carries one
 *   window per round trip, so the test passes; behind a queue at loopback it fails by far.
 */

import { type Clock, monotonic } from "../clock.ts";

/** The probe's wire name: PuTTY's, which servers have answered for years. */
export const WINDOW_PROBE_REQUEST = "winadj@putty.projects.tartarus.org";

/** Consumed bytes worth this many maximum packets are re-granted without waiting for half a window. */
export const GRANT_PACKETS = 4;

export interface WindowGrant {
  /** Bytes to grant now in a WINDOW_ADJUST (0: none). */
  grant: number;
  /** Send a probe right after the grant. */
  probe: boolean;
}

export class ReceiveWindow {
  /** What the peer may still send, as we count it (its credit plus what is in flight). */
  available: number;
  /** The window we aim to keep open. */
  size: number;
  /** Consumed, not yet re-granted. */
  private unacked = 0;
  /** Delivered to the consumer, not yet consumed. */
  private pending = 0;
  /** Everything granted so far (the initial window included) and everything received. */
  private granted: number;
  private received = 0;
  /** The probe in flight: what we had granted before the grant it went with; when it left and what had arrived then. */
  private probe: { grantedBefore: number; sentAt: number; receivedBefore: number } | undefined;

  /**
   * @param initial the window announced in CHANNEL_OPEN or its confirmation
   * @param max the largest the window may grow to (equal to `initial`: never grows)
   * @param maxPacket our maximum packet size: the slack allowed when judging the peer stalled
   * @param grow asks the connection for up to `want` more bytes of window; returns what it grants
   * @param now the clock that times the probes, in ms (tests pass their own)
   * @param roundTrip the least round trip the connection has seen, in ms on the same clock (Infinity: none yet)
   */
  constructor(
    initial: number,
    /** The largest the window may grow to. */
    readonly max: number,
    private readonly maxPacket: number,
    private readonly grow: (want: number) => number = () => 0,
    private readonly now: Clock = monotonic,
    private readonly roundTrip: () => number = () => Number.POSITIVE_INFINITY,
  ) {
    this.available = initial;
    this.size = initial;
    this.granted = initial;
  }

  /** Data arrived. False if it is more than the peer may send (a protocol error for the caller). */
  receive(n: number): boolean {
    if (n > this.available) return false;
    this.available -= n;
    this.received += n;
    this.pending += n;
    return true;
  }

  /** The consumer is done with `n` bytes: what to send now. */
  consume(n: number): WindowGrant {
    this.pending = Math.max(0, this.pending - n);
    this.unacked += n;
    if (this.unacked < Math.min(this.size / 2, GRANT_PACKETS * this.maxPacket)) return { grant: 0, probe: false };
    const grant = this.unacked;
    this.unacked = 0;
    const grantedBefore = this.granted;
    this.available += grant;
    this.granted += grant;
    const probe = this.probe === undefined && this.size < this.max;
    if (probe) this.probe = { grantedBefore, sentAt: this.now(), receivedBefore: this.received };
    return { grant, probe };
  }

  /** The peer answered our probe: the extra window to grant now (0: none). */
  probeAnswered(): number {
    const p = this.probe;
    if (!p) return 0; // not ours: an unsolicited reply, ignored
    this.probe = undefined;
    const creditLeft = p.grantedBefore - this.received;
    const windowBound = creditLeft <= 2 * this.maxPacket;
    const keepingUp = this.pending <= this.size / 4;
    if (!windowBound || !keepingUp || this.size >= this.max) return 0;
    // A clock too coarse to see the interval counts it as a millisecond: a high rate, no error.
    const elapsed = Math.max(this.now() - p.sentAt, 1);
    const rate = (this.received - p.receivedBefore) / elapsed;
    if (rate * Math.min(this.roundTrip(), elapsed) < this.size / 2) return 0;
    const extra = this.grow(Math.min(this.size, this.max - this.size));
    if (extra <= 0) return 0;
    this.size += extra;
    this.available += extra;
    this.granted += extra;
    return extra;
  }

  /** Whether a probe is out (its reply is ours to take). */
  get probing(): boolean {
    return this.probe !== undefined;
  }
}
