/**
 * The load generator: drives a bench target (see `target.ts`) through whatever forwards
 * `host:port` — the target itself, `ssh -L`, or `tunnel open` — and measures.
 * Clock and sockets are injected so the same code runs under Node, Bun and Deno.
 */
import type { Conn, Runtime } from "@tunnel/ssh";
import { encodeHeader, patternBlock, pump } from "./target.ts";

/** Where the load goes (a bench target, directly or through a tunnel) and how to reach and time it. */
export interface LoadEnv {
  /** The socket adapter the load connects with. */
  runtime: Runtime;
  /** Milliseconds, high resolution (performance.now). */
  now(): number;
  /** Where to connect: a bench target, or the local end of a tunnel to one. */
  host: string;
  /** Its port. */
  port: number;
}

/** Bytes moved one way and the time they took. */
export interface Throughput {
  /** Bytes moved. */
  bytes: number;
  /** How long they took (`upload` and `download` say from when to when). */
  seconds: number;
  /** Bytes per second. */
  rate: number;
}

/** A connection with promise helpers for the load generator. */
interface Session {
  conn: Conn;
  onData(f: (chunk: Uint8Array) => void): void;
  onDrain(f: () => void): void;
  ended: Promise<void>;
}

async function open(env: LoadEnv): Promise<Session> {
  const conn = await env.runtime.connect(env.host, env.port);
  let dataHandler: (chunk: Uint8Array) => void = () => {};
  let drainWaiter: (() => void) | undefined;
  let resolveEnd: () => void = () => {};
  let rejectEnd: (e: Error) => void = () => {};
  const ended = new Promise<void>((res, rej) => {
    resolveEnd = res;
    rejectEnd = rej;
  });
  conn.setHandlers({
    data: (c) => dataHandler(c),
    drain() {
      const f = drainWaiter;
      drainWaiter = undefined;
      f?.();
    },
    end: () => resolveEnd(),
    close: (err) => (err ? rejectEnd(err) : resolveEnd()),
  });
  return {
    conn,
    onData(f) {
      dataHandler = f;
    },
    onDrain(f) {
      drainWaiter = f;
    },
    ended,
  };
}

/** Client → target: `bytes` sent, timed until the target acknowledges the last byte. */
export async function upload(env: LoadEnv, bytes: number): Promise<Throughput> {
  const s = await open(env);
  const block = patternBlock();
  const t0 = env.now();
  const acked = new Promise<void>((resolve, reject) => {
    s.onData((c) => (c[0] === 0x4b ? resolve() : reject(new Error("bench target sent an unexpected reply"))));
    s.ended.then(() => reject(new Error(`upload ended before the target acknowledged ${bytes} bytes`)), reject);
  });
  s.conn.write(encodeHeader("U", bytes));
  pump(s.conn, block, bytes, () => {}, s.onDrain);
  await acked;
  const seconds = (env.now() - t0) / 1000;
  s.conn.destroy();
  return { bytes, seconds, rate: bytes / seconds };
}

/** Target → client: `bytes` received, timed from the request to the last byte. */
export async function download(env: LoadEnv, bytes: number): Promise<Throughput> {
  const s = await open(env);
  let got = 0;
  const t0 = env.now();
  const done = new Promise<void>((resolve, reject) => {
    s.onData((c) => {
      got += c.length;
      if (got === bytes) resolve();
    });
    s.ended.then(
      () => (got === bytes ? resolve() : reject(new Error(`download ended after ${got} of ${bytes} bytes`))),
      reject,
    );
  });
  s.conn.write(encodeHeader("D", bytes));
  await done;
  const seconds = (env.now() - t0) / 1000;
  s.conn.destroy();
  return { bytes, seconds, rate: bytes / seconds };
}

/** Round-trip times of `count` echoes. */
export interface RoundTrip {
  /** Round trips timed, warm-up ones not counted. */
  count: number;
  /** Microseconds. */
  median: number;
  /** 99th percentile, microseconds. */
  p99: number;
}

/** `count` round trips of a `size`-byte message on one echo connection (after `warmup` trips). */
export async function roundTrip(env: LoadEnv, count: number, size = 64, warmup = 20): Promise<RoundTrip> {
  const s = await open(env);
  s.conn.write(encodeHeader("E", 0));
  const msg = patternBlock(size, 7);
  let got = 0;
  let wake: () => void = () => {};
  s.onData((c) => {
    got += c.length;
    if (got >= size) {
      got -= size;
      wake();
    }
  });
  const once = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      s.conn.write(msg);
    });
  for (let i = 0; i < warmup; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = env.now();
    await once();
    times.push((env.now() - t0) * 1000);
  }
  s.conn.destroy();
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] as number;
  return { count, median: at(0.5), p99: at(0.99) };
}

/** An echo of `bytes` bytes on one connection, checked byte for byte as it came back. */
export interface EchoResult {
  /** Bytes sent, and expected back. */
  bytes: number;
  /** From the first byte sent to the last one back. */
  seconds: number;
  /** Every byte came back, in order, and nothing more. */
  intact: boolean;
}

/**
 * Sends `bytes` bytes of the pattern `seed` to the target's echo and compares what comes back
 * as it arrives: memory stays at one block whatever the size.
 */
export async function echoTransfer(env: LoadEnv, bytes: number, seed = 1): Promise<EchoResult> {
  const s = await open(env);
  const block = patternBlock(64 * 1024, seed);
  let got = 0;
  let intact = true;
  let lastAt: number | undefined;
  s.onData((c) => {
    for (let k = 0; k < c.length && intact; k++) if (c[k] !== block[(got + k) % block.length]) intact = false;
    got += c.length;
    if (got >= bytes) lastAt ??= env.now();
  });
  const t0 = env.now();
  s.conn.write(encodeHeader("E", 0));
  pump(s.conn, block, bytes, () => s.conn.end(), s.onDrain);
  await s.ended;
  s.conn.destroy();
  return { bytes, seconds: ((lastAt ?? env.now()) - t0) / 1000, intact: intact && got === bytes };
}

/** How many of `channels` concurrent transfers arrived intact, and how long they all took. */
export interface ManyResult {
  /** Echo connections run at once. */
  channels: number;
  /** Bytes each one sent. */
  bytesEach: number;
  /** How many came back intact (a failed connection counts as not intact). */
  intact: number;
  /** From the start to the last one done. */
  seconds: number;
}

/** `channels` checked echoes (`echoTransfer`) at once, each with its own pattern. */
export async function manyChannels(env: LoadEnv, channels: number, bytesEach: number): Promise<ManyResult> {
  const t0 = env.now();
  const one = (i: number) => echoTransfer(env, bytesEach, i + 11).then((r) => r.intact);
  const results = await Promise.all(Array.from({ length: channels }, (_, i) => one(i).catch(() => false)));
  return { channels, bytesEach, intact: results.filter(Boolean).length, seconds: (env.now() - t0) / 1000 };
}

/** Many transfers at once, measured together. */
export interface AggregateResult {
  /** Transfers run at once, each on its own connection. */
  channels: number;
  /** Bytes each one moves, one way. */
  bytesEach: number;
  /** Transfers that completed with every byte. */
  complete: number;
  /** From the start to the last one done (or failed). */
  seconds: number;
  /** Bytes per second, all channels together, from the first open to the last byte. */
  rate: number;
}

/**
 * `channels` transfers at once, each its own connection (so its own SSH channel through a
 * tunnel), each `bytesEach` bytes one way: the aggregate a forwarder carries for many users.
 */
export async function parallelTransfers(
  env: LoadEnv,
  channels: number,
  bytesEach: number,
  direction: "up" | "down",
): Promise<AggregateResult> {
  const t0 = env.now();
  const one = direction === "up" ? upload : download;
  const results = await Promise.all(
    Array.from({ length: channels }, () =>
      one(env, bytesEach).then(
        () => true,
        () => false,
      ),
    ),
  );
  const seconds = (env.now() - t0) / 1000;
  const complete = results.filter(Boolean).length;
  return { channels, bytesEach, complete, seconds, rate: (complete * bytesEach) / seconds };
}
