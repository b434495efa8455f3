/**
 * What a `Conn` whose source cannot itself stop (an SSH channel, an in-memory peer) does with
 * bytes that arrive while its reader has paused: it queues them, and the end of the stream
 * after them, and hands them over in order once the reader resumes (`Conn.pause` / `resume`).
 */
export class Inbox {
  private paused = false;
  private held: Uint8Array[] = [];
  private endHeld = false;

  constructor(
    /** Hands a chunk to the reader. */
    private readonly deliver: (chunk: Uint8Array) => void,
    /** Tells the reader the stream has ended. */
    private readonly deliverEnd: () => void,
  ) {}

  /** A chunk arrived: delivered now, or queued while the reader is paused. */
  push(chunk: Uint8Array): void {
    if (this.paused) this.held.push(chunk);
    else this.deliver(chunk);
  }

  /** The stream ended: reported now, or once the chunks queued before it are delivered. */
  end(): void {
    if (this.paused) this.endHeld = true;
    else this.deliverEnd();
  }

  pause(): void {
    this.paused = true;
  }

  /** Delivers what is queued, in order, until the reader pauses again. */
  resume(): void {
    this.paused = false;
    while (!this.paused && this.held.length > 0) this.deliver(this.held.shift() as Uint8Array);
    if (!this.paused && this.endHeld) {
      this.endHeld = false;
      this.deliverEnd();
    }
  }

  /** Drops the queued chunks (the connection closed under them). */
  discard(): void {
    this.held = [];
  }
}
