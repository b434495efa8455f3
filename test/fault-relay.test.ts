/**
 * The fault relay of @tunnel/testkit (packages/testkit/src/fault-relay.ts) on its own, in front of plain TCP
 * targets: each mode does what the field tests of issue 13 rely on, under every runtime.
 */
import * as crypto from "node:crypto";
import * as net from "node:net";
import { type FaultRelay, startFaultRelay } from "@tunnel/testkit";
import { afterEach, describe, expect, it } from "vitest";
import {
  connectLocal,
  echoRoundTrip,
  endsWithin,
  record,
  sleep,
  startEcho,
  startTarget,
  type TargetServer,
} from "./harness/field.ts";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function relayTo(target: TargetServer): Promise<FaultRelay> {
  const relay = await startFaultRelay(target.port);
  cleanup.push(
    () => target.close(),
    () => relay.stop(),
  );
  return relay;
}

function connectError(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(undefined);
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code));
  });
}

describe("fault relay", () => {
  it("pass: 4 MiB each way arrive intact, and a half-close crosses as a FIN", async () => {
    const relay = await relayTo(await startEcho());
    const c = await connectLocal(relay.port, true);
    const data = crypto.randomBytes(4 * 1024 * 1024);
    c.socket.end(data);
    const end = await endsWithin(c, 10_000, "echo through the relay");
    expect(end.error).toBeUndefined();
    expect(end.fin).toBe(true);
    expect(c.data().equals(data)).toBe(true);
    expect(relay.accepted).toBe(1);
  });

  it("delay(ms): each chunk is held ms each way, in order", async () => {
    const relay = await relayTo(await startEcho());
    await relay.set({ delay: 300 });
    const c = await connectLocal(relay.port, true);
    const t0 = Date.now();
    c.socket.write("a");
    await sleep(50);
    c.socket.write("b");
    c.socket.end("c");
    const end = await endsWithin(c, 10_000, "delayed echo");
    expect(c.data().toString()).toBe("abc");
    expect(end.fin).toBe(true);
    // out and back: at least 2 × 300 ms, a lower bound that does not depend on machine speed
    expect(end.at - t0).toBeGreaterThanOrEqual(600);
  });

  it("freeze: nothing crosses, no FIN either, both sockets stay open; thawed, what was held crosses in order", async () => {
    const target = await startTarget(() => {}, true);
    const relay = await relayTo(target);
    const c = await connectLocal(relay.port, true);
    c.socket.write("before ");
    await target.waitForConns(1);
    const t = target.conns[0]!;
    for (let i = 0; i < 100 && t.bytes() < 7; i++) await sleep(20);
    await relay.set("freeze");
    c.socket.end("during");
    t.socket.write("reply");
    await sleep(500);
    expect(t.data().toString()).toBe("before ");
    expect(c.bytes()).toBe(0);
    expect(c.ending()).toBeUndefined();
    expect(t.ending()).toBeUndefined();
    expect(relay.links()).toHaveLength(1);
    expect(relay.links()[0]!.bytesRead).toBe(7 + 6 + 5);
    await relay.set("pass");
    t.socket.end();
    const [ce, te] = await Promise.all([endsWithin(c, 5000, "client"), endsWithin(t, 5000, "target")]);
    expect(t.data().toString()).toBe("before during");
    expect(te.fin).toBe(true);
    expect(c.data().toString()).toBe("reply");
    expect(ce.fin).toBe(true);
  });

  it("freeze one direction: up held, down passing (and the reverse)", async () => {
    const target = await startTarget(() => {}, true);
    const relay = await relayTo(target);
    const c = await connectLocal(relay.port, true);
    await target.waitForConns(1);
    const t = target.conns[0]!;
    const [link] = await relay.waitForLinks(1);
    link!.set({ freeze: "up" });
    c.socket.end("held");
    t.socket.write("passes");
    for (let i = 0; i < 100 && c.bytes() < 6; i++) await sleep(20);
    expect(c.data().toString()).toBe("passes");
    await sleep(200);
    expect(t.bytes()).toBe(0);
    expect(t.ending()).toBeUndefined(); // the FIN is held too
    link!.set({ freeze: "down" });
    t.socket.end("later");
    await endsWithin(t, 3000, "target");
    expect(t.data().toString()).toBe("held");
    await sleep(200);
    expect(c.data().toString()).toBe("passes");
    expect(c.ending()).toBeUndefined();
    link!.set("pass");
    await endsWithin(c, 3000, "client");
    expect(c.data().toString()).toBe("passeslater");
  });

  it("reset: both ends get a RST (ECONNRESET), not a FIN", async () => {
    const target = await startTarget();
    const relay = await relayTo(target);
    const c = await connectLocal(relay.port);
    await target.waitForConns(1);
    const [link] = await relay.waitForLinks(1);
    await relay.set("reset");
    await link!.closed;
    const [ce, te] = await Promise.all([endsWithin(c, 5000, "client"), endsWithin(target.conns[0]!, 5000, "target")]);
    expect(ce.error).toBe("ECONNRESET");
    expect(te.error).toBe("ECONNRESET");
    expect(relay.links()).toHaveLength(0);
  });

  it("reset after a half-close: the link still closes (no RST after our own FIN, which libuv refuses)", async () => {
    const target = await startTarget();
    const relay = await relayTo(target);
    const c = await connectLocal(relay.port);
    await target.waitForConns(1);
    const [link] = await relay.waitForLinks(1);
    c.socket.end(); // the relay passes the FIN on: its socket to the target is shut down for writing
    await sleep(100);
    await relay.set("reset");
    await Promise.race([link!.closed, sleep(3000).then(() => Promise.reject(new Error("link still open after 3 s")))]);
    expect((await endsWithin(c, 3000, "client")).error).toBe("ECONNRESET");
  });

  it("close: both ends get a FIN and no error", async () => {
    const target = await startTarget((t) => t.socket.on("end", () => t.socket.end()));
    const relay = await relayTo(target);
    const c = await connectLocal(relay.port);
    c.socket.on("end", () => c.socket.end());
    await target.waitForConns(1);
    await relay.waitForLinks(1);
    await relay.set("close");
    const [ce, te] = await Promise.all([endsWithin(c, 5000, "client"), endsWithin(target.conns[0]!, 5000, "target")]);
    expect(ce).toMatchObject({ fin: true, error: undefined });
    expect(te).toMatchObject({ fin: true, error: undefined });
  });

  it("refuse: new connections get ECONNREFUSED while existing links carry on; pass listens again on the same port", async () => {
    const relay = await relayTo(await startEcho());
    const c = await connectLocal(relay.port, true);
    await relay.set("refuse");
    expect(await connectError(relay.port)).toBe("ECONNREFUSED");
    c.socket.end("still here");
    const end = await endsWithin(c, 5000, "existing link");
    expect(c.data().toString()).toBe("still here");
    expect(end.fin).toBe(true);
    await relay.set("pass");
    expect(await echoRoundTrip(relay.port)).toBe("ok");
  });

  it("modes per scope: reset for new connections only leaves an existing link working", async () => {
    const relay = await relayTo(await startEcho());
    const old = await connectLocal(relay.port, true);
    await relay.waitForLinks(1);
    await relay.set("reset", "new");
    // the RST may come before or after the client saw its connect complete
    const fresh = record(net.connect(relay.port, "127.0.0.1"));
    expect((await endsWithin(fresh, 5000, "new connection")).error).toBe("ECONNRESET");
    old.socket.end("ok");
    await endsWithin(old, 5000, "existing link");
    expect(old.data().toString()).toBe("ok");
  });

  it("per link: freezing one link leaves the others passing", async () => {
    const relay = await relayTo(await startEcho());
    const a = await connectLocal(relay.port, true);
    const b = await connectLocal(relay.port, true);
    const [la] = await relay.waitForLinks(2);
    la!.set("freeze");
    a.socket.end("a");
    b.socket.end("b");
    await endsWithin(b, 5000, "the passing link");
    expect(b.data().toString()).toBe("b");
    await sleep(200);
    expect(a.bytes()).toBe(0);
    expect(a.ending()).toBeUndefined();
  });

  it("passes a RST from the target on to the client as a RST", async () => {
    const target = await startTarget((t) => {
      t.socket.write("partial");
      setTimeout(() => (t.socket as net.Socket & { resetAndDestroy(): void }).resetAndDestroy(), 100);
    });
    const relay = await relayTo(target);
    const c = await connectLocal(relay.port, true);
    const end = await endsWithin(c, 5000, "client");
    expect(end.error).toBe("ECONNRESET");
    expect(c.data().toString()).toBe("partial");
  });

  it("resets the client when the target refuses (the bastion is down behind the relay)", async () => {
    const target = await startTarget();
    const relay = await relayTo(target);
    target.close();
    await sleep(50);
    const c = record(net.connect(relay.port, "127.0.0.1"));
    const end = await endsWithin(c, 5000, "client");
    expect(end.fin).toBe(false);
    expect(end.error).toBe("ECONNRESET");
  });
});
