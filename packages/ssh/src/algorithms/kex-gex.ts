/**
 * diffie-hellman-group-exchange-sha256 (RFC 4419, with SHA-256 as its §4.2 names): the
 * server offers a group of the size the client asks for, then a DH exchange runs in it.
 *
 *   C → S  KEX_DH_GEX_REQUEST (34)  uint32 min, n, max
 *   S → C  KEX_DH_GEX_GROUP   (31)  mpint p, g
 *   C → S  KEX_DH_GEX_INIT    (32)  mpint e
 *   S → C  KEX_DH_GEX_REPLY   (33)  string K_S, mpint f, string signature of H
 *
 * H = SHA-256(V_C ‖ V_S ‖ I_C ‖ I_S ‖ K_S ‖ min ‖ n ‖ max ‖ p ‖ g ‖ e ‖ f ‖ K) (§3).
 * The client asks for 2048 ≤ n ≤ 8192 bits, n from the negotiated ciphers' strength as OpenSSH
 * does, and refuses groups outside that range or not shaped like a safe prime (dh-groups.ts);
 * p and g are bounded by their length fields before they are converted, and e and f by p
 * (kex-dh.ts `checkPeerValue`) before any arithmetic. The old request (30, n alone) is refused.
 */
import { MSG } from "../wire/messages.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";
import { checkServerGroup, chooseGroup, type DhGroup, GEX_MAX_BITS, GEX_MIN_BITS } from "./dh-groups.ts";
import { dhValueExchange } from "./kex-dh.ts";
import type { KexConn, KexMethod, KexResult } from "./kex-method.ts";
import { kexProtocolError } from "./kex-method-errors.ts";
import { KEX_NAME } from "./kex-names.ts";

/** The largest p we accept or send: 8192 bits. */
const P_MAX_BYTES = GEX_MAX_BITS / 8;

/**
 * The group size to ask for, from the strength the negotiated algorithms need in bits (as
 * OpenSSH's dh_estimate, after NIST SP 800-57 Part 1 Table 2): ≤ 128 → 3072, ≤ 192 → 7680, else 8192.
 */
export function gexPreferredBits(needBits: number): number {
  if (needBits <= 128) return 3072;
  if (needBits <= 192) return 7680;
  return 8192;
}

/** Private exponent size: twice the group's strength (RFC 8268 §4): 256 up to 3072 bits, 512 above. */
const exponentBits = (group: DhGroup) => (group.bits <= 3072 ? 256 : 512);

interface GexHashParts {
  ks: Uint8Array;
  min: number;
  n: number;
  max: number;
  group: DhGroup;
  /** mpint contents of e and f. */
  e: Uint8Array;
  f: Uint8Array;
  /** K, encoded as an mpint. */
  k: Uint8Array;
}

function gexHash(conn: KexConn, x: GexHashParts): Uint8Array {
  const m = conn.magics;
  const w = new Writer(4096)
    .string(m.clientVersion)
    .string(m.serverVersion)
    .string(m.clientKexInit)
    .string(m.serverKexInit)
    .string(x.ks)
    .uint32(x.min)
    .uint32(x.n)
    .uint32(x.max)
    .mpint(x.group.p)
    .mpint(x.group.g)
    .string(x.e)
    .string(x.f)
    .raw(x.k);
  return conn.provider.hash("sha256", w.bytes());
}

const expect = (payload: Uint8Array, type: number, what: string) => {
  if (payload[0] !== type) throw kexProtocolError(`expected ${what} (${type}), got message type ${payload[0]}`);
};

/**
 * Client: the server's KEX_DH_GEX_GROUP (§3), p and g bounded by their length fields before
 * they become numbers, then checked against what we asked for (dh-groups.ts).
 */
export function readGexGroup(payload: Uint8Array, min: number, max: number): DhGroup {
  expect(payload, MSG.KEX_DH_GEX_GROUP, "KEX_DH_GEX_GROUP");
  const r = new Reader(payload, 1);
  const p = r.mpint("DH group modulus p", P_MAX_BYTES);
  const g = r.mpint("DH group generator g", P_MAX_BYTES);
  r.done("KEX_DH_GEX_GROUP");
  return checkServerGroup(p, g, min, max);
}

/** Server: the client's KEX_DH_GEX_REQUEST (§3); the old form (30, n alone) is refused. */
export function readGexRequest(payload: Uint8Array): { min: number; n: number; max: number } {
  if (payload[0] === MSG.KEX_DH_GEX_REQUEST_OLD) {
    throw kexProtocolError(
      "client sent the old group exchange request (30, n alone); expected KEX_DH_GEX_REQUEST (34)",
    );
  }
  expect(payload, MSG.KEX_DH_GEX_REQUEST, "KEX_DH_GEX_REQUEST");
  const r = new Reader(payload, 1);
  const min = r.uint32("min");
  const n = r.uint32("n");
  const max = r.uint32("max");
  r.done("KEX_DH_GEX_REQUEST");
  return { min, n, max };
}

async function client(conn: KexConn): Promise<KexResult> {
  const min = GEX_MIN_BITS;
  const max = GEX_MAX_BITS;
  const n = gexPreferredBits(conn.needBits);
  conn.send(new Writer(16).byte(MSG.KEX_DH_GEX_REQUEST).uint32(min).uint32(n).uint32(max).bytes());
  const group = readGexGroup(await conn.next(), min, max);
  const dh = dhValueExchange(KEX_NAME.DH_GEX_SHA256, group.p, group.g, "sha256", exponentBits(group)).createClient(
    conn.provider,
    conn.random,
  );
  try {
    conn.send(new Writer(P_MAX_BYTES + 16).byte(MSG.KEX_DH_GEX_INIT).string(dh.clientValue).bytes());
    const reply = await conn.next();
    expect(reply, MSG.KEX_DH_GEX_REPLY, "KEX_DH_GEX_REPLY");
    const r = new Reader(reply, 1);
    const ks = r.string("server host key").slice();
    const f = r.string("server DH value f").slice();
    const signature = r.string("exchange hash signature").slice();
    r.done("KEX_DH_GEX_REPLY");
    conn.checkHostKey(ks);
    const k = dh.finish(f);
    const h = gexHash(conn, { ks, min, n, max, group, e: dh.clientValue, f, k });
    return { h, k, hostKey: ks, signature };
  } finally {
    dh.dispose();
  }
}

async function server(conn: KexConn): Promise<KexResult> {
  const { min, n, max } = readGexRequest(await conn.next());
  const group = chooseGroup(conn.dhGroups, min, n, max, conn.random);
  conn.send(new Writer(2 * P_MAX_BYTES + 16).byte(MSG.KEX_DH_GEX_GROUP).mpint(group.p).mpint(group.g).bytes());
  const init = await conn.next();
  expect(init, MSG.KEX_DH_GEX_INIT, "KEX_DH_GEX_INIT");
  const r = new Reader(init, 1);
  const e = r.string("client DH value e").slice();
  r.done("KEX_DH_GEX_INIT");
  const dh = dhValueExchange(KEX_NAME.DH_GEX_SHA256, group.p, group.g, "sha256", exponentBits(group)).createServer(
    conn.provider,
    conn.random,
  );
  try {
    const { serverValue: f, sharedSecret: k } = dh.respond(e);
    const ks = conn.hostKeyBlob();
    const h = gexHash(conn, { ks, min, n, max, group, e, f, k });
    const signature = conn.sign(h);
    conn.send(
      new Writer(ks.length + f.length + signature.length + 32)
        .byte(MSG.KEX_DH_GEX_REPLY)
        .string(ks)
        .string(f)
        .string(signature)
        .bytes(),
    );
    return { h, k, hostKey: ks, signature };
  } finally {
    dh.dispose();
  }
}

export const DH_GEX_SHA256: KexMethod = {
  name: KEX_NAME.DH_GEX_SHA256,
  hash: "sha256",
  postQuantum: false,
  client,
  server,
};
