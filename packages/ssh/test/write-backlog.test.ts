/**
 * The write backlog the Bun and Deno adapters share (runtime/write-backlog.ts): one flush per
 * turn, `false` from the high-water mark on, and one `drain` once the queue is low again.
 */
import { describe, expect, it } from "vitest";
import { WRITE_HIGH_WATER } from "../src/runtime/types.ts";
import { WriteBacklog } from "../src/runtime/write-backlog.ts";

const KiB = 1024;
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Writes `n` bytes of what the backlog holds, as a socket that took them would. */
function take(b: WriteBacklog, n: number): void {
  while (n > 0 && !b.out.empty) {
    const got = Math.min(n, b.out.peek().length);
    b.out.consumed(got);
    n -= got;
  }
}

describe("write backlog", () => {
  it("flushes once per turn, however many writes the turn made", async () => {
    let flushes = 0;
    const b = new WriteBacklog(() => flushes++);
    for (let i = 0; i < 10; i++) expect(b.push(new Uint8Array(KiB))).toBe(true);
    expect(flushes).toBe(0);
    await turn();
    expect(flushes).toBe(1);
    b.push(new Uint8Array(KiB));
    await turn();
    expect(flushes).toBe(2);
  });

  it("schedules nothing while the adapter's own write loop runs: the loop takes the bytes", async () => {
    let flushes = 0;
    const b = new WriteBacklog(() => flushes++);
    expect(b.push(new Uint8Array(KiB), true)).toBe(true);
    await turn();
    expect(flushes).toBe(0);
    expect(b.out.bytes).toBe(KiB);
  });

  it("answers false from the high-water mark on, and owes one drain once the queue is below it", () => {
    const b = new WriteBacklog(() => {});
    const piece = 64 * KiB;
    let pushed = 0;
    while (b.push(new Uint8Array(piece))) pushed += piece;
    pushed += piece;
    expect(pushed).toBeGreaterThanOrEqual(WRITE_HIGH_WATER);
    expect(b.drainDue()).toBe(false); // still above the mark
    take(b, pushed - WRITE_HIGH_WATER + 1);
    expect(b.out.bytes).toBe(WRITE_HIGH_WATER - 1);
    expect(b.drainDue()).toBe(true);
    expect(b.drainDue()).toBe(false); // once
  });

  it("owes no drain when no write was refused", () => {
    const b = new WriteBacklog(() => {});
    b.push(new Uint8Array(KiB));
    take(b, KiB);
    expect(b.drainDue()).toBe(false);
  });
});
