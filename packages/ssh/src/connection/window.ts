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
 *   grows, up to `max` and within what the connection's budget grants (`grow`). It never
 *   shrinks; it never grows for a consumer that lags, so a slow reader is not given more.
 * - By how much: a window-bound peer sends each grant at once and then waits, so its bytes
 *   arrive in runs, packets a few ms apart at most, one run per round trip. The fastest run
 *   since the last probe (bytes over the span it took, `burstRate`) is what the path carries
 *   when the window does not hold it back; times the round trip, that is the window the path
 *   needs (its bandwidth-delay product). The window grows to that, at least doubling and at
 *   most fourfold a step: one answered probe takes OpenSSH's 2 MiB to 8 MiB on a fast long
 *   link, where doubling took two round trips more (docs/ARCHITECTURE.md "Flow control").
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

/** Arrivals at most this far apart (ms) belong to one run: one burst of the peer's credit. */
export const RUN_GAP_MS = 4;

/** A run is timed once it holds this many maximum packets: fewer say too little about the path. */
const RUN_PACKETS = 4;

/** The most a window grows in one step, as a multiple of its size. */
const MAX_GROWTH = 4;

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
  /** The run of arrivals under way: when its first packet came, bytes since, when the last came. */
  private run = { startedAt: Number.NEGATIVE_INFINITY, bytes: 0, lastAt: Number.NEGATIVE_INFINITY };
  /** The fastest run since the last probe went out, bytes/ms (0: none long enough). */
  private burstRate = 0;

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
    if (this.size < this.max) this.time(n);
    return true;
  }

  /** Times the run `n` bytes belong to; only a window that may still grow needs it. */
  private time(n: number): void {
    const at = this.now();
    const run = this.run;
    if (at - run.lastAt > RUN_GAP_MS) {
      // A new run: its first packet only marks the start, the span is timed from there.
      run.startedAt = at;
      run.bytes = 0;
    } else {
      run.bytes += n;
    }
    run.lastAt = at;
    if (run.bytes < RUN_PACKETS * this.maxPacket) return;
    // A clock too coarse to see the span counts it as a millisecond: a high rate, no error.
    this.burstRate = Math.max(this.burstRate, run.bytes / Math.max(at - run.startedAt, 1));
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
    if (probe) {
      this.probe = { grantedBefore, sentAt: this.now(), receivedBefore: this.received };
      // The run under way counts for this probe from its next packet on.
      this.burstRate = 0;
    }
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
    const roundTrip = Math.min(this.roundTrip(), elapsed);
    if (rate * roundTrip < this.size / 2) return 0;
    const needed = this.burstRate * roundTrip;
    const target = Math.min(this.max, Math.max(2 * this.size, Math.min(MAX_GROWTH * this.size, needed)));
    const extra = this.grow(Math.ceil(target - this.size));
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
