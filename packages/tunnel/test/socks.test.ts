/**
 * SOCKS5 (RFC 1928) for `tunnel socks`: the handshake parser given good and bad bytes, one
 * verdict each (§3 method selection, §4 requests, §5 addressing, §6 replies); then the proxy
 * itself — `TunnelSession` with the SOCKS router — over real sockets through our own SSH
 * server in this process, each CONNECT a direct-tcpip channel (RFC 4254 §7.2).
 */
import * as net from "node:net";
import {
  formatPublicKeyLine,
  generateEd25519,
  nobleProvider,
  OpenFailure,
  publicKeyEquals,
  SshError,
} from "@tunnel/ssh";
import { freePort } from "@tunnel/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAuthorizedKeys } from "../src/authorized-keys.ts";
import { TunnelSession } from "../src/open.ts";
import { type ForwardingServer, startForwardingServer } from "../src/serve.ts";
import {
  formatIpv6,
  replyForOpenFailure,
  SOCKS_REPLY,
  SocksHandshake,
  type SocksStep,
  socksReply,
  socksRouter,
  socksTarget,
} from "../src/socks.ts";

const b = (...bytes: number[]) => Uint8Array.from(bytes);
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const GREETING = b(5, 1, 0);
const METHOD_OK = b(5, 0);
const connectIpv4 = (port: number, ...ip: number[]) => b(5, 1, 0, 1, ...ip, port >> 8, port & 0xff);
const connectName = (name: string, port: number) =>
  cat(b(5, 1, 0, 3, name.length), ascii(name), b(port >> 8, port & 0xff));

/** Feeds the chunks one by one; the last step. */
function run(...chunks: Uint8Array[]): SocksStep {
  const h = new SocksHandshake();
  let step: SocksStep = { next: "wait" };
  for (const c of chunks) step = h.push(c);
  return step;
}

describe("SOCKS5 handshake: what it takes", () => {
  it("greeting, then a CONNECT to an IPv4 address: method 0x00, then the request", () => {
    const h = new SocksHandshake();
    expect(h.push(GREETING)).toEqual({ next: "wait", write: METHOD_OK });
    expect(h.push(connectIpv4(5432, 10, 0, 0, 12))).toEqual({
      next: "connect",
      request: { host: "10.0.0.12", port: 5432, addressType: "ipv4" },
      early: b(),
    });
  });

  it("a domain name goes to the far side as sent, to be resolved there", () => {
    const step = run(GREETING, connectName("db.internal", 5432));
    expect(step).toMatchObject({
      next: "connect",
      request: { host: "db.internal", port: 5432, addressType: "domain" },
    });
  });

  it("an IPv6 address in RFC 5952 text", () => {
    const ip = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const step = run(GREETING, b(5, 1, 0, 4, ...ip, 0, 80));
    expect(step).toMatchObject({ next: "connect", request: { host: "2001:db8::1", port: 80, addressType: "ipv6" } });
  });

  it("one byte at a time", () => {
    const h = new SocksHandshake();
    const bytes = cat(GREETING, connectName("a.example", 443));
    const steps = [...bytes].map((x) => h.push(b(x)));
    expect(steps.slice(0, -1).every((s) => s.next === "wait")).toBe(true);
    expect(steps[2]).toEqual({ next: "wait", write: METHOD_OK });
    expect(steps.at(-1)).toMatchObject({ next: "connect", request: { host: "a.example", port: 443 } });
  });

  it("greeting and request in one packet get both replies' first part at once; bytes after the request are kept", () => {
    const step = run(cat(b(5, 2, 2, 0), connectIpv4(80, 127, 0, 0, 1), ascii("GET / HTTP/1.0\r\n\r\n")));
    expect(step).toEqual({
      next: "connect",
      write: METHOD_OK,
      request: { host: "127.0.0.1", port: 80, addressType: "ipv4" },
      early: ascii("GET / HTTP/1.0\r\n\r\n"),
    });
  });

  it("the reserved byte is not checked", () => {
    expect(run(GREETING, b(5, 1, 0x7f, 1, 1, 2, 3, 4, 0, 22))).toMatchObject({ next: "connect" });
  });
});

describe("SOCKS5 handshake: bad inputs, one verdict each", () => {
  const refused = (rep: number) => socksReply(rep);
  const cases: { name: string; chunks: Uint8Array[]; write?: Uint8Array; reason: RegExp }[] = [
    { name: "SOCKS4 greeting", chunks: [b(4, 1, 0, 80, 127, 0, 0, 1, 0)], reason: /version 0x04 \(SOCKS4/ },
    { name: "an HTTP request", chunks: [ascii("GET / HTTP/1.1\r\n")], reason: /version 0x47 \(text/ },
    { name: "a TLS ClientHello", chunks: [b(0x16, 3, 1, 0, 0xa5)], reason: /version 0x16; expected 5/ },
    { name: "version 0", chunks: [b(0)], reason: /version 0x00/ },
    { name: "no methods at all", chunks: [b(5, 0)], write: b(5, 0xff), reason: /no authentication method/ },
    {
      name: "only username/password and GSSAPI offered",
      chunks: [b(5, 2, 2, 1)],
      write: b(5, 0xff),
      reason: /offered methods 0x02, 0x01/,
    },
    { name: "a request with version 4", chunks: [GREETING, b(4, 1, 0, 1)], reason: /request has version 0x04/ },
    {
      name: "BIND",
      chunks: [GREETING, b(5, 2, 0, 1, 0, 0, 0, 0, 0, 0)],
      write: refused(SOCKS_REPLY.COMMAND_NOT_SUPPORTED),
      reason: /BIND is not supported/,
    },
    {
      name: "UDP ASSOCIATE",
      chunks: [GREETING, b(5, 3, 0, 1, 0, 0, 0, 0, 0, 0)],
      write: refused(SOCKS_REPLY.COMMAND_NOT_SUPPORTED),
      reason: /UDP ASSOCIATE is not supported/,
    },
    {
      name: "command 0x00",
      chunks: [GREETING, b(5, 0, 0, 1)],
      write: refused(SOCKS_REPLY.COMMAND_NOT_SUPPORTED),
      reason: /command 0x00/,
    },
    {
      name: "command 0xff",
      chunks: [GREETING, b(5, 0xff)],
      write: refused(SOCKS_REPLY.COMMAND_NOT_SUPPORTED),
      reason: /command 0xff/,
    },
    {
      name: "address type 0x02",
      chunks: [GREETING, b(5, 1, 0, 2, 1, 2, 3, 4, 0, 80)],
      write: refused(SOCKS_REPLY.ADDRESS_TYPE_NOT_SUPPORTED),
      reason: /address type 0x02/,
    },
    {
      name: "address type 0x00",
      chunks: [GREETING, b(5, 1, 0, 0)],
      write: refused(SOCKS_REPLY.ADDRESS_TYPE_NOT_SUPPORTED),
      reason: /address type 0x00/,
    },
    {
      name: "an empty domain name",
      chunks: [GREETING, b(5, 1, 0, 3, 0, 0, 80)],
      write: refused(SOCKS_REPLY.GENERAL_FAILURE),
      reason: /empty/,
    },
    {
      name: "a NUL inside the name (a C server would stop reading there)",
      chunks: [GREETING, connectName("evil\x00.internal", 80)],
      write: refused(SOCKS_REPLY.GENERAL_FAILURE),
      reason: /not a host name/,
    },
    {
      name: "a newline inside the name",
      chunks: [GREETING, connectName("a\r\nb", 80)],
      write: refused(SOCKS_REPLY.GENERAL_FAILURE),
      reason: /not a host name/,
    },
    {
      name: "a space and a slash",
      chunks: [GREETING, connectName("a b/c", 80)],
      write: refused(SOCKS_REPLY.GENERAL_FAILURE),
      reason: /not a host name/,
    },
    {
      name: "bytes above 0x7f in the name",
      chunks: [GREETING, cat(b(5, 1, 0, 3, 3, 0xe2, 0x80, 0xae), b(0, 80))],
      write: refused(SOCKS_REPLY.GENERAL_FAILURE),
      reason: /not a host name/,
    },
    {
      name: "a name starting with a dot",
      chunks: [GREETING, connectName(".internal", 80)],
      write: refused(SOCKS_REPLY.GENERAL_FAILURE),
      reason: /not a host name/,
    },
    {
      name: "port 0",
      chunks: [GREETING, connectIpv4(0, 10, 0, 0, 1)],
      write: refused(SOCKS_REPLY.GENERAL_FAILURE),
      reason: /port 0/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.write ? `reply ${[...c.write].map((x) => x.toString(16)).join(" ")}` : "no reply"}, then close`, () => {
      const step = run(...c.chunks);
      expect(step.next).toBe("close");
      expect(step.write).toEqual(c.write);
      expect(step.next === "close" && step.reason).toMatch(c.reason);
    });
  }

  it("a truncated greeting or request waits: it cannot grow past its fields (the timeout ends it)", () => {
    expect(run(b(5, 255, ...new Array<number>(254).fill(1)))).toEqual({ next: "wait" });
    expect(run(GREETING, b(5, 1, 0, 3, 255, ...new Array<number>(200).fill(0x61)))).toEqual({
      next: "wait",
    });
  });

  it("the longest name the format allows (255) is taken", () => {
    const name = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}`;
    expect(name.length).toBe(255);
    expect(run(GREETING, connectName(name, 1))).toMatchObject({ next: "connect", request: { host: name } });
  });

  it("no bytes are taken after the handshake ended", () => {
    const h = new SocksHandshake();
    h.push(b(4));
    expect(() => h.push(b(1))).toThrow(/over/);
  });
});

describe("SOCKS5 replies and addresses", () => {
  it("IPv6 text per RFC 5952: longest zero run compressed, first of equal runs, single zero kept", () => {
    const v6 = (...groups: number[]) => Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));
    expect(formatIpv6(v6(0, 0, 0, 0, 0, 0, 0, 1))).toBe("::1");
    expect(formatIpv6(v6(0, 0, 0, 0, 0, 0, 0, 0))).toBe("::");
    expect(formatIpv6(v6(0x2001, 0xdb8, 0, 1, 0, 0, 0, 1))).toBe("2001:db8:0:1::1");
    expect(formatIpv6(v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1))).toBe("2001:db8::1:0:0:1");
    expect(formatIpv6(v6(0xfe80, 0, 0, 0, 0xabcd, 0, 0, 0))).toBe("fe80::abcd:0:0:0");
    expect(formatIpv6(v6(1, 2, 3, 4, 5, 6, 7, 8))).toBe("1:2:3:4:5:6:7:8");
    expect(() => formatIpv6(b(1, 2))).toThrow(RangeError);
  });

  it("a channel the bastion would not open maps to the nearest reply", () => {
    const open = (reason: number, text: string) => {
      const e = new SshError("CHANNEL_OPEN_FAILED", `channel open refused: x (${text})`) as SshError & {
        reasonCode: number;
      };
      Object.assign(e, { reasonCode: reason });
      return e;
    };
    expect(replyForOpenFailure(open(OpenFailure.ADMINISTRATIVELY_PROHIBITED, "no"))).toBe(SOCKS_REPLY.NOT_ALLOWED);
    expect(replyForOpenFailure(open(OpenFailure.CONNECT_FAILED, "Connection refused"))).toBe(
      SOCKS_REPLY.CONNECTION_REFUSED,
    );
    expect(replyForOpenFailure(open(OpenFailure.CONNECT_FAILED, "Network is unreachable"))).toBe(
      SOCKS_REPLY.NETWORK_UNREACHABLE,
    );
    expect(replyForOpenFailure(open(OpenFailure.CONNECT_FAILED, "Name or service not known"))).toBe(
      SOCKS_REPLY.HOST_UNREACHABLE,
    );
    expect(replyForOpenFailure(open(OpenFailure.RESOURCE_SHORTAGE, "too many"))).toBe(SOCKS_REPLY.GENERAL_FAILURE);
    expect(replyForOpenFailure(new Error("the bastion was not reachable within 15 s"))).toBe(
      SOCKS_REPLY.GENERAL_FAILURE,
    );
  });
});

describe("tunnel socks: the proxy through our own server", () => {
  const hostKey = generateEd25519(nobleProvider, "host");
  const userKey = generateEd25519(nobleProvider, "user");
  let echo: net.Server;
  let echoPort: number;
  /** Allowed, but nothing listens there. */
  let closedPort: number;
  let server: ForwardingServer;
  let session: TunnelSession;
  let proxyPort: number;

  beforeAll(async () => {
    echo = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on("error", () => {});
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
    echoPort = (echo.address() as net.AddressInfo).port;
    // Below the ephemeral range, so no other test's listener or connection takes it meanwhile.
    closedPort = await freePort();
    server = await startForwardingServer("127.0.0.1", 0, {
      hostKeys: [hostKey],
      authorizedKeys: parseAuthorizedKeys(`${formatPublicKeyLine(userKey.publicKey)}\n`, "ak", () => {}),
      allow: (host, port) => (port === echoPort || port === closedPort) && ["127.0.0.1", "localhost"].includes(host),
    });
    session = new TunnelSession({
      targets: [socksTarget()],
      via: `u@127.0.0.1:${server.listener.port}`,
      port: 0,
      keys: [userKey],
      verifier: (info) => publicKeyEquals(info.key, hostKey.publicKey),
      route: socksRouter(),
    });
    const [opened] = await session.start();
    proxyPort = opened?.localPort as number;
  });

  afterAll(async () => {
    await session?.stop(0);
    await server?.close();
    echo?.close();
  });

  /** Sends `bytes` to the proxy and collects what comes back until it closes (or `until` bytes came). */
  function talk(bytes: Uint8Array, until = Number.POSITIVE_INFINITY): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port: proxyPort });
      const got: number[] = [];
      const done = () => {
        s.destroy();
        resolve(Uint8Array.from(got));
      };
      s.on("data", (d) => {
        got.push(...d);
        if (got.length >= until) done();
      });
      s.on("close", done);
      s.on("error", reject);
      s.write(bytes);
    });
  }

  it("CONNECT by address, by name and with the data sent at once: replies 0x00, then the echo", async () => {
    const reply = cat(METHOD_OK, socksReply(SOCKS_REPLY.SUCCEEDED));
    const byAddress = await talk(cat(GREETING, connectIpv4(echoPort, 127, 0, 0, 1), ascii("ping")), 16);
    expect(byAddress).toEqual(cat(reply, ascii("ping")));
    const byName = await talk(cat(GREETING, connectName("localhost", echoPort), ascii("pong")), 16);
    expect(byName).toEqual(cat(reply, ascii("pong")));
  });

  it("BIND gets 0x07 and the connection closes", async () => {
    expect(await talk(cat(GREETING, b(5, 2, 0, 1, 127, 0, 0, 1, 0, 80)))).toEqual(
      cat(METHOD_OK, socksReply(SOCKS_REPLY.COMMAND_NOT_SUPPORTED)),
    );
  });

  it("a destination the server does not allow gets 0x02; one that refuses gets 0x05", async () => {
    expect(await talk(cat(GREETING, connectIpv4(echoPort, 10, 0, 0, 1)))).toEqual(
      cat(METHOD_OK, socksReply(SOCKS_REPLY.NOT_ALLOWED)),
    );
    expect(await talk(cat(GREETING, connectIpv4(closedPort, 127, 0, 0, 1)))).toEqual(
      cat(METHOD_OK, socksReply(SOCKS_REPLY.CONNECTION_REFUSED)),
    );
  });

  it("a client that is not SOCKS5 is closed without a reply, and the proxy goes on", async () => {
    expect(await talk(ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))).toEqual(b());
    expect(await talk(cat(GREETING, connectIpv4(echoPort, 127, 0, 0, 1), ascii("again")), 15)).toEqual(
      cat(METHOD_OK, socksReply(0), ascii("again")),
    );
  });
});
