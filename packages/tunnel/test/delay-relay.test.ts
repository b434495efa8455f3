/**
 * The benchmark's delay relay (src/bench/delay-relay.ts): real sockets of the running
 * runtime, a real echo-less server behind it. Timing is asserted only as lower bounds (a
 * chunk never arrives before its delay; a rate-limited stream never beats its rate), which
 * hold however slow the machine is.
 */
import type { Conn, Listener } from "@tunnel/ssh";
import { runtime } from "@tunnel/ssh/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { type DelayRelay, startDelayRelay } from "../src/bench/delay-relay.ts";

interface Peer {
  conn: Conn;
  chunks: Uint8Array[];
  /** Arrival times (performance.now) per chunk. */
  times: number[];
  ended: Promise<void>;
  closed: Promise<Error | undefined>;
  bytes(): number;
  joined(): Uint8Array;
}

function peer(conn: Conn): Peer {
  const chunks: Uint8Array[] = [];
  const times: number[] = [];
  let ended!: () => void;
  let closed!: (e: Error | undefined) => void;
  const p: Peer = {
    conn,
    chunks,
    times,
    ended: new Promise((r) => {
      ended = r;
    }),
    closed: new Promise((r) => {
      closed = r;
    }),
    bytes: () => chunks.reduce((n, c) => n + c.length, 0),
    joined: () => {
      const out = new Uint8Array(p.bytes());
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      return out;
    },
  };
  conn.setHandlers({
    data: (c) => {
      chunks.push(c.slice());
      times.push(performance.now());
    },
    drain: () => {},
    end: () => ended(),
    close: (e) => closed(e),
  });
  return p;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A server behind a relay; resolves the server-side peer of each accepted connection. */
async function setup(o: { delayMs: number; capBytes?: number; rateBytesPerSecond?: number }) {
  const accepted: Peer[] = [];
  let wake: (() => void) | undefined;
  const server: Listener = await runtime.listen("127.0.0.1", 0, (c) => {
    accepted.push(peer(c));
    wake?.();
  });
  cleanup.push(() => server.close());
  const relay: DelayRelay = await startDelayRelay("127.0.0.1", 0, "127.0.0.1", server.port, {
    sockets: runtime,
    ...o,
  });
  cleanup.push(() => relay.close());
  const client = peer(await runtime.connect("127.0.0.1", relay.port));
  cleanup.push(async () => client.conn.destroy());
  while (accepted.length === 0) await new Promise<void>((r) => (wake = r));
  return { relay, client, far: accepted[0] as Peer };
}

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Byte equality without the matcher's element-by-element diff (slow on large arrays). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function until(f: () => boolean): Promise<void> {
  while (!f()) await new Promise((r) => setTimeout(r, 2));
}

describe("delay relay", () => {
  it("holds every chunk the one-way delay, keeps the order, and carries both directions", async () => {
    const { client, far } = await setup({ delayMs: 30 });
    const sent: number[] = [];
    const data = pattern(200_000, 1);
    for (let i = 0; i < 4; i++) {
      sent.push(performance.now());
      client.conn.write(data.subarray(i * 50_000, (i + 1) * 50_000));
      await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => far.bytes() === data.length);
    expect(same(far.joined(), data)).toBe(true);
    // Nothing arrives before the first write's delay (timers never fire early; 1 ms slack
    // for clocks read in two places).
    expect(far.times[0] as number).toBeGreaterThanOrEqual((sent[0] as number) + 29);
    far.conn.write(pattern(1000, 2));
    await until(() => client.bytes() === 1000);
    expect(same(client.joined(), pattern(1000, 2))).toBe(true);
  });

  it("passes a half-close on behind the data, and the reply still flows back", async () => {
    const { client, far } = await setup({ delayMs: 10 });
    client.conn.write(pattern(10_000, 3));
    client.conn.end();
    await far.ended;
    expect(same(far.joined(), pattern(10_000, 3))).toBe(true);
    far.conn.write(pattern(5000, 4));
    far.conn.end();
    await client.ended;
    expect(same(client.joined(), pattern(5000, 4))).toBe(true);
  });

  it("with no delay, passes the half-close on too", async () => {
    const { client, far } = await setup({ delayMs: 0 });
    client.conn.write(pattern(70_000, 5));
    client.conn.end();
    await far.ended;
    expect(same(far.joined(), pattern(70_000, 5))).toBe(true);
  });

  // As over TCP, the far side learns of a vanished peer when it sends: its next writes fail.
  // So the far side here keeps sending until its connection closes.
  const keepSending = (far: Peer) => {
    let open = true;
    void far.closed.then(() => {
      open = false;
    });
    const tick = () => {
      if (!open) return;
      far.conn.write(pattern(1000, 10));
      setTimeout(tick, 5);
    };
    tick();
  };

  it("cuts the far side when the near side is cut", async () => {
    const { client, far } = await setup({ delayMs: 5 });
    client.conn.write(pattern(100, 6));
    await until(() => far.bytes() === 100);
    keepSending(far);
    client.conn.reset();
    await far.closed;
  });

  it("cuts the far side when the near side goes away while the far side still sends", async () => {
    const { client, far } = await setup({ delayMs: 5 });
    keepSending(far);
    await until(() => client.bytes() >= 1000);
    client.conn.destroy();
    await far.closed;
  });

  it("stops reading once a direction holds its cap, and delivers every byte when the reader resumes", async () => {
    const cap = 256 * 1024;
    const { relay, client, far } = await setup({ delayMs: 1, capBytes: cap });
    far.conn.pause();
    // Far beyond what the kernel's buffers on the way can hold (a few MiB each), so without
    // the cap the relay would hold most of it.
    const total = 32 * 1024 * 1024;
    const block = pattern(64 * 1024, 7);
    let written = 0;
    const pump = () => {
      while (written < total) {
        written += block.length;
        if (!client.conn.write(block)) return;
      }
    };
    client.conn.setHandlers({ data: () => {}, drain: pump, end: () => {}, close: () => {} });
    pump();
    await new Promise((r) => setTimeout(r, 300));
    // The relay holds at most the cap plus what was read before the pause took effect (Bun
    // hands over what it read in one go); the rest waits in the kernel and in the client.
    expect(relay.stats.peakHeld).toBeLessThanOrEqual(cap + 1024 * 1024);
    expect(far.bytes()).toBeLessThan(total);
    far.conn.resume();
    await until(() => far.bytes() === total);
    expect(relay.stats.peakHeld).toBeLessThanOrEqual(cap + 1024 * 1024);
  });

  it("never carries more than its rate allows beyond the burst", async () => {
    const rate = 2_000_000; // bytes per second
    const { client, far } = await setup({ delayMs: 0, rateBytesPerSecond: rate });
    const n = 400_000;
    const t0 = performance.now();
    client.conn.write(pattern(n, 8));
    await until(() => far.bytes() === n);
    const seconds = (performance.now() - t0) / 1000;
    // The bucket starts full (64 KiB); everything beyond it goes at the rate.
    expect(seconds).toBeGreaterThanOrEqual((n - 64 * 1024) / rate - 0.002);
    expect(same(far.joined(), pattern(n, 8))).toBe(true);
  });

  it("refuses a negative delay or a zero cap, naming the parameter", async () => {
    await expect(startDelayRelay("127.0.0.1", 0, "127.0.0.1", 1, { sockets: runtime, delayMs: -1 })).rejects.toThrow(
      /delayMs/,
    );
    await expect(
      startDelayRelay("127.0.0.1", 0, "127.0.0.1", 1, { sockets: runtime, delayMs: 0, capBytes: 0 }),
    ).rejects.toThrow(/capBytes/);
  });
});
