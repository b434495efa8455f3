/**
 * Transport layer, RFC 4253 §6: the packet reader's buffering, found by the fuzzer
 * (test/fuzz/, issue 12). A peer chooses how its bytes are cut: a 256 KiB packet sent one byte
 * per TCP segment used to cost a copy of everything received so far per byte — 34 GB of
 * copying, 7.4 s of CPU for one packet before authentication. The buffer now grows
 * geometrically, and what was handed out is never written again.
 */
import { describe, expect, it } from "vitest";
import { plainOpener, plainSealer } from "../src/algorithms/cipher-none.ts";
import { MAX_PACKET_LENGTH, PacketReader, PacketWriter } from "../src/transport/packet.ts";

function bigPacket(): Uint8Array {
  const len = MAX_PACKET_LENGTH - 4; // 4 + packet_length is a multiple of 8
  const wire = new Uint8Array(4 + len);
  new DataView(wire.buffer).setUint32(0, len);
  wire[4] = 8; // padding length
  for (let i = 5; i < wire.length - 8; i++) wire[i] = i & 0xff;
  return wire;
}

/** The reader's buffer, to count how often it is replaced (each replacement is a copy of what it holds). */
const bufferOf = (r: PacketReader) => (r as unknown as { buf: Uint8Array }).buf;

describe("packet reader buffering (RFC 4253 §6)", () => {
  it("TestPacketByteByByteIsCopiedLinearly: a 256 KiB packet fed a byte at a time is copied into O(log n) buffers", () => {
    const wire = bigPacket();
    const r = new PacketReader(plainOpener());
    let buffer: Uint8Array | undefined;
    let replaced = 0;
    let payload: Uint8Array | undefined;
    // Doubling from one byte to 256 KiB is about 19 buffers (and a few for the header); one
    // per byte was the quadratic behaviour (stop counting early then: it costs seconds).
    for (let i = 0; i < wire.length && replaced < 100; i++) {
      r.push(wire.subarray(i, i + 1));
      if (bufferOf(r) !== buffer) {
        buffer = bufferOf(r);
        replaced++;
      }
      payload = r.next() ?? payload;
    }
    expect(replaced).toBeLessThan(40);
    expect(payload?.length).toBe(wire.length - 4 - 1 - 8);
    expect(payload?.[0]).toBe(5);
  });

  it("TestPayloadsHandedOutStayIntact: later bytes never overwrite a payload already returned", () => {
    const w = new PacketWriter(plainSealer(), (n) => new Uint8Array(n).fill(0xaa));
    const payloads = [1, 2, 3, 4, 5, 6].map((k) => new Uint8Array(100 * k).fill(k));
    const wire = new Uint8Array(payloads.reduce((n, p) => n + w.frame(p).length, 0));
    const w2 = new PacketWriter(plainSealer(), (n) => new Uint8Array(n).fill(0xaa));
    let at = 0;
    for (const p of payloads) {
      const f = w2.frame(p);
      wire.set(f, at);
      at += f.length;
    }
    const r = new PacketReader(plainOpener());
    const got: Uint8Array[] = [];
    // Cuts that leave part of the next packet behind each one: the reader appends in place.
    for (let i = 0; i < wire.length; i += 37) {
      r.push(wire.slice(i, i + 37));
      for (let p = r.next(); p; p = r.next()) got.push(p);
    }
    expect(got.map((p) => [p.length, p.every((b) => b === p[0])])).toEqual(payloads.map((p) => [p.length, true]));
    expect(got.map((p) => p[0])).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
