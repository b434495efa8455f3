/**
 * Outgoing bytes waiting for a socket that takes them at its own pace (Bun's and Deno's
 * native sockets write directly, with no buffer of their own). Small chunks written in one
 * turn are handed out joined, so that they leave in one system call, as Node's corked writev
 * does; a large chunk leaves as it is, and so does the unwritten tail of one, since copying
 * it costs more than the system call it would save (re-joining a partly written megabyte on
 * every drain once made copies a quarter of Bun's profile).
 */

/** Chunks shorter than this are joined with their neighbours; longer ones leave alone. */
export const JOIN_BELOW = 16 * 1024;

export class OutQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  /** Bytes queued and not yet taken. */
  bytes = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  get empty(): boolean {
    return this.bytes === 0;
  }

  /**
   * Takes the next chunk, joined with the small chunks behind it (up to `max` bytes) when it
   * is small itself.
   */
  take(max: number): Uint8Array {
    const first = this.chunks[this.head];
    if (first === undefined) return new Uint8Array(0);
    let n = first.length;
    let end = this.head + 1;
    if (n < JOIN_BELOW) {
      while (end < this.chunks.length) {
        const c = this.chunks[end] as Uint8Array;
        if (c.length >= JOIN_BELOW || n + c.length > max) break;
        n += c.length;
        end++;
      }
    }
    let out: Uint8Array;
    if (end === this.head + 1) {
      out = first;
    } else {
      out = new Uint8Array(n);
      let off = 0;
      for (let i = this.head; i < end; i++) {
        const c = this.chunks[i] as Uint8Array;
        out.set(c, off);
        off += c.length;
      }
    }
    this.head = end;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    this.bytes -= n;
    return out;
  }

  /** Puts back the unwritten tail of what `take` returned, ahead of everything else. */
  unshift(rest: Uint8Array): void {
    if (rest.length === 0) return;
    if (this.head > 0) this.chunks[--this.head] = rest;
    else this.chunks.unshift(rest);
    this.bytes += rest.length;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.bytes = 0;
  }
}
