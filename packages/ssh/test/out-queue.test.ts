import { describe, expect, it } from "vitest";
import { JOIN_BELOW, OutQueue } from "../src/runtime/out-queue.ts";

const chunk = (n: number, v: number) => new Uint8Array(n).fill(v);

/** Everything the queue hands out, in order, taking `max` at a time. */
function drain(q: OutQueue, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  while (!q.empty) out.push(q.take(max));
  return out;
}

describe("OutQueue (writes waiting for Bun's and Deno's sockets)", () => {
  it("joins small chunks of one turn into one write, in order, up to the maximum", () => {
    const q = new OutQueue();
    for (let i = 0; i < 10; i++) q.push(chunk(100, i));
    expect(q.bytes).toBe(1000);
    const taken = drain(q, 450);
    expect(taken.map((t) => t.length)).toEqual([400, 400, 200]);
    expect(taken.flatMap((t) => [...t])).toEqual([...Array(10).keys()].flatMap((i) => Array(100).fill(i)));
    expect(q.bytes).toBe(0);
  });

  it("hands a large chunk out as it is, without copying it, and does not join past one", () => {
    const q = new OutQueue();
    const big = chunk(JOIN_BELOW, 7);
    q.push(chunk(10, 1));
    q.push(chunk(10, 2));
    q.push(big);
    q.push(chunk(10, 3));
    const taken = drain(q, 1 << 20);
    expect(taken.map((t) => t.length)).toEqual([20, JOIN_BELOW, 10]);
    expect(taken[1]).toBe(big);
  });

  it("puts the unwritten tail of a write back first, and hands it out alone when it is large", () => {
    const q = new OutQueue();
    const big = chunk(4 * JOIN_BELOW, 9);
    q.push(big);
    q.push(chunk(JOIN_BELOW * 2, 8));
    const first = q.take(1 << 20);
    expect(first).toBe(big);
    // The kernel took 1000 bytes: the rest goes back in front, as a view of the same bytes.
    q.unshift(first.subarray(1000));
    expect(q.bytes).toBe(4 * JOIN_BELOW - 1000 + 2 * JOIN_BELOW);
    const again = q.take(1 << 20);
    expect(again.buffer).toBe(big.buffer);
    expect(again.length).toBe(4 * JOIN_BELOW - 1000);
    expect(q.take(1 << 20).length).toBe(2 * JOIN_BELOW);
    expect(q.empty).toBe(true);
  });

  it("joins a small unwritten tail with the small chunks behind it", () => {
    const q = new OutQueue();
    q.push(chunk(300, 1));
    q.push(chunk(300, 2));
    const first = q.take(1 << 20);
    expect(first.length).toBe(600);
    q.unshift(first.subarray(500));
    q.push(chunk(50, 3));
    const next = q.take(1 << 20);
    expect([...next]).toEqual([...Array(100).fill(2), ...Array(50).fill(3)]);
  });

  it("ignores empty chunks and forgets everything on clear", () => {
    const q = new OutQueue();
    q.push(new Uint8Array(0));
    expect(q.empty).toBe(true);
    expect(q.take(10).length).toBe(0);
    q.push(chunk(5, 1));
    q.clear();
    expect(q.empty).toBe(true);
    expect(q.bytes).toBe(0);
  });
});
