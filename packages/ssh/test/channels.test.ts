/** Connection-layer rules (RFC 4254; docs/PROTOCOL.md, "Channels") with a fake transport. */
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_PACKET, DEFAULT_WINDOW } from "../src/connection/channel.ts";
import { ChannelOpenError, Mux } from "../src/connection/mux.ts";
import { SshError } from "../src/errors.ts";
import { MSG } from "../src/wire/messages.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";

function fake() {
  const sent: Uint8Array[] = [];
  // The mux may hand a message over in two parts (header, then data): record it joined.
  const t = {
    congested: false,
    send: (p: Uint8Array, body?: Uint8Array) => sent.push(body ? Uint8Array.from([...p, ...body]) : p),
  };
  return { mux: new Mux(t), sent, t };
}
const confirm = (id: number, remote: number, window: number, max: number) =>
  new Writer().byte(MSG.CHANNEL_OPEN_CONFIRMATION).uint32(id).uint32(remote).uint32(window).uint32(max).bytes();
const data = (id: number, n: number) =>
  new Writer().byte(MSG.CHANNEL_DATA).uint32(id).string(new Uint8Array(n)).bytes();
const adjust = (id: number, n: number) => new Writer().byte(MSG.CHANNEL_WINDOW_ADJUST).uint32(id).uint32(n).bytes();
const types = (sent: Uint8Array[]) => sent.map((p) => p[0]);
const dataBytes = (sent: Uint8Array[]) =>
  sent.filter((p) => p[0] === MSG.CHANNEL_DATA).reduce((n, p) => n + new Reader(p, 5).string().length, 0);

async function opened(window = 1 << 20, max = 32768) {
  const f = fake();
  const pending = f.mux.openDirectTcpip("db", 5432, "127.0.0.1", 5555);
  f.mux.handle(confirm(0, 77, window, max));
  const ch = await pending;
  f.sent.length = 0;
  return { ...f, ch };
}

function fails(f: () => unknown, re: RegExp) {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SshError);
  expect((err as Error).message).toMatch(re);
}

describe("channels (RFC 4254 §5)", () => {
  it("direct-tcpip carries host, port and the originator (§7.2)", async () => {
    const f = fake();
    void f.mux.openDirectTcpip("db.internal", 5432, "127.0.0.1", 40000);
    const r = new Reader(f.sent[0] as Uint8Array, 1);
    expect([r.ascii(), r.uint32(), r.uint32(), r.uint32(), r.utf8(), r.uint32(), r.utf8(), r.uint32()]).toEqual([
      "direct-tcpip",
      0,
      DEFAULT_WINDOW,
      DEFAULT_MAX_PACKET,
      "db.internal",
      5432,
      "127.0.0.1",
      40000,
    ]);
  });

  it("TestWindowAdjustOverflowIsFatal: a WINDOW_ADJUST past 2^32-1 closes the connection", async () => {
    const { mux } = await opened(0xffff0000);
    fails(() => mux.handle(adjust(0, 0x10000)), /overflows channel 0's window past 2\^32-1/);
  });

  it("TestDataBeyondWindowIsFatal", async () => {
    const { mux, ch } = await opened();
    ch.events = { data: () => {} };
    for (let i = 0; i < DEFAULT_WINDOW / 32768; i++) mux.handle(data(0, 32768));
    fails(() => mux.handle(data(0, 1)), /sent 1 bytes on channel 0 with only 0 bytes of window/);
  });

  it("TestDataLargerThanMaxPacketIsFatal", async () => {
    const { mux, ch } = await opened();
    ch.events = { data: () => {} };
    fails(() => mux.handle(data(0, DEFAULT_MAX_PACKET + 1)), /maximum is 32768/);
  });

  it("TestMaxPacketZeroRejected: a confirmation with maximum packet 0 fails that open only; an absurd maximum is capped", async () => {
    const f = fake();
    const p = f.mux.openDirectTcpip("h", 1, "o", 2);
    // Not fatal to the connection: the open fails, and the half-made channel is closed properly.
    expect(() => f.mux.handle(confirm(0, 1, 1000, 0))).not.toThrow();
    await expect(p).rejects.toThrow(/maximum packet size 0; expected at least 1/);
    const close = f.sent.find((x) => x[0] === MSG.CHANNEL_CLOSE);
    expect(close && new Reader(close, 1).uint32()).toBe(1);
    // The id is freed once the peer's CLOSE comes back.
    expect(f.mux.size).toBe(1);
    f.mux.handle(new Writer().byte(MSG.CHANNEL_CLOSE).uint32(0).bytes());
    expect(f.mux.size).toBe(0);
    const g = await opened(1 << 30, 0xffffffff);
    g.ch.write(new Uint8Array(1 << 20));
    const sizes = g.sent.filter((x) => x[0] === MSG.CHANNEL_DATA).map((x) => new Reader(x, 5).string().length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2 * DEFAULT_MAX_PACKET);
  });

  it("TestDataForUnknownChannelIsFatal", () => {
    const { mux } = fake();
    fails(() => mux.handle(data(9, 1)), /message 94 for unknown channel 9/);
    fails(() => mux.handle(adjust(3, 1)), /unknown channel 3/);
  });

  it("TestDuplicateOpenConfirmationIsFatal", async () => {
    const { mux } = await opened();
    fails(
      () => mux.handle(confirm(0, 78, 100, 100)),
      /OPEN_CONFIRMATION for channel 0, which has no open request outstanding/,
    );
  });

  it("OPEN_FAILURE surfaces a typed error with the reason code and text", async () => {
    const f = fake();
    const p = f.mux.openDirectTcpip("h", 1, "o", 2);
    f.mux.handle(
      new Writer().byte(MSG.CHANNEL_OPEN_FAILURE).uint32(0).uint32(1).string("not \x1b[31mallowed").string("").bytes(),
    );
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(ChannelOpenError);
    expect(err.reasonCode).toBe(1);
    expect(err.message).toBe("channel open refused: administratively prohibited (not \\x1b[31mallowed)");
  });

  it("TestUnsolicitedRepliesIgnored: REQUEST_SUCCESS and CHANNEL_SUCCESS nobody asked for", async () => {
    const { mux, sent } = await opened();
    expect(mux.handle(Uint8Array.of(MSG.REQUEST_SUCCESS))).toBe(true);
    expect(mux.handle(new Writer().byte(MSG.CHANNEL_SUCCESS).uint32(0).bytes())).toBe(true);
    expect(sent).toEqual([]);
  });

  it("TestGlobalRequestFloodAnsweredWithoutGrowth: 10,000 keepalives get 10,000 REQUEST_FAILUREs", () => {
    const { mux, sent } = fake();
    const req = new Writer().byte(MSG.GLOBAL_REQUEST).string("keepalive@openssh.com").boolean(true).bytes();
    for (let i = 0; i < 10_000; i++) mux.handle(req);
    expect(sent).toHaveLength(10_000);
    expect(sent.every((p) => p.length === 1 && p[0] === MSG.REQUEST_FAILURE)).toBe(true);
    expect((mux as unknown as { replyQueue: unknown[] }).replyQueue).toHaveLength(0);
  });

  it("async global replies keep request order", async () => {
    const { mux, sent } = fake();
    let release!: () => void;
    mux.onGlobalRequest = (name) =>
      name === "slow" ? new Promise((r) => (release = () => r(Uint8Array.of(1)))) : undefined;
    mux.handle(new Writer().byte(MSG.GLOBAL_REQUEST).string("slow").boolean(true).bytes());
    mux.handle(new Writer().byte(MSG.GLOBAL_REQUEST).string("fast").boolean(true).bytes());
    expect(sent).toEqual([]);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(types(sent)).toEqual([MSG.REQUEST_SUCCESS, MSG.REQUEST_FAILURE]);
  });

  it("flow control: sends exactly the peer's window, then waits; WINDOW_ADJUST releases more; drain fires", async () => {
    const { mux, ch, sent } = await opened(100_000, 32768);
    let drained = 0;
    ch.events = { drain: () => drained++ };
    expect(ch.write(new Uint8Array(300_000))).toBe(false);
    expect(dataBytes(sent)).toBe(100_000);
    mux.handle(adjust(0, 150_000));
    expect(dataBytes(sent)).toBe(250_000);
    expect(drained).toBe(0);
    mux.handle(adjust(0, 100_000));
    expect(dataBytes(sent)).toBe(300_000);
    expect(drained).toBe(1);
  });

  it("window is re-granted only as the consumer reports consumption (half a window at a time)", async () => {
    const { mux, ch, sent } = await opened();
    ch.events = { data: () => {} };
    for (let i = 0; i < 40; i++) mux.handle(data(0, 32768));
    expect(types(sent)).not.toContain(MSG.CHANNEL_WINDOW_ADJUST);
    ch.consumed(DEFAULT_WINDOW / 2);
    const adj = sent.find((p) => p[0] === MSG.CHANNEL_WINDOW_ADJUST) as Uint8Array;
    const r = new Reader(adj, 1);
    expect([r.uint32(), r.uint32()]).toEqual([77, DEFAULT_WINDOW / 2]);
  });

  it("waits while the transport is congested and resumes when it drains", async () => {
    const { mux, ch, sent, t } = await opened();
    t.congested = true;
    expect(ch.write(new Uint8Array(1000))).toBe(false);
    expect(dataBytes(sent)).toBe(0);
    t.congested = false;
    mux.drained();
    expect(dataBytes(sent)).toBe(1000);
  });

  it("half-close (§5.3): our EOF follows queued data, and data still arrives the other way", async () => {
    const { mux, ch, sent } = await opened(10, 32768);
    const got: number[] = [];
    ch.events = { data: (d) => got.push(d.length) };
    ch.write(new Uint8Array(25));
    ch.end();
    expect(types(sent)).toEqual([MSG.CHANNEL_DATA]);
    mux.handle(adjust(0, 100));
    expect(types(sent)).toEqual([MSG.CHANNEL_DATA, MSG.CHANNEL_DATA, MSG.CHANNEL_EOF]);
    mux.handle(data(0, 5));
    expect(got).toEqual([5]);
    expect(() => ch.write(Uint8Array.of(1))).toThrow(TypeError);
  });

  it("data arriving before the consumer attaches is kept and delivered in order", async () => {
    const f = fake();
    const p = f.mux.openDirectTcpip("h", 1, "o", 2);
    f.mux.handle(confirm(0, 5, 1000, 1000));
    f.mux.handle(data(0, 3));
    f.mux.handle(new Writer().byte(MSG.CHANNEL_EOF).uint32(0).bytes());
    const ch = await p;
    const seen: string[] = [];
    ch.events = { data: (d) => seen.push(`data ${d.length}`), eof: () => seen.push("eof") };
    expect(seen).toEqual(["data 3", "eof"]);
  });

  it("CLOSE is answered with CLOSE; the id is freed only after both, then reused", async () => {
    const { mux, ch, sent } = await opened();
    let closed = 0;
    ch.events = { close: () => closed++ };
    mux.handle(new Writer().byte(MSG.CHANNEL_CLOSE).uint32(0).bytes());
    expect(types(sent)).toEqual([MSG.CHANNEL_CLOSE]);
    expect(closed).toBe(1);
    expect(mux.size).toBe(0);
    fails(() => mux.handle(data(0, 1)), /unknown channel 0/);
  });

  it("abort fails pending opens and closes open channels", async () => {
    const { mux, ch } = await opened();
    let closed = false;
    ch.events = { close: () => (closed = true) };
    const pending = mux.openDirectTcpip("h", 1, "o", 2);
    mux.abort(new SshError("CONNECTION_LOST", "gone"));
    await expect(pending).rejects.toThrow("gone");
    expect(closed).toBe(true);
  });

  it("incoming channel types nobody handles are refused as administratively prohibited", () => {
    const { mux, sent } = fake();
    mux.handle(new Writer().byte(MSG.CHANNEL_OPEN).string("session").uint32(4).uint32(1000).uint32(1000).bytes());
    const r = new Reader(sent[0] as Uint8Array, 1);
    expect([r.uint32(), r.uint32()]).toEqual([4, 1]);
  });
});
