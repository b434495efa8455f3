import { describe, expect, it } from "vitest";
import { SshError } from "../src/errors.ts";
import { Reader } from "../src/wire/reader.ts";
import { bigintToBytes, bytesToBigint, mpintEncode, Writer } from "../src/wire/writer.ts";

const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

describe("wire types (RFC 4251 §5)", () => {
  // RFC 4251 §5 mpint examples, verbatim from the RFC's table.
  const mpintVectors: [bigint, string][] = [
    [0n, "00000000"],
    [0x9a378f9b2e332a7n, "0000000809a378f9b2e332a7"],
    [0x80n, "000000020080"],
    [-0x1234n, "00000002edcc"],
    [-0xdeadbeefn, "00000005ff21524111"],
  ];
  it.each(mpintVectors)("encodes and decodes mpint %s as in RFC 4251", (v, h) => {
    expect(toHex(new Writer().mpint(v).bytes())).toBe(h);
    expect(new Reader(hex(h)).mpint()).toBe(v);
  });

  it("round-trips every type", () => {
    const w = new Writer(4)
      .byte(7)
      .boolean(true)
      .uint32(0xdeadbeef)
      .uint64(0x0102030405060708n)
      .string("héllo")
      .nameList(["a", "b-c@x"])
      .mpint(255n)
      .mpintFromBytes(Uint8Array.of(0, 0, 0x80, 1));
    const r = new Reader(w.bytes());
    expect(r.byte()).toBe(7);
    expect(r.boolean()).toBe(true);
    expect(r.uint32()).toBe(0xdeadbeef);
    expect(r.uint64()).toBe(0x0102030405060708n);
    expect(r.utf8()).toBe("héllo");
    expect(r.nameList()).toEqual(["a", "b-c@x"]);
    expect(r.mpint()).toBe(255n);
    expect(toHex(r.mpintBytes())).toBe("8001");
    r.done();
  });

  it("treats any non-zero byte as TRUE (RFC 4251 §5 boolean)", () => {
    expect(new Reader(Uint8Array.of(2)).boolean()).toBe(true);
    expect(new Reader(Uint8Array.of(0)).boolean()).toBe(false);
  });

  it("empty name-list decodes to no names", () => {
    expect(new Reader(hex("00000000")).nameList()).toEqual([]);
  });

  it("bigint helpers pad and strip", () => {
    expect(toHex(bigintToBytes(1n, 4))).toBe("00000001");
    expect(bytesToBigint(hex("00ff"))).toBe(255n);
    expect(() => bigintToBytes(0x10000n, 1)).toThrow(RangeError);
    expect(toHex(mpintEncode(-1n))).toBe("ff");
    expect(toHex(mpintEncode(-128n))).toBe("80");
    expect(toHex(mpintEncode(-129n))).toBe("ff7f");
  });

  it("refuses out-of-range uint32 on write", () => {
    expect(() => new Writer().uint32(-1)).toThrow(RangeError);
    expect(() => new Writer().uint32(2 ** 32)).toThrow(RangeError);
  });

  describe("bad inputs", () => {
    const bad: [string, (r: Reader) => unknown, string][] = [
      ["truncated byte", (r) => r.byte(), ""],
      ["truncated uint32", (r) => r.uint32(), "000000"],
      ["truncated uint64", (r) => r.uint64(), "00000000000000"],
      ["string length beyond the data", (r) => r.string(), "0000000561"],
      ["huge string length", (r) => r.string(), "ffffffff00"],
      ["name-list with an empty name", (r) => r.nameList(), "000000032c6162"],
      ["name-list with a trailing comma", (r) => r.nameList(), "00000002612c"],
      ["name-list with a control byte", (r) => r.nameList(), "000000026109"],
      ["name-list with a high byte", (r) => r.nameList(), "0000000161".replace("61", "e9")],
      ["non-minimal positive mpint", (r) => r.mpint(), "000000020001"],
      ["non-minimal negative mpint", (r) => r.mpint(), "00000002ff80"],
      ["negative mpint where unsigned is required", (r) => r.mpintBytes(), "0000000180"],
      ["invalid UTF-8 string", (r) => r.utf8(), "00000001ff"],
      [
        "trailing bytes",
        (r) => {
          r.byte();
          r.done();
        },
        "0102",
      ],
    ];
    it.each(bad)("rejects %s", (_name, read, h) => {
      const err = (() => {
        try {
          read(new Reader(hex(h)));
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(SshError);
      expect((err as SshError).code).toBe("PROTOCOL_ERROR");
    });

    it("does not allocate for a huge string length (it throws before reading)", () => {
      const r = new Reader(hex("7fffffff"));
      expect(() => r.string("payload")).toThrow(/truncated payload: needed 2147483647 bytes, 0 left/);
    });
  });
});
