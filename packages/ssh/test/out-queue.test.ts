import { describe, expect, it } from "vitest";
import { joinParts } from "../src/crypto/provider.ts";
import { JOIN_BELOW, OutQueue, STAGE_SIZE } from "../src/runtime/out-queue.ts";

const chunk = (n: number, v: number) => new Uint8Array(n).fill(v);

/**
 * A socket that takes at most `accept` bytes per write (Infinity: everything): writes until
 * the queue is empty and returns what was written, and the size of each write.
 */
function drain(q: OutQueue, accept = Number.POSITIVE_INFINITY): { bytes: Uint8Array; writes: number[] } {
  const taken: Uint8Array[] = [];
  const writes: number[] = [];
  while (!q.empty) {
    const c = q.peek();
    const n = Math.min(c.length, accept);
    taken.push(c.slice(0, n));
    writes.push(n);
    q.consumed(n);
  }
  return { bytes: joinParts(taken), writes };
}

describe("OutQueue (writes waiting for Bun's and Deno's sockets)", () => {
  it("gathers small chunks of one turn into one write, in order", () => {
    const q = new OutQueue();
    for (let i = 0; i < 10; i++) q.push(chunk(100, i));
    expect(q.bytes).toBe(1000);
    const { bytes, writes } = drain(q);
    expect(writes).toEqual([1000]);
    expect([...bytes]).toEqual([...Array(10).keys()].flatMap((i) => Array(100).fill(i)));
    expect(q.bytes).toBe(0);
  });

  it("gathers a sealed packet's pieces (length, ciphertext, tag) with the packets around it", () => {
    const q = new OutQueue();
    const pieces = [chunk(4, 1), chunk(32768, 2), chunk(16, 3), chunk(4, 4), chunk(32768, 5), chunk(16, 6)];
    for (const p of pieces) q.push(p);
    const { bytes, writes } = drain(q);
    expect(writes).toEqual([4 + 32768 + 16 + 4 + 32768 + 16]);
    expect(bytes).toEqual(joinParts(pieces));
  });

  it("writes a large chunk first in line, or a lone one, as it is, without a copy", () => {
    const q = new OutQueue();
    const big = chunk(4 * JOIN_BELOW, 7);
    q.push(big);
    q.push(chunk(10, 1));
    expect(q.peek()).toBe(big);
    q.consumed(1000);
    // The unwritten tail is a view of the same bytes, not a copy.
    expect(q.peek().buffer).toBe(big.buffer);
    expect(q.peek().length).toBe(4 * JOIN_BELOW - 1000);
    expect(drain(q).writes).toEqual([4 * JOIN_BELOW - 1000, 10]);
    const lone = chunk(10, 2);
    q.push(lone);
    expect(q.peek()).toBe(lone);
  });

  it("a thousand connections writing one chunk at a time gather nothing: no staging buffer each", () => {
    const queues = Array.from({ length: 1000 }, () => new OutQueue());
    for (const q of queues) q.push(chunk(100, 3));
    // Each hands out its own chunk: nothing was copied into a stage.
    expect(queues.every((q) => q.peek().byteLength === 100 && q.peek().buffer.byteLength === 100)).toBe(true);
  });

  it("keeps order when the stage is full: the rest waits by reference and is gathered after", () => {
    const q = new OutQueue();
    const sizes = [STAGE_SIZE - 100, 500, 200, 3 * STAGE_SIZE, 50];
    const chunks = sizes.map((n, i) => chunk(n, i + 1));
    for (const c of chunks) q.push(c);
    const { bytes, writes } = drain(q);
    expect(bytes).toEqual(joinParts(chunks));
    // Stage (nearly full), then the two small ones gathered, then the big one as it is, then the last.
    expect(writes).toEqual([STAGE_SIZE - 100, 700, 3 * STAGE_SIZE, 50]);
  });

  it("a socket that takes a few bytes at a time gets every byte once, in order", () => {
    const q = new OutQueue();
    const chunks = [3, 70_000, 5, 16, 20_000, 1, STAGE_SIZE + 1].map((n, i) => chunk(n, i + 1));
    for (const c of chunks) q.push(c);
    const { bytes } = drain(q, 4093);
    expect(bytes).toEqual(joinParts(chunks));
  });

  it("never changes the bytes `peek` returned before `consumed` (Deno writes them asynchronously)", () => {
    const q = new OutQueue();
    q.push(chunk(1000, 1));
    const inFlight = q.peek();
    const copy = inFlight.slice();
    // More writes arrive while the first is in flight.
    for (let i = 0; i < 100; i++) q.push(chunk(900, 2 + (i % 200)));
    expect(inFlight).toEqual(copy);
    q.consumed(500);
    const next = q.peek();
    expect(next[0]).toBe(1);
    const nextCopy = next.slice();
    q.push(chunk(STAGE_SIZE, 9));
    expect(next).toEqual(nextCopy);
  });

  it("ignores empty chunks and zero-byte writes, and forgets everything on clear", () => {
    const q = new OutQueue();
    q.push(new Uint8Array(0));
    expect(q.empty).toBe(true);
    expect(q.peek().length).toBe(0);
    q.push(chunk(5, 1));
    q.consumed(0);
    expect(q.bytes).toBe(5);
    q.clear();
    expect(q.empty).toBe(true);
    expect(q.bytes).toBe(0);
    expect(q.peek().length).toBe(0);
  });
});
