/**
 * Connection layer: a channel seen as a byte stream (`Conn`), so that a whole SSH connection
 * can run inside a `direct-tcpip` channel of another (a jump host: what `ssh -J` does with
 * `ssh -W host:port`, RFC 4254 §7.2). Bytes in are re-granted as window once the consumer
 * (the inner transport, which handles each chunk at once) took them; pause holds them back,
 * so an inner connection that stops reading stops the channel at one window (§5.2). A channel
 * EOF is the stream's end (§5.3); the channel closing, or the outer connection dying under
 * it, is the stream's close.
 */
import { Inbox } from "../runtime/inbox.ts";
import type { Conn, ConnHandlers } from "../runtime/types.ts";
import type { Channel } from "./channel.ts";

const noop = () => {};

class ChannelConn implements Conn {
  private handlers: ConnHandlers = { data: noop, drain: noop, end: noop, close: noop };
  private readonly inbox = new Inbox(
    (d) => {
      this.handlers.data(d);
      this.channel.consumed(d.length);
    },
    () => this.handlers.end(),
  );
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
      eof: () => this.inbox.end(),
      drain: () => this.handlers.drain(),
      close: () => this.onClose(),
    };
  }

  private receive(d: Uint8Array): void {
    if (this.closed) {
      this.channel.consumed(d.length);
      return;
    }
    this.inbox.push(d);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox.discard();
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
    this.inbox.pause();
  }

  resume(): void {
    this.inbox.resume();
  }
}

/**
 * `channel` as a `Conn`. `host`/`port` name where it leads (its remote address);
 * `lostMessage` is the error its close reports when the connection carrying it died.
 */
export function channelConn(channel: Channel, host: string, port: number, lostMessage: string): Conn {
  return new ChannelConn(channel, host, port, lostMessage);
}
