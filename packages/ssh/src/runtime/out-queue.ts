/**
 * Outgoing bytes waiting for a socket that takes them at its own pace (Bun's and Deno's
 * native sockets write directly, with no buffer of their own and no gathering write).
 *
 * Chunks are queued by reference. When the socket can take more, several small ones — and the
 * pieces a sealed packet comes in (clear length, ciphertext, tag) — are gathered into a staging
 * buffer, so that what one turn wrote leaves in one system call, as Node's corked writev does,
 * and from memory that stays warm in cache (copying into a freshly allocated buffer per packet
 * cost a fifth of Bun's upload profile). A large chunk first in line, or a lone one, leaves as
 * it is, without a copy, and what the kernel did not take of it stays a view of it.
 *
 * Staging buffers are lent from a small pool only while a queue gathers and given back when it
 * empties: a thousand connections that each write one chunk at a time never hold one.
 *
 * The bytes `peek` returns must stay as they are until `consumed` (Deno writes them
 * asynchronously): nothing is ever written into or moved within the staged, unwritten range.
 */

/** Size of a staging buffer: two full SSH packets and their framing. */
export const STAGE_SIZE = 96 * 1024;
/** A chunk at least this long, first in line, is written as it is. */
export const JOIN_BELOW = 16 * 1024;
/** Staging buffers kept for reuse once given back. */
const POOL_MAX = 8;

const pool: Uint8Array[] = [];
const lend = () => pool.pop() ?? new Uint8Array(STAGE_SIZE);
const EMPTY = new Uint8Array(0);

export class OutQueue {
  private stage: Uint8Array | undefined;
  /** Staged bytes not yet written: stage[start, end). They go out before anything waiting. */
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

  /** Queues a chunk by reference; nothing is copied until `peek` gathers. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.bytes += chunk.length;
    this.waiting.push(chunk);
  }

  /**
   * The bytes to write next (empty when nothing is queued), unchanged until `consumed`: what
   * is left of the stage; else a large chunk, or a lone one, as it is; else the waiting chunks
   * gathered into the stage, as many as fit.
   */
  peek(): Uint8Array {
    if (this.end > this.start) return (this.stage as Uint8Array).subarray(this.start, this.end);
    const first = this.waiting[this.head];
    if (first === undefined) return EMPTY;
    if (first.length >= JOIN_BELOW || this.head + 1 === this.waiting.length) return first;
    this.stage ??= lend();
    const stage = this.stage;
    while (this.head < this.waiting.length) {
      const c = this.waiting[this.head] as Uint8Array;
      if (c.length > stage.length - this.end) break;
      stage.set(c, this.end);
      this.end += c.length;
      this.waiting[this.head++] = EMPTY;
    }
    this.compact();
    return stage.subarray(0, this.end);
  }

  /** The socket took the first `n` bytes of what `peek` returned. */
  consumed(n: number): void {
    if (n <= 0) return;
    this.bytes -= n;
    if (this.end > this.start) {
      this.start += n;
      if (this.start === this.end) {
        this.start = 0;
        this.end = 0;
      }
    } else {
      const c = this.waiting[this.head] as Uint8Array;
      if (n < c.length) this.waiting[this.head] = c.subarray(n);
      else this.waiting[this.head++] = EMPTY;
      this.compact();
    }
    if (this.bytes === 0) this.release();
  }

  private compact(): void {
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }

  /** With nothing queued, the stage goes back to the pool. */
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
