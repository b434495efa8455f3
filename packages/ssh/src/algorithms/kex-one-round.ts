/**
 * The one-round message flow shared by every method whose exchange is one client value and
 * one server value: RFC 4253 §8 (KEXDH_INIT / KEXDH_REPLY), RFC 5656 §4 (ECDH_INIT /
 * ECDH_REPLY), RFC 8731 §3, and the post-quantum hybrids (draft-ietf-sshm-mlkem-hybrid-kex §2,
 * OpenSSH PROTOCOL): message 30 carries the client's value, 31 carries K_S, the server's
 * value and the signature over H. The value arithmetic is the method's `KexAlgorithm`.
 */
import { MSG } from "../wire/messages.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";
import { exchangeHash } from "./kdf.ts";
import type { KexConn, KexMethod, KexResult } from "./kex-method.ts";
import { kexProtocolError } from "./kex-method-errors.ts";
import type { KexAlgorithm } from "./types.ts";

/** A one-round method: its value exchange (tests drive it directly) and its message flow. */
export type OneRoundKex = KexAlgorithm & KexMethod;

async function runClient(alg: KexAlgorithm, conn: KexConn): Promise<KexResult> {
  const client = alg.createClient(conn.provider, conn.random);
  try {
    conn.send(new Writer(client.clientValue.length + 16).byte(MSG.KEX_ECDH_INIT).string(client.clientValue).bytes());
    const reply = await conn.next();
    if (reply[0] !== MSG.KEX_ECDH_REPLY)
      throw kexProtocolError(`expected KEX reply (31), got message type ${reply[0]}`);
    const r = new Reader(reply, 1);
    const ks = r.string("server host key").slice();
    const serverValue = r.string("server KEX value").slice();
    const signature = r.string("exchange hash signature").slice();
    r.done("KEX reply");
    // RFC 4253 §8: K_S is checked (cheap) before the reply's value costs any arithmetic.
    conn.checkHostKey(ks);
    const k = client.finish(serverValue);
    const m = conn.magics;
    const h = exchangeHash(conn.provider, alg.hash, {
      vc: m.clientVersion,
      vs: m.serverVersion,
      ic: m.clientKexInit,
      is: m.serverKexInit,
      ks,
      clientValue: client.clientValue,
      serverValue,
      k,
    });
    return { h, k, hostKey: ks, signature };
  } finally {
    client.dispose();
  }
}

async function runServer(alg: KexAlgorithm, conn: KexConn): Promise<KexResult> {
  const init = await conn.next();
  if (init[0] !== MSG.KEX_ECDH_INIT) throw kexProtocolError(`expected KEX init (30), got message type ${init[0]}`);
  const r = new Reader(init, 1);
  const clientValue = r.string("client KEX value").slice();
  r.done("KEX init");
  const server = alg.createServer(conn.provider, conn.random);
  try {
    const { serverValue, sharedSecret: k } = server.respond(clientValue);
    const ks = conn.hostKeyBlob();
    const m = conn.magics;
    const h = exchangeHash(conn.provider, alg.hash, {
      vc: m.clientVersion,
      vs: m.serverVersion,
      ic: m.clientKexInit,
      is: m.serverKexInit,
      ks,
      clientValue,
      serverValue,
      k,
    });
    const signature = conn.sign(h);
    conn.send(
      new Writer(ks.length + serverValue.length + signature.length + 32)
        .byte(MSG.KEX_ECDH_REPLY)
        .string(ks)
        .string(serverValue)
        .string(signature)
        .bytes(),
    );
    return { h, k, hostKey: ks, signature };
  } finally {
    server.dispose();
  }
}

/** Gives a one-round value exchange its message flow for both roles. */
export function oneRound(alg: KexAlgorithm, postQuantum = false): OneRoundKex {
  return {
    ...alg,
    name: alg.name,
    hash: alg.hash,
    createClient: alg.createClient,
    createServer: alg.createServer,
    postQuantum,
    client: (conn) => runClient(alg, conn),
    server: (conn) => runServer(alg, conn),
  };
}
