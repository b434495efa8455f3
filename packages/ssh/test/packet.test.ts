import { describe, expect, it } from "vitest";
import { AES_GCM_CIPHERS } from "../src/algorithms/cipher-aes-gcm.ts";
import { CHACHA20_POLY1305 } from "../src/algorithms/cipher-chacha20-poly1305.ts";
import { plainOpener, plainSealer } from "../src/algorithms/cipher-none.ts";
import type { CipherAlgorithm, PacketOpener } from "../src/algorithms/types.ts";
import { createNativeProvider } from "../src/crypto/native.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import { joinParts, type Primitive } from "../src/crypto/provider.ts";
import type { SshError } from "../src/errors.ts";
import { MAX_PACKET_LENGTH, PacketReader, PacketWriter } from "../src/transport/packet.ts";

const fixedRandom = (n: number) => new Uint8Array(n).fill(0xaa);
const rnd = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));

function frame(len: number, pad: number, body = new Uint8Array(Math.max(0, len - 1))): Uint8Array {
  const out = new Uint8Array(4 + Math.max(len, 0));
  new DataView(out.buffer).setUint32(0, len >>> 0);
  if (len > 0) out[4] = pad;
  out.set(body.subarray(0, Math.max(0, len - 1)), 5);
  return out;
}

function readerErr(bytes: Uint8Array, opener: PacketOpener = plainOpener()): SshError {
  const r = new PacketReader(opener);
  r.push(bytes);
  try {
    r.next();
  } catch (e) {
    return e as SshError;
  }
  throw new Error("expected the reader to reject the packet");
}

describe("binary packet protocol (RFC 4253 §6)", () => {
  it("frames with at least 4 bytes of random padding, aligned to 8", () => {
    const w = new PacketWriter(plainSealer(), fixedRandom);
    for (let n = 1; n < 40; n++) {
      const wire = w.frame(new Uint8Array(n).fill(1));
      const len = new DataView(wire.buffer).getUint32(0);
      const pad = wire[4] as number;
      expect(pad).toBeGreaterThanOrEqual(4);
      expect((len + 4) % 8).toBe(0);
      expect(len).toBe(1 + n + pad);
    }
  });

  it("round-trips payloads split at every byte boundary and parses many per read", () => {
    const w = new PacketWriter(plainSealer(), fixedRandom);
    const payloads = [Uint8Array.of(2), new Uint8Array(100).fill(7), new Uint8Array(33000).fill(9)];
    const wire = payloads.map((p) => w.frame(p));
    const all = new Uint8Array(wire.reduce((a, b) => a + b.length, 0));
    let o = 0;
    for (const b of wire) {
      all.set(b, o);
      o += b.length;
    }
    for (const step of [1, 3, 17, all.length]) {
      const r = new PacketReader(plainOpener());
      const got: Uint8Array[] = [];
      for (let i = 0; i < all.length; i += step) {
        r.push(all.slice(i, i + step));
        for (let p = r.next(); p; p = r.next()) got.push(p.slice());
      }
      expect(got).toEqual(payloads);
      expect(r.seq).toBe(3);
    }
  });

  // node:crypto streams AES-GCM everywhere and ChaCha20 on Node and Deno (Bun's has none).
  const native = createNativeProvider().provider;
  const ciphers: [CipherAlgorithm, Primitive][] = [
    [AES_GCM_CIPHERS[0] as CipherAlgorithm, "aes-gcm"],
    [CHACHA20_POLY1305, "chacha20"],
  ];
  it.each(ciphers)(
    "%s: a packet's header, data and padding sealed as parts give the bytes of the joined packet, where the primitive streams",
    (cipher, primitive) => {
      for (const provider of [native, nobleProvider]) {
        const streams = provider.streams?.includes(primitive) ?? false;
        const keys = { key: new Uint8Array(cipher.keyLength).fill(3), iv: new Uint8Array(cipher.ivLength).fill(5) };
        const streaming = cipher.createSealer(keys, provider);
        // noble wants whole, aligned blocks: joining once is cheaper there, so no parts.
        expect(streaming.sealParts === undefined).toBe(!streams);
        const joined = cipher.createSealer(keys, provider);
        joined.sealParts = undefined;
        const a = new PacketWriter(streaming, fixedRandom);
        const b = new PacketWriter(joined, fixedRandom);
        const r = new PacketReader(cipher.createOpener(keys, provider));
        const header = Uint8Array.of(94, 0, 0, 0, 1, 0, 0, 0x80, 0);
        for (const n of [0, 1023, 1024, 1025, 32768]) {
          const body = rnd(n);
          const pieces = a.framePieces(header, body);
          // Through node:crypto the packet leaves in pieces (length, ciphertext parts, tag).
          if (streams && n >= 1024) expect(Array.isArray(pieces)).toBe(true);
          const wire = joinParts(pieces);
          expect(wire).toEqual(b.frame(header, body));
          r.push(wire);
          const got = r.next();
          expect(got?.subarray(0, 9)).toEqual(header);
          expect(got?.subarray(9)).toEqual(body);
        }
      }
    },
  );

  it("wraps sequence numbers at 2^32 (RFC 4253 §6.4)", () => {
    const w = new PacketWriter(plainSealer(), fixedRandom);
    w.seq = 0xffffffff;
    w.frame(Uint8Array.of(2));
    expect(w.seq).toBe(0);
    const r = new PacketReader(plainOpener());
    r.seq = 0xffffffff;
    r.push(new PacketWriter(plainSealer(), fixedRandom).frame(Uint8Array.of(2)));
    r.next();
    expect(r.seq).toBe(0);
  });

  describe("Length DoS (docs/PROTOCOL.md, Binary packets): bad lengths rejected before allocation", () => {
    it("rejects a length above the 256 KiB cap from the header alone", () => {
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, MAX_PACKET_LENGTH + 8);
      const err = readerErr(header);
      expect(err.code).toBe("BAD_PACKET");
      expect(err.message).toMatch(/exceeds the maximum/);
    });
    it("rejects 0xffffffff without waiting for the body", () => {
      expect(readerErr(Uint8Array.of(0xff, 0xff, 0xff, 0xff)).message).toMatch(/exceeds the maximum/);
    });
    it("rejects length < 5", () => {
      expect(readerErr(frame(4, 4)).message).toMatch(/below the minimum of 5/);
    });
    it("rejects padding < 4", () => {
      expect(readerErr(frame(12, 3)).message).toMatch(/padding length 3 is below the minimum/);
    });
    it("rejects padding >= packet length (no payload)", () => {
      expect(readerErr(frame(12, 11)).message).toMatch(/leaves no payload/);
      expect(readerErr(frame(12, 200)).message).toMatch(/leaves no payload/);
    });
    it("rejects a length not aligned to the block size", () => {
      expect(readerErr(frame(13, 4)).message).toMatch(/not a multiple of the cipher block size 8/);
    });
  });
});
