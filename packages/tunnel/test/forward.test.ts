/**
 * The forwarder's closing rules (RFC 4254 §5.3; docs/SECURITY.md "Lifecycle"): whichever end
 * closes first, with FIN or RST, before the channel exists or mid-transfer, nothing throws,
 * the other end is closed, and a cut stream is reset rather than ended. Two muxes talk to each
 * other in memory (the client's and the server's connection layer), the local application is
 * one end of an in-memory socket pair.
 */
import type { Channel, Conn, IncomingOpen } from "@tunnel/ssh";
import { describe, expect, it } from "vitest";
import { Mux } from "../../ssh/src/connection/mux.ts";
import { memoryPair } from "../../ssh/src/runtime/memory.ts";
import { holdConn, pipeChannel } from "../src/forward.ts";

/** Two connection layers wired back to back, messages delivered a microtask later. */
function linkedMuxes() {
  let alive = true;
  const wire = (to: () => Mux) => ({
    congested: false,
    send(p: Uint8Array, body?: Uint8Array) {
      if (!alive) return;
      const msg = body ? Uint8Array.from([...p, ...body]) : p.slice();
      queueMicrotask(() => {
        if (alive) to().handle(msg);
      });
    },
  });
  const client: Mux = new Mux(wire(() => server));
  const server: Mux = new Mux(wire(() => client));
  return {
    client,
    server,
    /** The SSH connection dies under both. */
    cut() {
      alive = false;
      const err = new Error("connection lost");
      client.abort(err);
      server.abort(err);
    },
  };
}

/** What the application end of a socket saw. */
function observe(app: Conn) {
  const seen = { data: [] as Uint8Array[], ended: false, closed: false, error: undefined as Error | undefined };
  app.setHandlers({
    data: (c) => seen.data.push(c),
    drain() {},
    end() {
      seen.ended = true;
    },
    close(err) {
      seen.closed = true;
      seen.error = err;
    },
  });
  return {
    seen,
    text: () => new TextDecoder().decode(Uint8Array.from(seen.data.flatMap((c) => [...c]))),
  };
}

const settle = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 1));
};
const bytes = (s: string) => new TextEncoder().encode(s);

/** A tunnel: the app's socket piped into a direct-tcpip channel whose far end the test drives. */
async function tunnel() {
  const link = linkedMuxes();
  let far!: Channel;
  const farOpened = new Promise<Channel>((resolve) => {
    link.server.onOpen = (open: IncomingOpen) => {
      far = open.accept();
      resolve(far);
    };
  });
  const [app, local] = memoryPair();
  const seenApp = observe(app);
  const held = holdConn(local);
  const channel = await link.client.openDirectTcpip("db", 5432, "127.0.0.1", 1);
  await farOpened;
  let closed: { error?: Error } | undefined;
  pipeChannel(held, channel, { closed: (_s, error) => (closed = error ? { error } : {}), lingerMs: 300 });
  local.resume();
  const farSeen = { data: "", eof: false, closed: false };
  far.events = {
    data(d) {
      farSeen.data += new TextDecoder().decode(d);
      far.consumed(d.length);
    },
    eof() {
      farSeen.eof = true;
    },
    close() {
      farSeen.closed = true;
    },
  };
  return { link, app, seenApp, channel, far, farSeen, pipeClosed: () => closed };
}

describe("forwarding: closing races (issue: no peer action ends the process)", () => {
  it("a channel the peer closes while the local side is still writing: no throw, the local socket is closed", async () => {
    const t = await tunnel();
    const writing = setInterval(() => t.app.write(bytes("x".repeat(1000))), 0);
    await settle(5);
    t.far.close(); // CLOSE without EOF: the stream was cut
    await settle();
    // Writes keep coming from the application after the close: dropped, never a throw.
    for (let i = 0; i < 10; i++) t.app.write(bytes("late"));
    await settle();
    clearInterval(writing);
    expect(t.seenApp.seen.closed).toBe(true);
    // A cut is not an end: the application saw no FIN before the close.
    expect(t.seenApp.seen.ended).toBe(false);
    expect(t.pipeClosed()?.error?.message).toMatch(/closed without EOF/);
  });

  it("a clean end from the far side (EOF, CLOSE) delivers every byte, then FIN", async () => {
    const t = await tunnel();
    t.far.write(bytes("reply-1 "));
    t.far.write(bytes("reply-2"));
    t.far.end();
    t.far.finish();
    await settle();
    expect(t.seenApp.text()).toBe("reply-1 reply-2");
    expect(t.seenApp.seen.ended).toBe(true);
    // The application is still sending: those bytes have nowhere to go once the channel is
    // closed, and must not throw. Reading stops; the socket is closed after the linger.
    t.app.write(bytes("more"));
    await settle();
    expect(t.seenApp.seen.closed).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect(t.seenApp.seen.closed).toBe(true);
    expect(t.pipeClosed()).toEqual({});
  });

  it("half-close: the application's FIN becomes EOF after its data, and the reply still flows", async () => {
    const t = await tunnel();
    t.app.write(bytes("query"));
    t.app.end();
    await settle();
    expect(t.farSeen.data).toBe("query");
    expect(t.farSeen.eof).toBe(true);
    t.far.write(bytes("answer"));
    t.far.end();
    await settle();
    expect(t.seenApp.text()).toBe("answer");
    expect(t.seenApp.seen.ended).toBe(true);
    expect(t.farSeen.closed).toBe(true);
  });

  it("the SSH connection dying mid-transfer resets the local socket (never a clean end)", async () => {
    const t = await tunnel();
    t.far.write(bytes("partial"));
    await settle();
    t.link.cut();
    await settle();
    expect(t.seenApp.text()).toBe("partial");
    expect(t.seenApp.seen.ended).toBe(false);
    expect(t.seenApp.seen.closed).toBe(true);
    expect(t.pipeClosed()?.error?.message).toMatch(/SSH connection was lost/);
  });

  it("the local application vanishing (RST) closes the channel without EOF", async () => {
    const link = linkedMuxes();
    let far!: Channel;
    link.server.onOpen = (open) => {
      far = open.accept();
    };
    const local = failingConn();
    const channel = await link.client.openDirectTcpip("db", 5432, "127.0.0.1", 1);
    const farSeen = { eof: false, closed: false };
    await settle();
    far.events = {
      eof: () => (farSeen.eof = true),
      close: () => (farSeen.closed = true),
    };
    pipeChannel(local.conn, channel);
    local.fail(new Error("ECONNRESET"));
    await settle();
    expect(farSeen).toEqual({ eof: false, closed: true });
  });

  it("a local FIN that comes before the channel is confirmed is not lost", async () => {
    const link = linkedMuxes();
    let far!: Channel;
    const farSeen = { data: "", eof: false };
    link.server.onOpen = (open) => {
      far = open.accept();
      far.events = {
        data: (d) => (farSeen.data += new TextDecoder().decode(d)),
        eof: () => (farSeen.eof = true),
      };
    };
    const local = failingConn();
    const held = holdConn(local.conn);
    local.end(); // the probe sent FIN before the channel existed
    const channel = await link.client.openDirectTcpip("db", 5432, "127.0.0.1", 1);
    pipeChannel(held, channel);
    await settle();
    expect(farSeen.eof).toBe(true);
  });

  it("a local socket gone before its channel is confirmed closes the channel at once", async () => {
    const link = linkedMuxes();
    let farClosed = false;
    link.server.onOpen = (open) => {
      const far = open.accept();
      far.events = { close: () => (farClosed = true) };
    };
    const [app, local] = memoryPair();
    const held = holdConn(local);
    app.destroy();
    await settle();
    expect(held.closed).toBe(true);
    const channel = await link.client.openDirectTcpip("db", 5432, "127.0.0.1", 1);
    pipeChannel(held, channel);
    await settle();
    expect(farClosed).toBe(true);
    expect(link.client.size).toBe(0);
  });

  it("accept() after the connection died returns a closed channel: the target socket is reset, nothing throws", async () => {
    const link = linkedMuxes();
    let pending!: IncomingOpen;
    link.server.onOpen = (open) => {
      pending = open; // answered later, as tunnel serve does once its target connects
    };
    void link.client.openDirectTcpip("db", 5432, "127.0.0.1", 1).catch(() => {});
    await settle();
    link.cut();
    const [targetApp, target] = memoryPair();
    const seen = observe(targetApp);
    let ch!: Channel;
    expect(() => {
      ch = pending.accept();
    }).not.toThrow();
    expect(ch.aborted).toBe(true);
    pipeChannel(target, ch);
    await settle();
    expect(seen.seen.closed).toBe(true);
    expect(seen.seen.ended).toBe(false);
  });
});

/** A socket whose failure the test triggers (memory pairs only close cleanly). */
function failingConn() {
  let handlers: Parameters<Conn["setHandlers"]>[0] | undefined;
  let ended = false;
  const conn: Conn = {
    write: () => true,
    end() {},
    destroy() {},
    reset() {},
    pause() {},
    resume() {},
    setHandlers(h) {
      handlers = h;
      if (ended) h.end();
    },
    remoteAddress: "127.0.0.1",
    remotePort: 1,
    localAddress: "127.0.0.1",
    localPort: 2,
  };
  return {
    conn,
    fail: (err: Error) => handlers?.close(err),
    end() {
      ended = true;
      handlers?.end();
    },
  };
}
