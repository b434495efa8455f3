/**
 * Holds a new socket back until its owner has set its handlers (`Conn.setHandlers`): reading
 * stays paused, and a close that comes first is kept and delivered then. Without it, bytes that
 * arrive between accept (or connect) and the owner's first call are lost — the Node adapter
 * lost them. Also remembers whether the owner itself paused, so attaching does not resume a
 * socket the owner wants paused.
 */
export class AttachGate {
  private attached = false;
  private ownerPaused = false;
  private held: { error?: Error } | undefined;

  constructor(private readonly socket: { pause(): void; resume(): void }) {
    socket.pause();
  }

  /** A close arrived: true if it may be reported now, false if it is held for `attach`. */
  closing(error?: Error): boolean {
    if (this.attached) return true;
    this.held ??= { error };
    return false;
  }

  pause(): void {
    this.ownerPaused = true;
    this.socket.pause();
  }

  resume(): void {
    this.ownerPaused = false;
    if (this.attached) this.socket.resume();
  }

  /** The owner has set its handlers: report a held close through `close`, or start reading. */
  attach(close: (error?: Error) => void): void {
    if (this.attached) return;
    this.attached = true;
    if (this.held) close(this.held.error);
    else if (!this.ownerPaused) this.socket.resume();
  }

  /** The owner tears the socket down itself: nothing is held any longer. */
  release(): void {
    this.attached = true;
  }
}
