/**
 * The socket adapters behind the `Conn` / `Listener` seam, each checked on the runtime the
 * suite runs under (CI runs it under Node 20, Node 24, Bun and Deno): `@tunnel/ssh/runtime`
 * resolves through the package's export conditions, exactly as the product does.
 */
import { createHash, randomBytes } from "node:crypto";
import { runtime, runtimes } from "@tunnel/ssh/runtime";
import { describe, expect, it } from "vitest";
import type { Conn, Runtime } from "../src/runtime/types.ts";

const here = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

const sha = (chunks: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const c of chunks) h.update(c);
  return h.digest("hex");
};

interface Collected {
  chunks: Uint8Array[];
  bytes: number;
  ended: Promise<void>;
  closed: Promise<Error | undefined>;
  /** Resolves at the next `drain`. */
  drained(): Promise<void>;
}

/** Attaches handlers that keep every byte and record drain, end and close. */
function collect(conn: Conn, onEnd?: () => void): Collected {
  let ended!: () => void;
  let closed!: (e: Error | undefined) => void;
  let drainWaiter: (() => void) | undefined;
  const out: Collected = {
    chunks: [],
    bytes: 0,
    ended: new Promise((r) => {
      ended = r;
    }),
    closed: new Promise((r) => {
      closed = r;
    }),
    drained: () =>
      new Promise<void>((r) => {
        drainWaiter = r;
      }),
  };
  conn.setHandlers({
    data(chunk) {
      out.chunks.push(chunk);
      out.bytes += chunk.length;
    },
    drain() {
      const w = drainWaiter;
      drainWaiter = undefined;
      w?.();
    },
    end() {
      ended();
      onEnd?.();
    },
    close: (e) => closed(e),
  });
  return out;
}

/** Writes `data` in 32 KiB pieces, waiting for `drain` whenever `write` says so; counts the waits. */
async function writeAll(conn: Conn, data: Uint8Array, at: Collected): Promise<number> {
  let waits = 0;
  for (let off = 0; off < data.length; off += 32 * 1024) {
    if (!conn.write(data.subarray(off, off + 32 * 1024))) {
      waits++;
      await at.drained();
    }
  }
  return waits;
}

describe("socket adapters", () => {
  it(`the default adapter on ${here} is ${here}'s own sockets, chosen by the export condition`, () => {
    expect(runtime.name).toBe(here);
    expect(Object.keys(runtimes).sort()).toEqual(here === "node" ? ["node"] : [here, "node"].sort());
  });

  for (const [name, rt] of Object.entries(runtimes) as [string, Runtime][]) {
    describe(`${name} sockets on ${here}`, () => {
      it("carries 8 MiB each way at once intact, and a half-close lets the reply finish", async () => {
        const up = randomBytes(8 << 20);
        const down = randomBytes(8 << 20);
        let atServer: Collected | undefined;
        let replied!: () => void;
        const serverDone = new Promise<void>((r) => {
          replied = r;
        });
        const listener = await rt.listen("127.0.0.1", 0, (conn) => {
          // once the client has half-closed, send the whole reply, then end too
          const c: Collected = collect(conn, () => {
            void writeAll(conn, down, c).then(() => {
              conn.end();
              replied();
            });
          });
          atServer = c;
        });
        const client = await rt.connect("127.0.0.1", listener.port);
        expect(client.remotePort).toBe(listener.port);
        const got = collect(client);
        await writeAll(client, up, got);
        client.end();
        await serverDone;
        await got.ended;
        expect(await got.closed).toBeUndefined();
        expect(got.bytes).toBe(down.length);
        expect(sha(got.chunks)).toBe(sha([down]));
        expect(atServer?.bytes).toBe(up.length);
        expect(sha(atServer?.chunks ?? [])).toBe(sha([up]));
        await listener.close();
      });

      it("pause holds the peer back (write says wait), resume delivers every byte and drain fires", async () => {
        const data = randomBytes(16 << 20);
        let waits = -1;
        const listener = await rt.listen("127.0.0.1", 0, (conn) => {
          void writeAll(conn, data, collect(conn)).then((w) => {
            waits = w;
            conn.end();
          });
        });
        const client = await rt.connect("127.0.0.1", listener.port);
        client.pause();
        const got = collect(client);
        await new Promise((r) => setTimeout(r, 300));
        const heldBack = got.bytes;
        expect(heldBack).toBeLessThan(data.length);
        client.resume();
        await got.ended;
        expect(got.bytes).toBe(data.length);
        expect(sha(got.chunks)).toBe(sha([data]));
        expect(waits).toBeGreaterThan(0);
        client.end();
        await got.closed;
        await listener.close();
      });

      it("keeps bytes that arrive before the owner sets its handlers", async () => {
        const hello = new TextEncoder().encode("SSH-2.0-early\r\n");
        const listener = await rt.listen("127.0.0.1", 0, (conn) => {
          conn.setHandlers({ data() {}, drain() {}, end() {}, close() {} });
          conn.write(hello);
          conn.end();
        });
        const client = await rt.connect("127.0.0.1", listener.port);
        await new Promise((r) => setTimeout(r, 100));
        const got = collect(client);
        await got.ended;
        expect(Buffer.concat(got.chunks)).toEqual(Buffer.from(hello));
        client.destroy();
        await listener.close();
      });

      it("destroy ends the peer's side; a refused port and a busy port give one clear error each", async () => {
        let peerClosed!: () => void;
        const closedAtServer = new Promise<void>((r) => {
          peerClosed = r;
        });
        const listener = await rt.listen("127.0.0.1", 0, (conn) => {
          conn.setHandlers({ data() {}, drain() {}, end: () => conn.end(), close: () => peerClosed() });
        });
        const client = await rt.connect("127.0.0.1", listener.port);
        collect(client);
        client.destroy();
        await closedAtServer;
        expect(client.write(new Uint8Array(1))).toBe(false);

        const busy = rt.listen("127.0.0.1", listener.port, () => {});
        await expect(busy).rejects.toMatchObject({ code: "EADDRINUSE" });
        await listener.close();
        await expect(rt.connect("127.0.0.1", listener.port)).rejects.toThrow(
          `cannot connect to 127.0.0.1:${listener.port}: connection refused`,
        );
      });
    });
  }
});
