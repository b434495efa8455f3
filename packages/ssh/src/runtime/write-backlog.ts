/**
 * What the Bun and Deno socket adapters do alike with the bytes their owner writes: queue them
 * (`OutQueue`), write them out on a microtask so that one turn's packets leave together, and
 * keep `write`'s promise as Node's sockets do — `false` once a high-water mark of bytes waits,
 * then one `drain` when the queue is low again. Memory stays bounded per socket by the owner
 * honouring that `false` (docs/ARCHITECTURE.md "Flow control").
 */
import { OutQueue } from "./out-queue.ts";
import { WRITE_HIGH_WATER } from "./types.ts";

export class WriteBacklog {
  /** The bytes waiting for the socket. */
  readonly out = new OutQueue();
  private scheduled = false;
  /** `push` returned false: the owner is told once the queue is low again. */
  private owesDrain = false;

  /** @param flush writes what the socket takes now; called on a microtask after a `push` */
  constructor(private readonly flush: () => void) {}

  private readonly flushSoon = () => {
    this.scheduled = false;
    this.flush();
  };

  /**
   * Queues `data` and schedules a flush, unless one is scheduled or `flushing` (the adapter's
   * own write loop is running and will take it). False once the high-water mark is reached.
   */
  push(data: Uint8Array, flushing = false): boolean {
    this.out.push(data);
    if (!this.scheduled && !flushing) {
      this.scheduled = true;
      queueMicrotask(this.flushSoon);
    }
    if (this.out.bytes < WRITE_HIGH_WATER) return true;
    this.owesDrain = true;
    return false;
  }

  /** True, once, when a `push` returned false and the queue has fallen below the mark since. */
  drainDue(): boolean {
    if (!this.owesDrain || this.out.bytes >= WRITE_HIGH_WATER) return false;
    this.owesDrain = false;
    return true;
  }
}
