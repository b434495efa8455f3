/**
 * Connection layer: a channel seen as a byte stream (`Conn`), so that a whole SSH connection
 * can run inside a `direct-tcpip` channel of another (a jump host: what `ssh -J` does with
 * `ssh -W host:port`, RFC 4254 §7.2). Bytes in are re-granted as window once the consumer
 * (the inner transport, which handles each chunk at once) took them; pause holds them back,
 * so an inner connection that stops reading stops the channel at one window (§5.2). A channel
 * EOF is the stream's end (§5.3); the channel closing, or the outer connection dying under
 * it, is the stream's close.
 */
import type { Conn, ConnHandlers } from "../runtime/types.ts";
import type { Channel } from "./channel.ts";

const noop = () => {};

class ChannelConn implements Conn {
  private handlers: ConnHandlers = { data: noop, drain: noop, end: noop, close: noop };
  private paused = false;
  private held: Uint8Array[] = [];
  private eofHeld = false;
  private closed = false;
  private attached = false;
  readonly localAddress = "channel";
  readonly localPort = 0;

  constructor(
    private readonly channel: Channel,
    readonly remoteAddress: string,
    readonly remotePort: number,
    private readonly lostMessage: string,
  ) {}

  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
    if (this.attached) return;
    this.attached = true;
    // Attached once: whatever arrived before is delivered now, in order (Channel.events).
    this.channel.events = {
      data: (d) => this.receive(d),
      eof: () => {
        if (this.paused) this.eofHeld = true;
        else this.handlers.end();
      },
      drain: () => this.handlers.drain(),
      close: () => this.onClose(),
    };
  }

  private receive(d: Uint8Array): void {
    if (this.closed) {
      this.channel.consumed(d.length);
      return;
    }
    if (this.paused) {
      this.held.push(d);
      return;
    }
    this.handlers.data(d);
    this.channel.consumed(d.length);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.held = [];
    this.handlers.close(this.channel.aborted ? new Error(this.lostMessage) : undefined);
  }

  write(data: Uint8Array): boolean {
    if (this.closed || this.channel.eofSent || this.channel.closeSent) return false;
    return this.channel.write(data);
  }

  end(): void {
    if (!this.closed) this.channel.finish();
  }

  destroy(): void {
    if (!this.closed) this.channel.close();
  }

  reset(): void {
    this.destroy();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    while (!this.paused && this.held.length > 0) {
      const d = this.held.shift() as Uint8Array;
      this.handlers.data(d);
      this.channel.consumed(d.length);
    }
    if (!this.paused && this.eofHeld) {
      this.eofHeld = false;
      this.handlers.end();
    }
  }
}

/**
 * `channel` as a `Conn`. `host`/`port` name where it leads (its remote address);
 * `lostMessage` is the error its close reports when the connection carrying it died.
 */
export function channelConn(channel: Channel, host: string, port: number, lostMessage: string): Conn {
  return new ChannelConn(channel, host, port, lostMessage);
}
