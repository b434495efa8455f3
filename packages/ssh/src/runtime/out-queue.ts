/**
 * Outgoing bytes waiting for a socket that takes them at its own pace (Bun's and Deno's
 * native sockets write directly, with no buffer of their own). Chunks written in one turn are
 * handed out joined, so that they leave in one system call, as Node's corked writev does.
 */
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

  /** Takes up to `max` bytes (at least one whole chunk) as one buffer. */
  take(max: number): Uint8Array {
    const first = this.chunks[this.head];
    if (first === undefined) return new Uint8Array(0);
    let n = 0;
    let end = this.head;
    while (end < this.chunks.length) {
      const c = this.chunks[end] as Uint8Array;
      if (n > 0 && n + c.length > max) break;
      n += c.length;
      end++;
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
