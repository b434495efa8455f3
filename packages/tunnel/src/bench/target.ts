/**
 * The benchmark target: a TCP server that a load generator drives through a tunnel.
 *
 * Each connection starts with a 9-byte header, `op` (one ASCII byte) and a uint64 length:
 * - `U` upload: the server reads `length` bytes, then answers one byte `K` and ends;
 * - `D` download: the server writes `length` bytes, then ends;
 * - `E` echo: the server echoes everything until EOF, then ends.
 * Writes respect the socket's backpressure, and reads pause while an echo waits, so the
 * target itself holds at most one chunk per connection.
 */
import type { Conn, Listener, Runtime } from "@tunnel/ssh";

/** Size of the request header a bench target reads: one op byte and a 64-bit length. */
export const HEADER_BYTES = 9;
/** The block the download side repeats: fixed, pseudo-random, so compression cannot help. */
export function patternBlock(size = 64 * 1024, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The header asking a bench target to take (`U`), send (`D`) or echo (`E`) `length` bytes. */
export function encodeHeader(op: "U" | "D" | "E", length: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h[0] = op.charCodeAt(0);
  new DataView(h.buffer).setBigUint64(1, BigInt(length));
  return h;
}

/** Writes `length` bytes of `block` to `conn` as fast as it drains, then calls `done`. */
export function pump(
  conn: Conn,
  block: Uint8Array,
  length: number,
  done: () => void,
  onDrain: (f: () => void) => void,
): void {
  let left = length;
  const go = () => {
    while (left > 0) {
      const n = Math.min(left, block.length);
      left -= n;
      if (!conn.write(n === block.length ? block : block.subarray(0, n))) {
        if (left > 0) onDrain(go);
        else onDrain(done);
        return;
      }
    }
    done();
  };
  go();
}

function serveConn(conn: Conn, block: Uint8Array): void {
  let header = new Uint8Array(0);
  let op = 0;
  let left = 0;
  let drainWaiter: (() => void) | undefined;
  const onDrain = (f: () => void) => {
    drainWaiter = f;
  };
  const start = (rest: Uint8Array) => {
    const view = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
    op = header[0] as number;
    left = Number(view.getBigUint64(1));
    if (op === 0x44 /* D */) pump(conn, block, left, () => conn.end(), onDrain);
    if (rest.length > 0) body(rest);
  };
  const body = (chunk: Uint8Array) => {
    if (op === 0x55 /* U */) {
      left -= chunk.length;
      if (left === 0) {
        conn.write(Uint8Array.of(0x4b));
        conn.end();
      }
    } else if (op === 0x45 /* E */) {
      if (!conn.write(chunk)) {
        conn.pause();
        drainWaiter = () => conn.resume();
      }
    }
  };
  conn.setHandlers({
    data(chunk) {
      if (op === 0) {
        const need = HEADER_BYTES - header.length;
        const joined = new Uint8Array(header.length + Math.min(need, chunk.length));
        joined.set(header);
        joined.set(chunk.subarray(0, need), header.length);
        header = joined;
        if (header.length < HEADER_BYTES) return;
        start(chunk.subarray(need));
        return;
      }
      body(chunk);
    },
    drain() {
      const f = drainWaiter;
      drainWaiter = undefined;
      f?.();
    },
    end() {
      // The client is done sending: end our side too, unless a download is still going
      // (it ends itself when pumped out).
      if (op !== 0x44) conn.end();
    },
    close() {},
  });
}

/** Starts the target on `host:port` (port 0: any free port). */
export function startTarget(runtime: Runtime, host = "127.0.0.1", port = 0): Promise<Listener> {
  const block = patternBlock();
  return runtime.listen(host, port, (conn) => serveConn(conn, block));
}
