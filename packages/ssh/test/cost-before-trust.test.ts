/**
 * Cost before trust (issue 12, item 1): a peer that has not authenticated — a client before
 * USERAUTH_SUCCESS, a server before its host key is checked — must not be able to buy seconds
 * of our CPU with one big number. Every size is bounded from its length field before any
 * conversion or arithmetic (RFC 4253 §8 DH values below p, RFC 5656 §4 / RFC 8731 §3 points of
 * their exact encoded length, RSA moduli of at most 16,384 bits with exponents of at most 64),
 * and the bytes-to-bigint conversion is linear in any case.
 *
 * Each rule is driven by an in-process fake peer that speaks raw SSH (bytes in, verdict out)
 * against our real transport, client or server, over a memory pair. Each hostile handshake
 * must fail closed with a named SshError and cost little CPU: the budget is 50 ms; the
 * assertions allow 10× that, so they hold on a busy shared machine, while the code before the
 * fix took 40 s or more on every one of them.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CIPHERS } from "../src/algorithms/cipher.ts";
import { MODP_2048, MODP_4096 } from "../src/algorithms/kex-dh.ts";
import { DEFAULT_MACS } from "../src/algorithms/mac.ts";
import { ECDSA_SIGNATURES } from "../src/algorithms/sig-ecdsa.ts";
import { DEFAULT_ALGORITHMS } from "../src/client.ts";
import { bitLength, bytesToBigint } from "../src/crypto/bigint.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import { systemRandom } from "../src/crypto/provider.ts";
import { checkRsaPublic } from "../src/crypto/rsa.ts";
import { SshError } from "../src/errors.ts";
import { generateEd25519 } from "../src/keys/generate.ts";
import { parsePrivateKey } from "../src/keys/private-key.ts";
import { parsePublicKeyBlob } from "../src/keys/public-key.ts";
import type { PrivateKey, PublicKey } from "../src/keys/types.ts";
import { memoryPair } from "../src/runtime/memory.ts";
import type { Conn } from "../src/runtime/types.ts";
import { SshServerConnection } from "../src/server.ts";
import { encodeKexInit } from "../src/transport/kexinit.ts";
import { Transport } from "../src/transport/transport.ts";
import { encodeVersionLine } from "../src/transport/version.ts";
import { encodeBase64 } from "../src/wire/base64.ts";
import { MSG } from "../src/wire/messages.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";

/** The assertion's CPU budget per hostile handshake (the target is 50 ms). */
const CPU_BUDGET_MS = 500;

/** CPU time of this process in ms (user + system); wall time where a runtime has no such count. */
function cpuMs(): number {
  const usage = typeof process !== "undefined" ? process.cpuUsage?.() : undefined;
  return usage ? (usage.user + usage.system) / 1000 : performance.now();
}

const hostKey = generateEd25519(nobleProvider);

// Our own side's first key pair on each curve builds noble's tables (up to 170 ms for P-521,
// once per process, whoever the peer is); build them now so the budgets below measure what a
// hostile handshake costs, not the process's first one.
beforeAll(() => {
  for (const curve of ["p256", "p384", "p521"] as const) nobleProvider.ecdh.generate(curve);
  nobleProvider.x25519.generate();
});

// ---- numbers and blobs a hostile peer sends ------------------------------------------------

/** `n` bytes of a positive big-endian number: top byte 0x7f (no sign pad needed), odd. */
function bigPositive(n: number): Uint8Array {
  const b = new Uint8Array(n).fill(0xa5);
  b[0] = 0x7f;
  b[n - 1] = 0x01;
  return b;
}

/** An odd 2048-bit number: a plausible RSA modulus as far as parsing can tell. */
const MODULUS_2048 = (1n << 2047n) | (0x1234567n << 1000n) | 1n;

/** string("ssh-rsa") ‖ mpint e ‖ mpint n, from the raw mpint contents (so any size can be sent). */
function rsaBlobRaw(e: Uint8Array, n: Uint8Array): Uint8Array {
  return new Writer(e.length + n.length + 64).string("ssh-rsa").string(e).string(n).bytes();
}

const rsaBlob = (e: bigint, n: bigint) => new Writer(600).string("ssh-rsa").mpint(e).mpint(n).bytes();

const rsaSignature = new Writer(300).string("rsa-sha2-256").string(new Uint8Array(256).fill(1)).bytes();
const ed25519Signature = new Writer(100).string("ssh-ed25519").string(new Uint8Array(64).fill(1)).bytes();

// ---- the fake peer ---------------------------------------------------------------------------

/**
 * A peer speaking raw SSH before NEWKEYS: an identification line, then plaintext binary packets
 * (RFC 4253 §6, no cipher and no MAC yet). It records every payload our side sends.
 */
class RawPeer {
  private buf = new Uint8Array(0);
  private sawVersion = false;
  readonly payloads: Uint8Array[] = [];
  private waiters: { type: number; resolve: (p: Uint8Array) => void }[] = [];

  constructor(private readonly conn: Conn) {
    conn.setHandlers({ data: (chunk) => this.onData(chunk), drain: () => {}, end: () => {}, close: () => {} });
  }

  sendVersion(): void {
    this.conn.write(encodeVersionLine("FakePeer_1.0"));
  }

  /** One plaintext packet: length, padding length, payload, padding to a multiple of 8. */
  sendPacket(payload: Uint8Array): void {
    let padding = 8 - ((5 + payload.length) % 8);
    if (padding < 4) padding += 8;
    const w = new Writer(payload.length + 32)
      .uint32(1 + payload.length + padding)
      .byte(padding)
      .raw(payload)
      .raw(new Uint8Array(padding));
    this.conn.write(w.bytes());
  }

  /** The first payload of message `type` our side sent (waits for it). */
  next(type: number): Promise<Uint8Array> {
    const seen = this.payloads.find((p) => p[0] === type);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ type, resolve }));
  }

  /** The reason code of our side's DISCONNECT (waits for it). */
  async disconnectReason(): Promise<number> {
    return new Reader(await this.next(MSG.DISCONNECT), 1).uint32();
  }

  private onData(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf);
    joined.set(chunk, this.buf.length);
    this.buf = joined;
    if (!this.sawVersion) {
      const lf = this.buf.indexOf(0x0a);
      if (lf < 0) return;
      this.sawVersion = true;
      this.buf = this.buf.subarray(lf + 1);
    }
    while (this.buf.length >= 4) {
      const len = new DataView(this.buf.buffer, this.buf.byteOffset).getUint32(0);
      if (this.buf.length < 4 + len) return;
      const padding = this.buf[4] as number;
      const payload = this.buf.slice(5, 4 + len - padding);
      this.buf = this.buf.subarray(4 + len);
      this.payloads.push(payload);
      for (const w of this.waiters.filter((x) => x.type === payload[0])) w.resolve(payload);
      this.waiters = this.waiters.filter((x) => x.type !== payload[0]);
    }
  }
}

/** A KEXINIT offering exactly one key exchange and one host key algorithm. */
function kexInit(kex: string, hostKeyAlgorithm: string): Uint8Array {
  return encodeKexInit({
    cookie: new Uint8Array(16).fill(7),
    kex: [kex],
    hostKey: [hostKeyAlgorithm],
    cipherC2S: [...DEFAULT_CIPHERS],
    cipherS2C: [...DEFAULT_CIPHERS],
    macC2S: [...DEFAULT_MACS],
    macS2C: [...DEFAULT_MACS],
    compressionC2S: ["none"],
    compressionS2C: ["none"],
    languagesC2S: [],
    languagesS2C: [],
    firstKexPacketFollows: false,
  });
}

interface Ours {
  t: Transport;
  closed: Promise<Error | undefined>;
  hostKeyChecks: number;
}

function ours(role: "client" | "server", conn: Conn): Ours {
  let resolveClosed!: (e?: Error) => void;
  const closed = new Promise<Error | undefined>((r) => {
    resolveClosed = r;
  });
  const o: Ours = { t: undefined as unknown as Transport, closed, hostKeyChecks: 0 };
  o.t = new Transport({
    role,
    conn,
    algorithms: { ...DEFAULT_ALGORITHMS },
    provider: nobleProvider,
    random: systemRandom,
    host: "fake",
    port: 22,
    ...(role === "client"
      ? {
          verifyHostKey: () => {
            o.hostKeyChecks++;
            return true;
          },
        }
      : { hostKeys: [hostKey] as PrivateKey[] }),
    onMessage: () => true,
    onClose: (e) => resolveClosed(e),
  });
  return o;
}

interface Verdict {
  err: Error | undefined;
  cpu: number;
  peer: RawPeer;
  us: Ours;
}

/** Our server against a fake client that sends `kexInitPayload` (30) with `clientValue`. */
async function hostileClient(kex: string, clientValue: Uint8Array): Promise<Verdict> {
  const [a, b] = memoryPair();
  const peer = new RawPeer(a);
  const start = cpuMs();
  const us = ours("server", b);
  us.t.start();
  peer.sendVersion();
  peer.sendPacket(kexInit(kex, "ssh-ed25519"));
  peer.sendPacket(new Writer(clientValue.length + 16).byte(MSG.KEX_ECDH_INIT).string(clientValue).bytes());
  const err = await us.closed;
  return { err, cpu: cpuMs() - start, peer, us };
}

/** Our client against a fake server that answers its KEX init with (K_S, f, signature). */
async function hostileServer(
  kex: string,
  hostKeyAlgorithm: string,
  ks: Uint8Array,
  serverValue: Uint8Array,
  signature: Uint8Array,
): Promise<Verdict> {
  const [a, b] = memoryPair();
  const peer = new RawPeer(b);
  const start = cpuMs();
  const us = ours("client", a);
  us.t.start();
  peer.sendVersion();
  peer.sendPacket(kexInit(kex, hostKeyAlgorithm));
  await peer.next(MSG.KEX_ECDH_INIT);
  peer.sendPacket(
    new Writer(ks.length + serverValue.length + signature.length + 32)
      .byte(MSG.KEX_ECDH_REPLY)
      .string(ks)
      .string(serverValue)
      .string(signature)
      .bytes(),
  );
  const err = await us.closed;
  return { err, cpu: cpuMs() - start, peer, us };
}

function expectRefused(v: Verdict, code: string, message: RegExp): void {
  expect(v.err).toBeInstanceOf(SshError);
  expect((v.err as SshError).code).toBe(code);
  expect((v.err as Error).message).toMatch(message);
  expect(v.cpu).toBeLessThan(CPU_BUDGET_MS);
}

/** About the largest value that still fits one packet (RFC 4253 §6.1, our 256 KiB limit). */
const LARGEST = 256 * 1024 - 64;
/** The same in a KEX reply, which carries K_S and a signature next to it. */
const LARGEST_IN_REPLY = 256 * 1024 - 256;

// ---- the conversion itself -------------------------------------------------------------------

describe("CostBeforeTrust: big-number conversion is linear", () => {
  it("bytesToBigint agrees with the definition on edge cases", () => {
    const reference = (b: Uint8Array) => b.reduce((v, x) => (v << 8n) | BigInt(x), 0n);
    const cases = [
      new Uint8Array(0),
      Uint8Array.of(0),
      Uint8Array.of(0, 0, 1),
      Uint8Array.of(0xff),
      Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0, 0x01),
      Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff),
    ];
    for (const b of cases) expect(bytesToBigint(b)).toBe(reference(b));
    expect(bitLength(0n)).toBe(0);
    expect(bitLength(1n)).toBe(1);
    expect(bitLength(MODP_2048)).toBe(2048);
    expect(bitLength((1n << 16384n) - 1n)).toBe(16384);
  });

  it("CostBeforeTrust: bytesToBigint converts 1 MiB in well under a second of CPU", () => {
    // A shift-and-or per byte took minutes on this size (and 40 s on 256 KiB).
    const b = bigPositive(1024 * 1024);
    const start = cpuMs();
    const v = bytesToBigint(b);
    const spent = cpuMs() - start;
    expect(bitLength(v)).toBe(8 * 1024 * 1024 - 1);
    expect(v & 0xffn).toBe(1n);
    expect(spent).toBeLessThan(1000);
  });

  it("CostBeforeTrust: an mpint longer than its bound is refused from its length field alone", () => {
    // The length field claims 2 GiB and nothing follows: the bound is named, not "truncated".
    const claim = new Writer().uint32(0x7fffffff).bytes();
    expect(() => new Reader(claim).mpint("DH f", 257)).toThrow(/DH f has 2147483647 bytes, more than the 257 allowed/);
    expect(() => new Reader(claim).mpintBytes("RSA modulus", 2048)).toThrow(/more than the 2048 allowed/);
    // By default an mpint is bounded too (16,384 bits, the largest RSA modulus).
    expect(() => new Reader(claim).mpint()).toThrow(/more than the 2048 allowed/);
  });

  it("an mpint at its bound passes, with a sign pad on top; one byte more is refused", () => {
    const top = new Uint8Array(8).fill(0xff);
    const padded = new Writer().mpintFromBytes(top).bytes(); // 00 ff×8: nine bytes
    expect(new Reader(padded).mpintBytes("e", 8)).toEqual(top);
    expect(new Reader(padded).mpint("e", 8)).toBe((1n << 64n) - 1n);
    const nine = new Writer().mpintFromBytes(Uint8Array.of(1, ...top)).bytes();
    expect(() => new Reader(nine).mpintBytes("e", 8)).toThrow(/e has 9 bytes, more than the 8 allowed/);
    expect(new Reader(new Writer().mpint(-129n).bytes()).mpint("v", 8)).toBe(-129n);
  });
});

// ---- DH values (RFC 4253 §8) -----------------------------------------------------------------

describe("CostBeforeTrust: DH values are bounded by p before any arithmetic", () => {
  it.each([
    ["diffie-hellman-group14-sha256", 256],
    ["diffie-hellman-group16-sha512", 512],
  ])(
    "CostBeforeTrust: a DH e longer than p is refused before any arithmetic (%s, 256 KiB e in KEXDH_INIT to our server)",
    async (kex, pBytes) => {
      const v = await hostileClient(kex, bigPositive(LARGEST));
      expectRefused(v, "KEX_FAILED", new RegExp(`client's DH value is ${LARGEST} bytes long.*at most ${pBytes + 1}`));
      expect(await v.peer.disconnectReason()).toBe(3); // KEY_EXCHANGE_FAILED
      expect(v.peer.payloads.some((p) => p[0] === MSG.KEX_ECDH_REPLY)).toBe(false);
    },
  );

  it("CostBeforeTrust: a DH e one byte longer than p without a sign pad is refused", async () => {
    const v = await hostileClient("diffie-hellman-group14-sha256", bigPositive(257));
    expectRefused(v, "KEX_FAILED", /client's DH value is 257 bytes long/);
  });

  it("control: a DH e of p's size passes the bound and gets a KEXDH_REPLY", async () => {
    // Proves the fake client is heard: the refusals above are verdicts on the size alone.
    const [a, b] = memoryPair();
    const peer = new RawPeer(a);
    const us = ours("server", b);
    us.t.start();
    peer.sendVersion();
    peer.sendPacket(kexInit("diffie-hellman-group14-sha256", "ssh-ed25519"));
    const e = new Writer()
      .mpint(MODP_2048 - 5n)
      .bytes()
      .subarray(4); // 00 ff… : 257 bytes
    expect(e.length).toBe(257);
    peer.sendPacket(new Writer(300).byte(MSG.KEX_ECDH_INIT).string(e).bytes());
    const reply = await peer.next(MSG.KEX_ECDH_REPLY);
    expect(reply.length).toBeGreaterThan(256);
    us.t.disconnect();
  });

  it.each([
    ["diffie-hellman-group14-sha256", 256],
    ["diffie-hellman-group16-sha512", 512],
  ])(
    "CostBeforeTrust: a DH f longer than p is refused before any arithmetic (%s, 256 KiB f to our client)",
    async (kex, pBytes) => {
      const f = bigPositive(LARGEST_IN_REPLY);
      const v = await hostileServer(kex, "ssh-ed25519", hostKey.publicKey.blob, f, ed25519Signature);
      expectRefused(
        v,
        "KEX_FAILED",
        new RegExp(`server's DH value is ${LARGEST_IN_REPLY} bytes long.*at most ${pBytes + 1}`),
      );
      expect(v.us.hostKeyChecks).toBe(0);
      expect(await v.peer.disconnectReason()).toBe(3);
    },
  );

  it("control: a DH f of p's size passes the bound and reaches the signature check", async () => {
    const f = new Writer()
      .mpint(MODP_4096 - 5n)
      .bytes()
      .subarray(4);
    const v = await hostileServer(
      "diffie-hellman-group16-sha512",
      "ssh-ed25519",
      hostKey.publicKey.blob,
      f,
      ed25519Signature,
    );
    expect((v.err as SshError).code).toBe("BAD_SIGNATURE");
  });
});

// ---- RSA keys (RFC 8332, RFC 4253 §6.6) --------------------------------------------------------

describe("CostBeforeTrust: RSA keys are bounded before any arithmetic", () => {
  const n2048 = new Writer().mpint(MODULUS_2048).bytes().subarray(4);
  const e65537 = Uint8Array.of(1, 0, 1);

  const hostKeyCases: [string, Uint8Array, RegExp][] = [
    [
      "a 200 KiB RSA exponent",
      rsaBlobRaw(bigPositive(200 * 1024), n2048),
      /RSA exponent has 204800 bytes, more than the 8 allowed/,
    ],
    ["a 65-bit RSA exponent", rsaBlob((1n << 64n) | 1n, MODULUS_2048), /RSA exponent has 9 bytes, more than the 8/],
    ["an even RSA exponent", rsaBlob(65536n, MODULUS_2048), /RSA public exponent 65536 is invalid; expected an odd/],
    ["RSA exponent 1", rsaBlob(1n, MODULUS_2048), /RSA public exponent 1 is invalid; expected an odd value ≥ 3/],
    [
      "a 250 KiB RSA modulus",
      rsaBlobRaw(e65537, bigPositive(250 * 1024)),
      /RSA modulus has 256000 bytes, more than the 2048 allowed/,
    ],
    [
      "a 16,392-bit RSA modulus",
      rsaBlob(65537n, (1n << 16391n) | 1n),
      /RSA modulus has 2050 bytes, more than the 2048 allowed/,
    ],
  ];

  it.each(hostKeyCases)(
    "CostBeforeTrust: %s in the server's host key (K_S) is refused before the host key is looked up",
    async (_name, ks, message) => {
      const x25519 = new Uint8Array(32).fill(9);
      const v = await hostileServer("curve25519-sha256", "rsa-sha2-256", ks, x25519, rsaSignature);
      expectRefused(v, "KEY_FORMAT", message);
      expect(v.us.hostKeyChecks).toBe(0);
    },
  );

  it("control: a 16,384-bit modulus with exponent 65537 is accepted as a key", () => {
    const key = parsePublicKeyBlob(rsaBlob(65537n, (1n << 16383n) | 1n));
    expect(key.type).toBe("ssh-rsa");
    expect(() => parsePublicKeyBlob(rsaBlob((1n << 64n) - 1n, MODULUS_2048))).not.toThrow();
  });

  it.each(hostKeyCases)(
    "CostBeforeTrust: %s in a public key blob throws a KEY_FORMAT SshError cheaply",
    (_name, blob, message) => {
      const start = cpuMs();
      let err: unknown;
      try {
        parsePublicKeyBlob(blob);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SshError);
      expect((err as SshError).code).toBe("KEY_FORMAT");
      expect((err as Error).message).toMatch(message);
      expect(cpuMs() - start).toBeLessThan(CPU_BUDGET_MS);
    },
  );

  it("CostBeforeTrust: RSA key objects (key files) are checked for size before the exponent is used", () => {
    const huge = bytesToBigint(bigPositive(200 * 1024)) | 1n;
    expect(() => checkRsaPublic({ n: MODULUS_2048, e: huge })).toThrow(
      /RSA public exponent has 1638399 bits; at most 64/,
    );
    expect(() => checkRsaPublic({ n: (1n << 16384n) | 1n, e: 65537n })).toThrow(
      /RSA modulus has 16385 bits; at most 16384/,
    );
    expect(() => checkRsaPublic({ n: MODULUS_2048, e: 1n })).toThrow(/odd value ≥ 3/);
    expect(() => checkRsaPublic({ n: MODULUS_2048, e: 4n })).toThrow(/odd value ≥ 3/);
  });

  /** DER: tag, definite length, contents. */
  const der = (tag: number, body: Uint8Array): Uint8Array => {
    const len = body.length;
    const head =
      len < 0x80
        ? [tag, len]
        : len < 0x100
          ? [tag, 0x81, len]
          : len < 0x10000
            ? [tag, 0x82, len >> 8, len & 0xff]
            : [tag, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
    return Uint8Array.from([...head, ...body]);
  };
  const derInt = (b: Uint8Array) => der(0x02, b);
  const pem = (label: string, body: Uint8Array) =>
    `-----BEGIN ${label}-----\n${(encodeBase64(body).match(/.{1,64}/g) ?? []).join("\n")}\n-----END ${label}-----\n`;

  it("CostBeforeTrust: a PKCS#1 key file with a 200 KiB exponent is refused before any arithmetic", () => {
    const one = Uint8Array.of(1);
    const fields = [Uint8Array.of(0), n2048, bigPositive(200 * 1024), one, one, one, one, one, one];
    const body = new Uint8Array(fields.reduce((s, f) => s + derInt(f).length, 0));
    let o = 0;
    for (const f of fields) {
      const d = derInt(f);
      body.set(d, o);
      o += d.length;
    }
    const text = pem("RSA PRIVATE KEY", der(0x30, body));
    const start = cpuMs();
    expect(() => parsePrivateKey(text)).toThrow(/RSA public exponent has \d+ bits; at most 64/);
    expect(cpuMs() - start).toBeLessThan(CPU_BUDGET_MS);
  });

  it("CostBeforeTrust: an openssh-key-v1 file with a 65-bit exponent is refused", () => {
    const e = (1n << 64n) | 1n;
    const pub = rsaBlob(65537n, MODULUS_2048);
    const priv = new Writer().uint32(1).uint32(1).string("ssh-rsa").mpint(MODULUS_2048).mpint(e);
    for (let i = 0; i < 4; i++) priv.mpint(3n);
    priv.string("");
    for (let i = 1; priv.pos % 8 !== 0; i++) priv.byte(i);
    const file = new Writer()
      .raw(new TextEncoder().encode("openssh-key-v1\0"))
      .string("none")
      .string("none")
      .string("")
      .uint32(1)
      .string(pub)
      .string(priv.bytes())
      .bytes();
    expect(() => parsePrivateKey(pem("OPENSSH PRIVATE KEY", file))).toThrow(
      /RSA public exponent has 65 bits; at most 64/,
    );
  });
});

// ---- unauthenticated user keys (RFC 4252 §7) ---------------------------------------------------

describe("CostBeforeTrust: a user key in an unauthenticated USERAUTH_REQUEST", () => {
  /** Our server with a publickey policy that records what reaches it, and a hostile client. */
  async function unauthenticated() {
    const [a, b] = memoryPair();
    const asked: PublicKey[] = [];
    const server = new SshServerConnection(b, {
      hostKeys: [hostKey],
      auth: {
        publicKey: (_user, key) => {
          asked.push(key);
          return false;
        },
      },
      loginGraceMs: 60_000,
    });
    const replies: Uint8Array[] = [];
    let wake: (() => void) | undefined;
    let kexDone!: () => void;
    const ready = new Promise<void>((r) => {
      kexDone = r;
    });
    const client = new Transport({
      role: "client",
      conn: a,
      algorithms: { ...DEFAULT_ALGORITHMS },
      provider: nobleProvider,
      random: systemRandom,
      host: "fake",
      port: 22,
      verifyHostKey: () => true,
      onMessage: (p) => {
        replies.push(p);
        wake?.();
        return true;
      },
      onClose: () => {},
      onKexDone: () => kexDone(),
    });
    client.start();
    await ready;
    const reply = async (type: number): Promise<Uint8Array> => {
      for (;;) {
        const got = replies.find((p) => p[0] === type);
        if (got) return got;
        await new Promise<void>((r) => {
          wake = r;
        });
      }
    };
    client.send(new Writer().byte(MSG.SERVICE_REQUEST).string("ssh-userauth").bytes());
    await reply(MSG.SERVICE_ACCEPT);
    return { server, client, asked, reply };
  }

  const request = (blob: Uint8Array, signature?: Uint8Array) => {
    const w = new Writer(blob.length + 512)
      .byte(MSG.USERAUTH_REQUEST)
      .string("alice")
      .string("ssh-connection")
      .string("publickey")
      .boolean(signature !== undefined)
      .string("rsa-sha2-256")
      .string(blob);
    if (signature) w.string(signature);
    return w.bytes();
  };

  const hostile = rsaBlobRaw(Uint8Array.of(1, 0, 1), bigPositive(250 * 1024));

  it.each([
    ["without", undefined],
    ["with", rsaSignature],
  ])(
    "CostBeforeTrust: a 250 KiB RSA modulus in an unauthenticated USERAUTH_REQUEST (%s signature) is refused before any arithmetic",
    async (_n, signature) => {
      const { server, client, asked, reply } = await unauthenticated();
      const start = cpuMs();
      client.send(request(hostile, signature));
      const failure = await reply(MSG.USERAUTH_FAILURE);
      const spent = cpuMs() - start;
      // Refused as OpenSSH refuses an unparsable key: a failure, counted, never shown to the policy.
      expect(new Reader(failure, 1).nameList()).toEqual(["publickey"]);
      expect(asked).toEqual([]);
      expect(spent).toBeLessThan(CPU_BUDGET_MS);
      // The reason, as the server sees it when it parses the blob.
      expect(() => parsePublicKeyBlob(hostile)).toThrow(/RSA modulus has 256000 bytes, more than the 2048 allowed/);
      server.close();
    },
  );

  it("control: a well-formed RSA key in the same request reaches the policy", async () => {
    const { server, client, asked, reply } = await unauthenticated();
    client.send(request(rsaBlob(65537n, MODULUS_2048)));
    await reply(MSG.USERAUTH_FAILURE);
    expect(asked.map((k) => k.type)).toEqual(["ssh-rsa"]);
    server.close();
  });
});

// ---- ECDH and X25519 points (RFC 5656 §4, RFC 8731 §3) ------------------------------------------

describe("CostBeforeTrust: curve points have their exact encoded length", () => {
  const big = LARGEST_IN_REPLY;
  const pointCases: [string, string, Uint8Array, RegExp][] = [
    [
      "ecdh-sha2-nistp256",
      "256 KiB",
      bigPositive(big),
      new RegExp(`ECDH public key is not an uncompressed p256 point: expected 65 bytes starting 0x04, got ${big}`),
    ],
    ["ecdh-sha2-nistp256", "66-byte", Uint8Array.of(4, ...new Uint8Array(65)), /expected 65 bytes .*, got 66/],
    ["ecdh-sha2-nistp521", "134-byte", Uint8Array.of(4, ...new Uint8Array(133)), /expected 133 bytes .*, got 134/],
    ["curve25519-sha256", "31-byte", new Uint8Array(31).fill(9), /curve25519 public key is 31 bytes; expected 32/],
    ["curve25519-sha256", "33-byte", new Uint8Array(33).fill(9), /curve25519 public key is 33 bytes; expected 32/],
    [
      "curve25519-sha256",
      "256 KiB",
      bigPositive(big),
      new RegExp(`curve25519 public key is ${big} bytes; expected 32`),
    ],
  ];

  it.each(pointCases)(
    "CostBeforeTrust: %s: a client's %s public value is refused before any curve arithmetic",
    async (kex, _size, point, message) => {
      const v = await hostileClient(kex, point);
      expectRefused(v, "KEX_FAILED", message);
      expect((v.err as Error).message).toMatch(/^client's/);
      expect(await v.peer.disconnectReason()).toBe(3);
    },
  );

  it.each(pointCases)(
    "CostBeforeTrust: %s: a server's %s public value is refused before any curve arithmetic",
    async (kex, _size, point, message) => {
      const v = await hostileServer(kex, "ssh-ed25519", hostKey.publicKey.blob, point, ed25519Signature);
      expectRefused(v, "KEX_FAILED", message);
      expect((v.err as Error).message).toMatch(/^server's/);
      expect(v.us.hostKeyChecks).toBe(0);
    },
  );
});

// ---- ECDSA signatures (RFC 5656 §3.1.2) ------------------------------------------------------

describe("CostBeforeTrust: ECDSA signature integers are bounded by the curve", () => {
  it("an r longer than the field fails verification without being converted", () => {
    const alg = ECDSA_SIGNATURES.find((s) => s.name === "ecdsa-sha2-nistp256");
    const blob = new Writer()
      .string("ecdsa-sha2-nistp256")
      .string("nistp256")
      .string(nobleProvider.ecdsa.generate("p256").publicKey)
      .bytes();
    const body = new Writer()
      .string(bigPositive(64 * 1024))
      .mpint(5n)
      .bytes();
    const sig = new Writer().string("ecdsa-sha2-nistp256").string(body).bytes();
    const start = cpuMs();
    expect(alg?.verify(nobleProvider, blob, new Uint8Array(32), sig)).toBe(false);
    expect(cpuMs() - start).toBeLessThan(CPU_BUDGET_MS);
  });
});
