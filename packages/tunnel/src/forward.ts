/**
 * Forwarding: a socket carried as one channel — `direct-tcpip` for `tunnel open`, the target
 * side of `tunnel serve`, `forwarded-tcpip` for remote forwards (RFC 4254 §7).
 *
 * Flow control end to end, so memory stays bounded whatever either side does:
 * - socket → channel: the socket is paused whenever the channel's send queue is not empty
 *   (the peer's window is used up), and resumed on the channel's `drain`;
 * - channel → socket: bytes written to the socket are acknowledged to the peer (window
 *   re-granted) only once the socket accepted them without buffering, or after it drained.
 *
 * Closing, whichever end goes first (RFC 4254 §5.3), and never a truncation passed off as a
 * clean end:
 * - the socket's FIN becomes CHANNEL_EOF once what it sent has gone out; the other direction
 *   goes on (half-close);
 * - the channel's EOF ends the socket's write side (for a socket that has sent its own FIN, once
 *   the channel is closed both ways, so that a connection dying in between resets it);
 * - the socket failing (RST, error) closes the channel at once, without EOF, so the far end
 *   sees an abort;
 * - the channel closing after its EOF (a clean end): reading the socket stops, its write side
 *   is ended, and it is torn down once the peer closes it too, or after `SOCKET_LINGER_MS` (as
 *   OpenSSH closes its descriptor once the output has drained);
 * - the channel closing without EOF, or the connection dying under it: the stream was cut,
 *   so the socket is reset rather than ended.
 * Data the socket sends after the channel is gone is dropped (the socket is then paused and
 * about to be closed); data the channel delivers after the socket is gone is acknowledged
 * and dropped, so the peer is never left waiting on a window.
 */
import type { Channel, Conn } from "@tunnel/ssh";

/** How long a socket may take to read what we wrote after the channel closed cleanly. */
export const SOCKET_LINGER_MS = 5_000;

export interface PipeStats {
  bytesIn: number;
  bytesOut: number;
}

export interface PipeEvents {
  /** Both the channel and the socket are closed; `error` if the stream was cut. */
  closed?(stats: PipeStats, error?: Error): void;
  /** How long the socket may linger after a clean close (default `SOCKET_LINGER_MS`). */
  lingerMs?: number;
  /** Counts into this object as bytes pass (readable while the pipe runs), instead of a fresh one. */
  stats?: PipeStats;
}

/** What a socket did while it waited for its channel (see `holdConn`). */
export interface HeldConn {
  readonly conn: Conn;
  /** It sent FIN. */
  readonly ended: boolean;
  /** It is gone; `error` set if it failed. */
  readonly closed: boolean;
  readonly error: Error | undefined;
}

/**
 * Takes a socket that has no channel yet: pauses it and remembers whether it ends or closes
 * meanwhile, so that nothing it does before `pipeChannel` is lost.
 */
export function holdConn(conn: Conn, onClose?: () => void): HeldConn {
  const held = { conn, ended: false, closed: false, error: undefined as Error | undefined };
  conn.pause();
  conn.setHandlers({
    data() {},
    drain() {},
    end() {
      held.ended = true;
    },
    close(err) {
      held.closed = true;
      held.error = err;
      onClose?.();
    },
  });
  return held;
}

export function pipeChannel(socket: Conn | HeldConn, channel: Channel, events: PipeEvents = {}): void {
  // Told apart by the method a socket has (a socket adapter may well have a `conn` field).
  const held = "setHandlers" in socket ? undefined : socket;
  const local: Conn = held ? held.conn : (socket as Conn);
  const stats: PipeStats = events.stats ?? { bytesIn: 0, bytesOut: 0 };
  let unacked = 0;
  let localWriteEnded = false; // we ended the socket's write side
  let localFin = false; // the socket sent FIN
  let localClosed = false;
  let channelClosed = false;
  let cutError: Error | undefined;
  let done = false;
  let linger: ReturnType<typeof setTimeout> | undefined;

  const finishIfDone = () => {
    if (done || !localClosed || !channelClosed) return;
    done = true;
    clearTimeout(linger);
    events.closed?.(stats, cutError);
  };
  const maybeClose = () => {
    if (channel.eofSent && channel.eofReceived && unacked === 0) channel.close();
  };
  const onLocalEnd = () => {
    localFin = true;
    // Our EOF follows whatever is still queued for the peer.
    if (!channel.peerGone) channel.end();
    maybeClose();
  };
  const onLocalClose = (err?: Error) => {
    if (localClosed) return;
    localClosed = true;
    if (unacked > 0) {
      // Nobody will read those bytes now: give the window back so the peer is not stalled.
      channel.consumed(unacked);
      unacked = 0;
    }
    if (err) {
      // RST or failure: abort the channel at once, without EOF (§5.3).
      cutError ??= err;
      channel.close();
    } else if (localFin) {
      // A clean close after FIN: send what is queued and the EOF, then CLOSE.
      channel.finish();
    } else channel.close();
    finishIfDone();
  };

  local.setHandlers({
    data(chunk) {
      if (channel.peerGone || channel.eofSent) return;
      stats.bytesOut += chunk.length;
      if (!channel.write(chunk)) local.pause();
    },
    drain() {
      if (unacked > 0) {
        const n = unacked;
        unacked = 0;
        channel.consumed(n);
      }
      maybeClose();
    },
    end: onLocalEnd,
    close: onLocalClose,
  });

  channel.events = {
    data(data) {
      if (localClosed) {
        channel.consumed(data.length);
        return;
      }
      stats.bytesIn += data.length;
      if (local.write(data)) channel.consumed(data.length);
      else unacked += data.length;
    },
    drain() {
      if (!localFin && !localClosed) local.resume();
      maybeClose();
    },
    eof() {
      // A socket that already sent its FIN takes ours only once the channel is closed both
      // ways: until then what it sent may still be in flight, and if the connection dies
      // first it must see a reset, not an end as if its upload had been delivered.
      if (!localWriteEnded && !localClosed && !localFin) {
        localWriteEnded = true;
        local.end();
      }
      maybeClose();
    },
    close() {
      channelClosed = true;
      if (localClosed) {
        finishIfDone();
        return;
      }
      if (channel.aborted || !channel.eofReceived) {
        // The stream was cut (the connection died, or the peer closed without EOF): say so.
        cutError ??= new Error(channel.aborted ? "the SSH connection was lost" : "the channel was closed without EOF");
        local.reset();
        return;
      }
      // A clean end: stop reading, let the socket take the rest, then tear it down.
      local.pause();
      if (!localWriteEnded) {
        localWriteEnded = true;
        local.end();
      }
      // Once both sides have sent FIN the socket closes by itself after flushing; a socket
      // whose peer never closes is torn down after the linger.
      linger = setTimeout(() => local.destroy(), events.lingerMs ?? SOCKET_LINGER_MS);
      (linger as { unref?: () => void }).unref?.();
    },
  };

  // What the socket did while it waited for the channel.
  if (held?.ended) onLocalEnd();
  if (held?.closed) onLocalClose(held.error);
}
