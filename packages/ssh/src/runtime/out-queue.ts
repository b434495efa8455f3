/**
 * Outgoing bytes waiting for a socket that takes them at its own pace (Bun's and Deno's
 * native sockets write directly, with no buffer of their own and no gathering write).
 *
 * Small writes — and the pieces a sealed packet comes in (clear length, ciphertext, tag) —
 * are gathered into a staging buffer, so that what one turn wrote leaves in one system call,
 * as Node's corked writev does, and from memory that stays warm in cache (copying into a
 * freshly allocated buffer per packet cost a fifth of Bun's upload profile). A large chunk
 * with nothing staged ahead of it leaves as it is, without a copy, and so does the unwritten
 * tail of one. What does not fit waits by reference, in order.
 *
 * Staging buffers are lent from a small pool while a queue holds bytes and given back when it
 * empties, so a thousand idle connections do not each keep one.
 *
 * The bytes `peek` returns must stay as they are until `consumed` (Deno writes them
 * asynchronously): nothing is ever written into or moved within the staged, unwritten range.
 */

/** Size of a staging buffer: two full SSH packets and their framing. */
export const STAGE_SIZE = 96 * 1024;
/** A chunk at least this long, with nothing staged ahead of it, is written as it is. */
export const JOIN_BELOW = 16 * 1024;
/** Staging buffers kept for reuse once given back. */
const POOL_MAX = 8;

const pool: Uint8Array[] = [];
const lend = () => pool.pop() ?? new Uint8Array(STAGE_SIZE);
const EMPTY = new Uint8Array(0);

export class OutQueue {
  private stage: Uint8Array | undefined;
  /** Staged bytes not yet written: stage[start, end). */
  private start = 0;
  private end = 0;
  /** Chunks after the staged bytes, held by reference: waiting[head…]. */
  private waiting: Uint8Array[] = [];
  private head = 0;
  /** Bytes queued and not yet written. */
  bytes = 0;

  get empty(): boolean {
    return this.bytes === 0;
  }

  push(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    this.bytes += n;
    if (this.head === this.waiting.length && !(this.end === this.start && n >= JOIN_BELOW)) {
      this.stage ??= lend();
      if (n <= this.stage.length - this.end) {
        this.stage.set(chunk, this.end);
        this.end += n;
        return;
      }
    }
    this.waiting.push(chunk);
  }

  /** The bytes to write next (empty when nothing is queued); unchanged until `consumed`. */
  peek(): Uint8Array {
    if (this.end > this.start) return (this.stage as Uint8Array).subarray(this.start, this.end);
    return this.waiting[this.head] ?? EMPTY;
  }

  /** The socket took the first `n` bytes of what `peek` returned. */
  consumed(n: number): void {
    if (n <= 0) return;
    this.bytes -= n;
    if (this.end > this.start) {
      this.start += n;
      if (this.start < this.end) return;
      this.start = 0;
      this.end = 0;
    } else {
      const c = this.waiting[this.head] as Uint8Array;
      if (n < c.length) {
        this.waiting[this.head] = c.subarray(n);
        return;
      }
      this.waiting[this.head++] = EMPTY;
    }
    this.refill();
  }

  /** With the stage written out: gathers what waits into it, up to the next large chunk. */
  private refill(): void {
    while (this.head < this.waiting.length) {
      const c = this.waiting[this.head] as Uint8Array;
      if (this.end === 0 && c.length >= JOIN_BELOW) break;
      this.stage ??= lend();
      const stage = this.stage;
      if (c.length > stage.length - this.end) break;
      stage.set(c, this.end);
      this.end += c.length;
      this.waiting[this.head++] = EMPTY;
    }
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    if (this.bytes === 0) this.release();
  }

  private release(): void {
    if (this.stage && pool.length < POOL_MAX) pool.push(this.stage);
    this.stage = undefined;
  }

  /** Forgets everything. The stage is dropped, not lent again: a write may still be reading it. */
  clear(): void {
    this.stage = undefined;
    this.start = 0;
    this.end = 0;
    this.waiting = [];
    this.head = 0;
    this.bytes = 0;
  }
}
