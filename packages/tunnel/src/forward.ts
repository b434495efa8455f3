/**
 * Local forwarding: a local socket carried as one `direct-tcpip` channel (RFC 4254 §7.2).
 *
 * Flow control end to end, so memory stays bounded whatever either side does:
 * - local → channel: the local socket is paused whenever the channel's send queue is not
 *   empty (the peer's window is used up), and resumed on the channel's `drain`;
 * - channel → local: bytes written to the local socket are acknowledged to the peer (window
 *   re-granted) only once the socket accepted them without buffering, or after it drained.
 * Half-close is kept both ways: a local FIN becomes CHANNEL_EOF and the other direction goes
 * on; the channel's EOF ends the local socket's write side. CLOSE follows once both are done.
 */
import type { Channel, Conn } from "@tunnel/ssh";

export interface PipeStats {
  bytesIn: number;
  bytesOut: number;
}

export interface PipeEvents {
  /** Both directions finished (or one side failed). */
  closed?(stats: PipeStats, error?: Error): void;
}

export function pipeChannel(local: Conn, channel: Channel, events: PipeEvents = {}): void {
  const stats: PipeStats = { bytesIn: 0, bytesOut: 0 };
  let unacked = 0;
  let localEnded = false; // we ended the local socket's write side
  let localFin = false; // the local socket sent FIN
  let done = false;

  const finish = (err?: Error) => {
    if (done) return;
    done = true;
    events.closed?.(stats, err);
  };
  const maybeClose = () => {
    if (channel.eofSent && channel.eofReceived && unacked === 0) channel.close();
  };

  local.setHandlers({
    data(chunk) {
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
    end() {
      localFin = true;
      channel.end();
      maybeClose();
    },
    close(err) {
      if (!channel.closeSent) channel.close();
      if (err) finish(err);
    },
  });

  channel.events = {
    data(data) {
      stats.bytesIn += data.length;
      if (local.write(data)) channel.consumed(data.length);
      else unacked += data.length;
    },
    drain() {
      if (!localFin) local.resume();
      maybeClose();
    },
    eof() {
      if (!localEnded) {
        localEnded = true;
        local.end();
      }
      maybeClose();
    },
    close() {
      if (!localEnded) {
        localEnded = true;
        local.end();
      }
      // Give the socket time to flush what it holds, then tear it down.
      setTimeout(() => local.destroy(), 5_000).unref?.();
      finish();
    },
  };
}
