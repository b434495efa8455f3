/**
 * RFC 8308 §2.1–§2.4 (extension negotiation): EXT_INFO in both directions. Our server offers
 * `ext-info-s`, so a client may send its own EXT_INFO — but only as the very next packet after
 * its first NEWKEYS (§2.3). A fake client built from our own client transport, stepped by hand,
 * sends one at the right moment and at wrong ones, against our server front (serveConnection)
 * over an in-memory pair.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_ALGORITHMS } from "../src/client.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import { systemRandom } from "../src/crypto/provider.ts";
import { SshError } from "../src/errors.ts";
import { generateEd25519 } from "../src/keys/generate.ts";
import type { HostKeyVerifier } from "../src/keys/types.ts";
import { memoryPair } from "../src/runtime/memory.ts";
import { type SshServerConnection, serveConnection } from "../src/server.ts";
import { Transport } from "../src/transport/transport.ts";
import { MSG } from "../src/wire/messages.ts";
import { Writer } from "../src/wire/writer.ts";

const hostKey = generateEd25519(nobleProvider);
const enc = (s: string) => new TextEncoder().encode(s);

/** SSH_MSG_EXT_INFO (RFC 8308 §2.3): uint32 count, then (string name, string value) pairs. */
function extInfo(entries: [string, Uint8Array][], count = entries.length): Uint8Array {
  const w = new Writer(256).byte(MSG.EXT_INFO).uint32(count);
  for (const [name, value] of entries) w.string(name).string(value);
  return w.bytes();
}

/** What a client such as PuTTY or libssh may announce (RFC 8308 §3.2, §3.3), and one nobody knows. */
const CLIENT_EXTENSIONS: [string, Uint8Array][] = [
  ["delay-compression", new Writer().nameList(["none"]).nameList(["none"]).bytes()],
  ["no-flow-control", enc("p")],
  ["x-unknown@example.com", Uint8Array.of(0, 1, 2, 255)],
];
const EXT_INFO = extInfo(CLIENT_EXTENSIONS);
const IGNORE = new Writer().byte(MSG.IGNORE).string("x").bytes();
const SERVICE_REQUEST = new Writer().byte(MSG.SERVICE_REQUEST).string("ssh-userauth").bytes();

interface Run {
  client: Transport;
  server: SshServerConnection;
  /** Message types the fake client received above the transport. */
  received: number[];
  clientClosed: Promise<Error | undefined>;
  serverClosed: Promise<Error | undefined>;
  /** Resolves when the client has received a message of this type. */
  receivedType(type: number): Promise<void>;
}

/**
 * Our server, and a client transport whose `onKexDone` (called right after each exchange's
 * NEWKEYS both ways, before the client sends anything else) runs `script`.
 */
function run(
  script: (client: Transport, first: boolean) => void,
  verify: (client: () => Transport) => HostKeyVerifier = () => () => true,
): Run {
  const [a, b] = memoryPair();
  const server = serveConnection(b, { hostKeys: [hostKey], auth: { allowNone: true } });
  const serverClosed = new Promise<Error | undefined>((r) => server.onceClosed(r));
  const received: number[] = [];
  const waiters: { type: number; resolve: () => void }[] = [];
  let closeResolve!: (e?: Error) => void;
  const clientClosed = new Promise<Error | undefined>((r) => {
    closeResolve = r;
  });
  const client: Transport = new Transport({
    role: "client",
    conn: a,
    algorithms: { ...DEFAULT_ALGORITHMS },
    provider: nobleProvider,
    random: systemRandom,
    host: "fake",
    port: 22,
    verifyHostKey: verify(() => client),
    onMessage: (p) => {
      const type = p[0] as number;
      received.push(type);
      for (const w of waiters) if (w.type === type) w.resolve();
      return true;
    },
    onClose: (e) => closeResolve(e),
    onKexDone: (first) => script(client, first),
  });
  client.start();
  return {
    client,
    server,
    received,
    clientClosed,
    serverClosed,
    receivedType: (type) =>
      received.includes(type) ? Promise.resolve() : new Promise((resolve) => waiters.push({ type, resolve })),
  };
}

/** The server refused: it closed with a protocol error, and told the client why (reason 2). */
async function expectRefused(r: Run, code: string, fragment: RegExp): Promise<void> {
  const err = await r.serverClosed;
  expect(err).toBeInstanceOf(SshError);
  expect((err as SshError).code).toBe(code);
  expect((err as SshError).message).toMatch(fragment);
  const seen = (await r.clientClosed) as SshError;
  expect(seen.code).toBe("DISCONNECTED");
  expect(seen.reason).toBe(2);
  expect(r.server.info.peerExtensions.size).toBe(0);
}

const WRONG_TIME = /client sent EXT_INFO at the wrong time: RFC 8308 §2\.3/;

describe("EXT_INFO (RFC 8308)", () => {
  it("EXT_INFO goes both ways: a server that offered ext-info-s accepts the client's EXT_INFO after its first NEWKEYS", async () => {
    const r = run((client, first) => {
      if (!first) return;
      client.sendTransport(EXT_INFO);
      client.send(SERVICE_REQUEST);
    });
    // The connection carries on: the request that follows is answered.
    await r.receivedType(MSG.SERVICE_ACCEPT);
    expect(r.received).toEqual([MSG.SERVICE_ACCEPT]);
    // The server read what the client said, unknown extensions included, value for value.
    expect([...r.server.info.peerExtensions.keys()]).toEqual(CLIENT_EXTENSIONS.map(([n]) => n));
    for (const [name, value] of CLIENT_EXTENSIONS) expect(r.server.info.peerExtensions.get(name)).toEqual(value);
    // And the other way, as before: the client has the server's server-sig-algs (§2.4, §3.1).
    expect(r.client.serverSigAlgs).toContain("ssh-ed25519");
    expect([...r.client.info.peerExtensions.keys()]).toEqual(["server-sig-algs"]);
    r.client.disconnect();
  });

  it("an EXT_INFO with no extensions at the right moment is accepted too", async () => {
    const r = run((client, first) => {
      if (!first) return;
      client.sendTransport(extInfo([]));
      client.send(SERVICE_REQUEST);
    });
    await r.receivedType(MSG.SERVICE_ACCEPT);
    expect(r.server.info.peerExtensions.size).toBe(0);
    r.client.disconnect();
  });

  it("the client's EXT_INFO is refused when another packet came first after its NEWKEYS", async () => {
    const r = run((client, first) => {
      if (!first) return;
      client.sendTransport(IGNORE);
      client.sendTransport(EXT_INFO);
    });
    await expectRefused(r, "PROTOCOL_ERROR", WRONG_TIME);
  });

  it("the client's EXT_INFO is refused the second time", async () => {
    const r = run((client, first) => {
      if (!first) return;
      client.sendTransport(EXT_INFO);
      client.sendTransport(EXT_INFO);
    });
    const err = (await r.serverClosed) as SshError;
    expect(err.code).toBe("PROTOCOL_ERROR");
    expect(err.message).toMatch(WRONG_TIME);
  });

  it("the client's EXT_INFO is refused after a later NEWKEYS (re-exchange)", async () => {
    const r = run((client, first) => {
      if (first) client.beginKex();
      else client.sendTransport(EXT_INFO);
    });
    await expectRefused(r, "PROTOCOL_ERROR", WRONG_TIME);
    expect(r.server.info.kexCount).toBe(2);
  });

  it("the client's EXT_INFO is refused during the key exchange, before its NEWKEYS", async () => {
    // The verifier runs after the KEX reply and before the client's NEWKEYS.
    const r = run(
      () => {},
      (client) => () => {
        client().sendTransport(EXT_INFO);
        return true;
      },
    );
    await expectRefused(r, "STRICT_KEX_VIOLATION", /unexpected message type 7 during the initial key exchange/);
  });

  it("a truncated EXT_INFO at the right moment is still a protocol error", async () => {
    const r = run((client, first) => {
      if (first) client.sendTransport(extInfo(CLIENT_EXTENSIONS.slice(0, 1), 2));
    });
    const err = (await r.serverClosed) as SshError;
    expect(err.code).toBe("PROTOCOL_ERROR");
    expect(err.message).toMatch(/extension name/);
  });
});
