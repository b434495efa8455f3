/**
 * diffie-hellman-group-exchange-sha256 (RFC 4419): the request, the group choice, the client's
 * checks on the group, the exchange hash of §3, both roles through the transport, and the
 * moduli(5) reader, each decoder with its list of bad inputs.
 */

import * as nodeCrypto from "node:crypto";
import * as fs from "node:fs";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import {
  BUILT_IN_GROUPS,
  checkServerGroup,
  chooseGroup,
  type DhGroup,
  looksLikeSafePrime,
  parseModuli,
} from "../src/algorithms/dh-groups.ts";
import { DH_GEX_SHA256, gexPreferredBits, readGexGroup } from "../src/algorithms/kex-gex.ts";
import { KEX_NAME } from "../src/algorithms/kex-names.ts";
import { MODP_2048, MODP_3072 } from "../src/algorithms/modp-groups.ts";
import type { SshError } from "../src/errors.ts";
import { MSG } from "../src/wire/messages.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";
import { kexPair, linkedConns } from "./kex-pair.ts";

const rnd = (n: number) => Uint8Array.from(nodeCrypto.randomBytes(n));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const GEX = KEX_NAME.DH_GEX_SHA256;

function failure(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    return { code: (e as SshError).code, message: (e as Error).message };
  }
  return { code: "no error", message: "" };
}

/** RFC 2409 §6.2, the 1024-bit Oakley group 2: a real safe prime, too small. */
const OAKLEY_1024 = BigInt(
  "0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
);

describe("RFC 4419 §3: the client's checks on the offered group", () => {
  it("GexBuiltInGroupsAreRfc3526SafePrimes: groups 14–18, 2048 to 8192 bits, generator 2", () => {
    expect(BUILT_IN_GROUPS.map((g) => g.bits)).toEqual([2048, 3072, 4096, 6144, 8192]);
    for (const g of BUILT_IN_GROUPS) {
      expect(g.p.toString(2).length).toBe(g.bits);
      expect(g.g).toBe(2n);
      expect(looksLikeSafePrime(g.p)).toBe(true);
    }
    // One full check: 2 is a quadratic residue mod a safe prime p ≡ 7 mod 8 (Euler's criterion).
    expect(MODP_3072 % 8n).toBe(7n);
  });

  const bad: [string, bigint, bigint, RegExp][] = [
    ["a 1024-bit group (RFC 2409 group 2)", OAKLEY_1024, 2n, /server's DH group is 1024 bits; expected 2048 to 8192/],
    ["p = 2^2048 + 1 (even-looking residue)", (1n << 2048n) + 1n, 2n, /DH group is 2049 bits|not a safe prime/],
    ["p = 2^2047 + 1", (1n << 2047n) + 1n, 2n, /2048-bit DH group modulus is not a safe prime/],
    ["an even p", MODP_2048 - 1n, 2n, /not a safe prime/],
    ["p with a small factor in (p-1)/2", MODP_2048 + 24n * 3n * 5n * 7n * 11n, 2n, /not a safe prime/],
    ["g = 1", MODP_2048, 1n, /generator is out of range: expected 1 < g < p-1/],
    ["g = 0", MODP_2048, 0n, /generator is out of range/],
    ["g = p - 1", MODP_2048, MODP_2048 - 1n, /generator is out of range/],
    ["g = p", MODP_2048, MODP_2048, /generator is out of range/],
  ];
  it.each(bad)("GexClientRefusesGroup: %s", (_name, p, g, message) => {
    const f = failure(() => checkServerGroup(p, g, 2048, 8192));
    expect(f.code).toBe("KEX_FAILED");
    expect(f.message).toMatch(message);
  });

  it("GexGroupMessageIsBoundedBeforeItIsANumber: bad KEX_DH_GEX_GROUP messages, one error each", () => {
    const group = (p: Uint8Array | bigint, g: Uint8Array | bigint = 2n) => {
      const w = new Writer(2048).byte(MSG.KEX_DH_GEX_GROUP);
      if (typeof p === "bigint") w.mpint(p);
      else w.string(p);
      if (typeof g === "bigint") w.mpint(g);
      else w.string(g);
      return w.bytes();
    };
    const good = group(MODP_2048);
    const hugeLength = new Writer(16).byte(MSG.KEX_DH_GEX_GROUP).uint32(0x7fffffff).bytes();
    const bad: [string, Uint8Array, string, RegExp][] = [
      [
        "wrong message type",
        Uint8Array.of(MSG.KEX_DH_GEX_REPLY, ...good.subarray(1)),
        "PROTOCOL_ERROR",
        /expected KEX_DH_GEX_GROUP \(31\), got message type 33/,
      ],
      ["empty body", Uint8Array.of(MSG.KEX_DH_GEX_GROUP), "PROTOCOL_ERROR", /truncated/],
      ["p length 2^31 with nothing after", hugeLength, "PROTOCOL_ERROR", /more than the 1024 allowed|truncated/],
      [
        "p of 8200 bits (1026 bytes)",
        group(new Uint8Array(1026).fill(0x7f)),
        "PROTOCOL_ERROR",
        /more than the 1024 allowed/,
      ],
      ["g missing", good.subarray(0, 5 + 257), "PROTOCOL_ERROR", /truncated/],
      ["a byte after g", Uint8Array.of(...good, 0), "PROTOCOL_ERROR", /KEX_DH_GEX_GROUP/],
      ["negative p", group(Uint8Array.of(0x80, 1)), "KEX_FAILED", /not positive/],
      ["p with a leading zero byte", group(Uint8Array.of(0, 1)), "PROTOCOL_ERROR", /not minimally encoded/],
      ["p = 0", group(0n), "KEX_FAILED", /not positive/],
    ];
    for (const [name, payload, code, message] of bad) {
      const f = failure(() => readGexGroup(payload, 2048, 8192));
      expect({ name, code: f.code }).toEqual({ name, code });
      expect(f.message, name).toMatch(message);
    }
    expect(readGexGroup(good, 2048, 8192).bits).toBe(2048);
  });

  it("GexClientRefusesGroupOutsideItsRequest: a 4096-bit group when 2048..3072 was asked", () => {
    const g4096 = BUILT_IN_GROUPS[2] as DhGroup;
    expect(failure(() => checkServerGroup(g4096.p, 2n, 2048, 3072)).message).toMatch(
      /4096 bits; expected 2048 to 3072/,
    );
    expect(checkServerGroup(MODP_2048, 2n, 2048, 3072).bits).toBe(2048);
  });

  it("GexRequestSizeFollowsCipherStrength: ≤128 → 3072, ≤192 → 7680, above → 8192 (OpenSSH's dh_estimate)", () => {
    expect([64, 128, 129, 192, 256, 512].map(gexPreferredBits)).toEqual([3072, 3072, 7680, 7680, 8192, 8192]);
  });
});

describe("RFC 4419 §3: the server's choice of group", () => {
  const moduli: DhGroup[] = [
    ...BUILT_IN_GROUPS,
    { bits: 3072, p: MODP_3072, g: 5n },
    { bits: 3072, p: MODP_3072, g: 7n },
  ];
  it("GexServerPicksSmallestSizeAtLeastN, at random among that size", () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 40; i++) {
      const g = chooseGroup(moduli, 2048, 3000, 8192, rnd);
      expect(g.bits).toBe(3072);
      seen.add(g.g);
    }
    expect(seen.size).toBe(3);
    expect(chooseGroup(moduli, 2048, 8192, 8192, rnd).bits).toBe(8192);
    // Nothing at or above n within max: the largest below.
    expect(chooseGroup(BUILT_IN_GROUPS.slice(0, 2), 2048, 8192, 8192, rnd).bits).toBe(3072);
    // n under 2048 is raised to 2048; max over 8192 is lowered.
    expect(chooseGroup(moduli, 1024, 1024, 100000, rnd).bits).toBe(2048);
  });

  const badRequests: [string, number, number, number, RegExp][] = [
    ["max < min", 4096, 4096, 3072, /min 4096, n 4096, max 3072 is invalid: expected min ≤ n ≤ max/],
    ["n < min", 3072, 2048, 8192, /min 3072, n 2048, max 8192 is invalid/],
    ["n > max", 2048, 8192, 4096, /min 2048, n 8192, max 4096 is invalid/],
    ["max < 2048", 1024, 1024, 1536, /max ≥ 2048/],
    ["all zero", 0, 0, 0, /max ≥ 2048/],
    ["all 2^32-1", 0xffffffff, 0xffffffff, 0xffffffff, /no DH group between 4294967295 and 8192 bits/],
  ];
  it.each(badRequests)("GexServerRefusesRequest: %s", (_name, min, n, max, message) => {
    const f = failure(() => chooseGroup(moduli, min, n, max, rnd));
    expect(f.code).toBe("KEX_FAILED");
    expect(f.message).toMatch(message);
  });
});

describe("moduli(5) file", () => {
  const line = (fields: string) => `${fields}\n`;
  const p2048 = MODP_2048.toString(16).toUpperCase();
  const good = `20220714110357 2 6 100 2047 2 ${p2048}`;

  it("GexModuliReadsTheSystemFile when there is one: every line of a stock file is usable", () => {
    let text: string;
    try {
      text = fs.readFileSync("/etc/ssh/moduli", "utf8");
    } catch {
      // No system file on this machine: the reader is covered by the lines below.
      text = good;
    }
    const { groups, skipped } = parseModuli(text);
    expect(skipped).toEqual([]);
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) expect(looksLikeSafePrime(g.p)).toBe(true);
  });

  it("GexModuliKeepsAGoodLineAndSkipsComments", () => {
    const { groups, skipped } = parseModuli(`# Time Type Tests Tries Size Generator Modulus\n\n${good}\n`);
    expect(skipped).toEqual([]);
    expect(groups).toEqual([{ bits: 2048, p: MODP_2048, g: 2n }]);
  });

  const badLines: [string, string, RegExp][] = [
    ["six fields", `20220714110357 2 6 100 2047 ${p2048}`, /line 1: 6 fields; expected 7/],
    ["eight fields", `${good} 00`, /8 fields; expected 7/],
    ["type 0 (not a safe prime)", good.replace(" 2 6 ", " 0 6 "), /not a tested safe prime \(type 0/],
    ["tests marks composite", good.replace(" 2 6 ", " 2 1 "), /not a tested safe prime/],
    ["tests 0 (untested)", good.replace(" 2 6 ", " 2 0 "), /not a tested safe prime/],
    ["tries 0", good.replace(" 6 100 ", " 6 0 "), /tries 0/],
    ["size not a number", good.replace(" 2047 ", " 2o47 "), /must be decimal numbers/],
    ["size disagrees with modulus", good.replace(" 2047 ", " 3071 "), /3072-bit modulus|size field says 3072/],
    ["1024-bit size", good.replace(" 2047 ", " 1023 "), /1024-bit modulus; expected 2048 to 8192/],
    ["modulus not hex", good.replace(`${p2048}`, `${p2048.slice(0, -1)}G`), /hexadecimal/],
    ["generator not hex", good.replace(" 2047 2 ", " 2047 z "), /hexadecimal/],
    ["generator 1", good.replace(" 2047 2 ", " 2047 1 "), /generator out of range/],
    ["a 5000-character line", `${good}${"0".repeat(5000)}`, /characters; expected at most 4096/],
  ];
  it.each(badLines)("GexModuliSkipsBadLine: %s", (_name, text, message) => {
    const { groups, skipped } = parseModuli(line(text));
    expect(groups).toEqual([]);
    expect(skipped.length).toBe(1);
    expect(skipped[0]).toMatch(message);
    expect(skipped[0]).not.toContain("\n");
  });
});

describe("diffie-hellman-group-exchange-sha256 messages and exchange hash (RFC 4419 §3)", () => {
  it("GexExchangeHashCoversRequestGroupAndValues: H = SHA-256(V_C, V_S, I_C, I_S, K_S, min, n, max, p, g, e, f, K)", async () => {
    const link = linkedConns({ client: rnd, server: rnd }, BUILT_IN_GROUPS, 128);
    const [c, s] = await Promise.all([DH_GEX_SHA256.client(link.client), DH_GEX_SHA256.server(link.server)]);
    expect(link.sent.map((m) => `${m.from}:${m.payload[0]}`)).toEqual([
      `client:${MSG.KEX_DH_GEX_REQUEST}`,
      `server:${MSG.KEX_DH_GEX_GROUP}`,
      `client:${MSG.KEX_DH_GEX_INIT}`,
      `server:${MSG.KEX_DH_GEX_REPLY}`,
    ]);
    const [req, grp, init, rep] = link.sent.map((m) => new Reader(m.payload, 1));
    const [min, n, max] = [req?.uint32() ?? 0, req?.uint32() ?? 0, req?.uint32() ?? 0];
    expect([min, n, max]).toEqual([2048, 3072, 8192]);
    const p = grp?.mpint() as bigint;
    const g = grp?.mpint() as bigint;
    expect(p).toBe(MODP_3072);
    const e = init?.string() as Uint8Array;
    const ks = rep?.string() as Uint8Array;
    const f = rep?.string() as Uint8Array;
    expect(hex(c.k)).toBe(hex(s.k));
    const m = link.magics;
    const h = sha256(
      new Writer()
        .string(m.clientVersion)
        .string(m.serverVersion)
        .string(m.clientKexInit)
        .string(m.serverKexInit)
        .string(ks)
        .uint32(min)
        .uint32(n)
        .uint32(max)
        .mpint(p)
        .mpint(g)
        .string(e)
        .string(f)
        .raw(s.k)
        .bytes(),
    );
    expect(hex(c.h)).toBe(hex(h));
    expect(hex(s.h)).toBe(hex(h));
  });

  /** Runs our client against a scripted server whose GROUP message is `group`. */
  async function clientGivenGroup(group: Uint8Array) {
    const link = linkedConns({ client: rnd, server: rnd });
    const run = DH_GEX_SHA256.client(link.client);
    await link.server.next();
    link.server.send(group);
    return run.then(
      () => "no error",
      (e: SshError) => `${e.code}: ${e.message}`,
    );
  }

  const badGroups: [string, Uint8Array, RegExp][] = [
    [
      "an 8200-bit p (refused from its length field)",
      new Writer()
        .byte(MSG.KEX_DH_GEX_GROUP)
        .mpint((1n << 8200n) - 1n)
        .mpint(2n)
        .bytes(),
      /DH group modulus p has 1026 bytes, more than the 1024 allowed/,
    ],
    [
      "a 256 KiB p",
      new Writer()
        .byte(MSG.KEX_DH_GEX_GROUP)
        .string(new Uint8Array(256 * 1024 - 100).fill(1))
        .mpint(2n)
        .bytes(),
      /DH group modulus p has \d+ bytes, more than the 1024 allowed/,
    ],
    [
      "a 1024-bit group",
      new Writer().byte(MSG.KEX_DH_GEX_GROUP).mpint(OAKLEY_1024).mpint(2n).bytes(),
      /KEX_FAILED: server's DH group is 1024 bits; expected 2048 to 8192/,
    ],
    [
      "a negative p",
      new Writer().byte(MSG.KEX_DH_GEX_GROUP).mpint(-MODP_2048).mpint(2n).bytes(),
      /KEX_FAILED: server's DH group modulus is not positive/,
    ],
    [
      "trailing bytes",
      new Writer().byte(MSG.KEX_DH_GEX_GROUP).mpint(MODP_2048).mpint(2n).byte(0).bytes(),
      /KEX_DH_GEX_GROUP has 1 unexpected trailing bytes/,
    ],
    ["g missing", new Writer().byte(MSG.KEX_DH_GEX_GROUP).mpint(MODP_2048).bytes(), /DH group generator g/],
    [
      "the reply instead of the group",
      new Writer().byte(MSG.KEX_DH_GEX_REPLY).string("x").bytes(),
      /expected KEX_DH_GEX_GROUP \(31\), got message type 33/,
    ],
  ];
  it.each(badGroups)("GexClientRefusesGroupMessage: %s", async (_name, msg, message) => {
    expect(await clientGivenGroup(msg)).toMatch(message);
  });

  it("GexServerRefusesTheOldRequest (30, n alone) and a malformed request", async () => {
    const run = async (msg: Uint8Array) => {
      const link = linkedConns({ client: rnd, server: rnd }, BUILT_IN_GROUPS);
      const server = DH_GEX_SHA256.server(link.server);
      link.client.send(msg);
      return server.then(
        () => "no error",
        (e: SshError) => e.message,
      );
    };
    expect(await run(new Writer().byte(MSG.KEX_DH_GEX_REQUEST_OLD).uint32(2048).bytes())).toMatch(
      /old group exchange request/,
    );
    expect(await run(new Writer().byte(MSG.KEX_DH_GEX_REQUEST).uint32(2048).uint32(3072).bytes())).toMatch(/max/);
    expect(
      await run(new Writer().byte(MSG.KEX_DH_GEX_REQUEST).uint32(2048).uint32(3072).uint32(8192).byte(1).bytes()),
    ).toMatch(/KEX_DH_GEX_REQUEST has 1 unexpected trailing bytes/);
  });

  it("GexBothRolesThroughTheTransport: our client and server agree on a group and keys", async () => {
    const { client, server, error } = await kexPair([GEX], [GEX], {
      client: {
        algorithms: {
          kex: [GEX],
          hostKey: ["ssh-ed25519"],
          cipher: ["aes128-gcm@openssh.com"],
          mac: ["hmac-sha2-256"],
        },
      },
      server: { dhGroups: BUILT_IN_GROUPS.slice(0, 2) },
    });
    expect(error).toBeUndefined();
    expect(client.t.info.negotiated?.kex).toBe(GEX);
    expect(hex(client.t.sessionId as Uint8Array)).toBe(hex(server.t.sessionId as Uint8Array));
    client.t.disconnect();
  });
});
