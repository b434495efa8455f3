/**
 * Strict KEX (OpenSSH PROTOCOL §1.10, CVE-2023-48795 "Terrapin") and the transport state
 * machine, driven by an in-memory fake server built from our own server transport, stepped by
 * hand so it can send the wrong thing at the wrong time.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_ALGORITHMS } from "../src/client.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import { systemRandom } from "../src/crypto/provider.ts";
import { SshError } from "../src/errors.ts";
import { generateEd25519 } from "../src/keys/generate.ts";
import type { HostKeyVerifier, PrivateKey } from "../src/keys/types.ts";
import { memoryPair } from "../src/runtime/memory.ts";
import { Transport, type TransportOptions } from "../src/transport/transport.ts";
import { MSG } from "../src/wire/messages.ts";
import { Writer } from "../src/wire/writer.ts";

const hostKey = generateEd25519(nobleProvider);
const IGNORE = new Writer().byte(MSG.IGNORE).string("x").bytes();
const DEBUG = new Writer().byte(MSG.DEBUG).boolean(false).string("dbg").string("").bytes();
const UNIMPLEMENTED = new Writer().byte(MSG.UNIMPLEMENTED).uint32(0).bytes();

interface Peer {
  t: Transport;
  closed: Promise<Error | undefined>;
  kexDone: Promise<void>;
  received: number[];
}

function peer(
  role: "client" | "server",
  conn: ReturnType<typeof memoryPair>[0],
  over: Partial<TransportOptions> = {},
): Peer {
  const received: number[] = [];
  let closeResolve!: (e?: Error) => void;
  let kexResolve!: () => void;
  const closed = new Promise<Error | undefined>((r) => {
    closeResolve = r;
  });
  const kexDone = new Promise<void>((r) => {
    kexResolve = r;
  });
  const t = new Transport({
    role,
    conn,
    algorithms: { ...DEFAULT_ALGORITHMS },
    provider: nobleProvider,
    random: systemRandom,
    host: "fake",
    port: 22,
    ...(role === "client" ? { verifyHostKey: () => true } : { hostKeys: [hostKey] as PrivateKey[] }),
    onMessage: (p) => {
      received.push(p[0] as number);
      return true;
    },
    onClose: (e) => closeResolve(e),
    onKexDone: () => kexResolve(),
    ...over,
  });
  return { t, closed, kexDone, received };
}

function setup(serverOver: Partial<TransportOptions> = {}, clientOver: Partial<TransportOptions> = {}) {
  const [a, b] = memoryPair();
  const client = peer("client", a, clientOver);
  const server = peer("server", b, serverOver);
  return { client, server };
}

async function expectClose(p: Peer, code: string, fragment: RegExp): Promise<void> {
  const err = await p.closed;
  expect(err).toBeInstanceOf(SshError);
  expect((err as SshError).code).toBe(code);
  expect((err as Error).message).toMatch(fragment);
}

const tick = () => new Promise((r) => setTimeout(r, 20));

describe("strict KEX (CVE-2023-48795)", () => {
  it.each([
    ["IGNORE", IGNORE],
    ["DEBUG", DEBUG],
    ["UNIMPLEMENTED", UNIMPLEMENTED],
  ])("TestStrictKexRejects%sBeforeKexInit: the server's KEXINIT must be its first packet", async (_n, msg) => {
    const { client, server } = setup();
    client.t.start();
    server.t.sendVersion();
    server.t.sendTransport(msg);
    server.t.beginKex();
    await expectClose(client, "STRICT_KEX_VIOLATION", /KEXINIT was not the first packet/);
  });

  it.each([
    ["IGNORE", IGNORE],
    ["DEBUG", DEBUG],
    ["UNIMPLEMENTED", UNIMPLEMENTED],
  ])("TestStrictKexRejects%sDuringInitialKex", async (_n, msg) => {
    const { client, server } = setup();
    client.t.start();
    server.t.start();
    server.t.sendTransport(msg);
    await expectClose(client, "STRICT_KEX_VIOLATION", /unexpected message type \d during the initial key exchange/);
  });

  it("TestNonStrictPeerMayInterleaveIgnore: the same injections pass when the server does not offer strict KEX", async () => {
    const { client, server } = setup({ strictKex: false });
    client.t.start();
    server.t.sendVersion();
    server.t.sendTransport(IGNORE);
    server.t.beginKex();
    server.t.sendTransport(DEBUG);
    await Promise.all([client.kexDone, server.kexDone]);
    expect(client.t.info.strictKex).toBe(false);
  });

  it("TestStrictKexResetsSequenceNumbers: both sides restart at 0 after each NEWKEYS, rekeys included", async () => {
    const { client, server } = setup();
    client.t.start();
    server.t.start();
    await Promise.all([client.kexDone, server.kexDone]);
    expect(client.t.info.strictKex).toBe(true);
    // After NEWKEYS the client sent nothing yet; the server sent only EXT_INFO (RFC 8308 §2.4).
    expect(client.t.writer.seq).toBe(0);
    expect(server.t.reader.seq).toBe(0);
    expect(client.t.reader.seq).toBe(1);
    for (let i = 0; i < 5; i++) client.t.send(new Writer().byte(80).string("x").boolean(false).bytes());
    await tick();
    expect(server.t.reader.seq).toBe(5);
    client.t.beginKex();
    await tick();
    await tick();
    expect(client.t.info.kexCount).toBe(2);
    expect(client.t.writer.seq).toBe(0);
    expect(server.t.reader.seq).toBe(0);
  });

  it("TestNonStrictKeepsSequenceNumbers: without strict KEX the counters run on", async () => {
    const { client, server } = setup({ strictKex: false });
    client.t.start();
    server.t.start();
    await Promise.all([client.kexDone, server.kexDone]);
    expect(client.t.writer.seq).toBeGreaterThan(0);
  });
});

describe("transport state machine", () => {
  it("a connection-layer message during the key exchange is a protocol error", async () => {
    const { client, server } = setup({ strictKex: false });
    client.t.start();
    server.t.start();
    server.t.sendTransport(new Writer().byte(MSG.CHANNEL_DATA).uint32(0).string("x").bytes());
    await expectClose(client, "PROTOCOL_ERROR", /not allowed during a key exchange/);
  });

  it("a second KEXINIT during a key exchange is a protocol error", async () => {
    const { client, server } = setup({ strictKex: false });
    client.t.start();
    server.t.start();
    server.t.sendTransport(new Writer().byte(MSG.KEXINIT).raw(new Uint8Array(16)).bytes());
    const err = await client.closed;
    expect((err as SshError).code).toMatch(/PROTOCOL_ERROR/);
  });

  it("NEWKEYS before the key exchange reply is a protocol error", async () => {
    const { client, server } = setup({ strictKex: false });
    client.t.start();
    server.t.start();
    server.t.sendTransport(Uint8Array.of(MSG.NEWKEYS));
    await expectClose(client, "PROTOCOL_ERROR", /NEWKEYS before the key exchange reply/);
  });

  it("a service message before the first key exchange is a protocol error", async () => {
    const { client, server } = setup({ strictKex: false });
    client.t.start();
    server.t.sendVersion();
    server.t.sendTransport(new Writer().byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").bytes());
    await expectClose(client, "PROTOCOL_ERROR", /expected KEXINIT, got message type 6/);
  });

  it("DISCONNECT surfaces as a typed error with the peer's reason code", async () => {
    const { client, server } = setup();
    client.t.start();
    server.t.start();
    await client.kexDone;
    server.t.disconnect(12, "too many connections");
    const err = (await client.closed) as SshError;
    expect(err.code).toBe("DISCONNECTED");
    expect(err.reason).toBe(12);
    expect(err.message).toBe("server disconnected: too many connections (reason 12: TOO_MANY_CONNECTIONS)");
  });

  it("re-exchange started by the server, with messages in flight both ways, loses nothing", async () => {
    const { client, server } = setup();
    client.t.start();
    server.t.start();
    await Promise.all([client.kexDone, server.kexDone]);
    const msg = (i: number) => new Writer().byte(80).string(`m${i}`).boolean(false).bytes();
    for (let i = 0; i < 50; i++) {
      client.t.send(msg(i));
      server.t.send(msg(i));
      if (i === 10) server.t.beginKex();
    }
    for (let i = 0; i < 20 && (client.received.length < 50 || server.received.length < 50); i++) await tick();
    expect(client.received).toHaveLength(50);
    expect(server.received).toHaveLength(50);
    expect(client.t.info.kexCount).toBe(2);
  });

  it("rekeys by itself after rekeyBytes, and with a different hash length on the second exchange", async () => {
    const serverAlgs = { ...DEFAULT_ALGORITHMS, kex: ["curve25519-sha256"] };
    const { client, server } = setup({ algorithms: serverAlgs }, { rekeyBytes: 64 * 1024 });
    client.t.start();
    server.t.start();
    await Promise.all([client.kexDone, server.kexDone]);
    serverAlgs.kex = ["diffie-hellman-group16-sha512"];
    for (let i = 0; i < 40; i++)
      client.t.send(new Writer().byte(80).string(new Uint8Array(4096)).boolean(false).bytes());
    for (let i = 0; i < 200 && client.t.info.kexCount < 2; i++) await tick();
    expect(client.t.info.kexCount).toBeGreaterThanOrEqual(2);
    expect(client.t.info.negotiated?.kex).toBe("diffie-hellman-group16-sha512");
    for (let i = 0; i < 200 && server.received.length < 40; i++) await tick();
    expect(server.received).toHaveLength(40);
  });

  it("the outgoing queue during a key exchange is bounded: overflowing it fails the connection, never throws", async () => {
    const { client, server } = setup({}, { maxQueueBytes: 10_000 });
    client.t.start();
    server.t.start();
    await Promise.all([client.kexDone, server.kexDone]);
    client.t.beginKex();
    const big = new Writer().byte(80).string(new Uint8Array(4000)).boolean(false).bytes();
    client.t.send(big);
    client.t.send(big);
    expect(client.t.closed).toBe(false);
    expect(() => client.t.send(big)).not.toThrow();
    expect(client.t.closed).toBe(true);
    const err = await client.closed;
    expect(err).toBeInstanceOf(SshError);
    expect((err as SshError).code).toBe("QUEUE_FULL");
    expect(err?.message).toMatch(/outgoing queue full during key exchange \(10000 bytes\)/);
    // Sending on a closed transport drops the message quietly: the close was already reported.
    expect(() => client.t.send(big)).not.toThrow();
  });
});

describe("host-key verification is mandatory", () => {
  const cases: [string, HostKeyVerifier][] = [
    ["returns false", () => false],
    [
      "throws",
      () => {
        throw new Error("nope");
      },
    ],
    ["rejects", () => Promise.reject(new Error("nope"))],
  ];
  it.each(cases)("a verifier that %s aborts before NEWKEYS, so no USERAUTH can follow", async (_n, verifier) => {
    const { client, server } = setup({}, { verifyHostKey: verifier });
    client.t.start();
    server.t.start();
    const err = (await client.closed) as SshError;
    expect(err.code).toBe("HOST_KEY_REJECTED");
    await tick();
    // The server never completed a key exchange: the client sent no NEWKEYS.
    expect(server.t.info.kexCount).toBe(0);
    expect(server.received).toEqual([]);
  });

  it("a verifier's own SshError passes through unchanged", async () => {
    const { client, server } = setup(
      {},
      {
        verifyHostKey: () => {
          throw new SshError("HOST_KEY_CHANGED", "host key for x has changed");
        },
      },
    );
    client.t.start();
    server.t.start();
    await expectClose(client, "HOST_KEY_CHANGED", /has changed/);
  });

  it("an undecided verifier holds the handshake: no NEWKEYS is sent", async () => {
    const { client, server } = setup({}, { verifyHostKey: () => new Promise<boolean>(() => {}) });
    client.t.start();
    server.t.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(server.t.info.kexCount).toBe(0);
    expect(client.t.info.kexCount).toBe(0);
  });

  it("the verifier sees the host, port, negotiated algorithm, key and SHA256 fingerprint", async () => {
    let seen: Parameters<HostKeyVerifier>[0] | undefined;
    const { client, server } = setup(
      {},
      {
        verifyHostKey: (info) => {
          seen = info;
          return true;
        },
      },
    );
    client.t.start();
    server.t.start();
    await client.kexDone;
    expect(seen?.host).toBe("fake");
    expect(seen?.algorithm).toBe("ssh-ed25519");
    expect(seen?.key.blob).toEqual(hostKey.publicKey.blob);
    expect(seen?.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it("a signature by another key than K_S is refused", async () => {
    const other = generateEd25519(nobleProvider);
    const liar: PrivateKey = { ...hostKey, sign: (d, a) => other.sign(d, a) };
    const { client, server } = setup({ hostKeys: [liar] });
    client.t.start();
    server.t.start();
    await expectClose(client, "BAD_SIGNATURE", /did not verify/);
  });

  it("a host key of another type than negotiated is refused", async () => {
    const liar: PrivateKey = {
      ...hostKey,
      signatureAlgorithms: ["ecdsa-sha2-nistp256"],
      sign: (d) => hostKey.sign(d, "ssh-ed25519"),
    };
    const { client, server } = setup({ hostKeys: [liar] });
    client.t.start();
    server.t.start();
    await expectClose(client, "KEX_FAILED", /server host key is ssh-ed25519, but ecdsa-sha2-nistp256 was negotiated/);
  });

  it("K_S with trailing bytes is refused", async () => {
    const liar: PrivateKey = {
      ...hostKey,
      publicKey: { ...hostKey.publicKey, blob: Uint8Array.from([...hostKey.publicKey.blob, 0]) },
    };
    const { client, server } = setup({ hostKeys: [liar] });
    client.t.start();
    server.t.start();
    await expectClose(client, "KEY_FORMAT", /trailing bytes/);
  });
});
