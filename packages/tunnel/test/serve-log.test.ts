/**
 * `tunnel serve`'s log shows what a client named only through peerText (issue 12, item 7): a
 * host name with a newline cannot forge a log line, escapes cannot reach the terminal the log
 * goes to, and a huge name costs one capped line.
 */
import { ChannelOpenError, connectClient, generateEd25519, nobleProvider, type SshClient } from "@tunnel/ssh";
import { runtime } from "@tunnel/ssh/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ForwardingServer, startForwardingServer } from "../src/serve.ts";

/** Any character a terminal would act on or not show. */
const RAW_UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

describe("serve log lines carry peer names escaped", () => {
  const lines: string[] = [];
  let server: ForwardingServer;
  let client: SshClient;

  beforeAll(async () => {
    server = await startForwardingServer("127.0.0.1", 0, {
      hostKeys: [generateEd25519(nobleProvider)],
      auth: { allowNone: true },
      allow: () => false,
      log: (l) => lines.push(l),
    });
    const conn = await runtime.connect("127.0.0.1", server.listener.port);
    client = await connectClient(conn, {
      host: "127.0.0.1",
      port: server.listener.port,
      username: "u",
      verifyHostKey: () => true,
      timeoutMs: 10_000,
    });
  });

  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it("a direct-tcpip host name with a newline, escapes and a bidi override stays on one escaped line", async () => {
    const host = "db\n[9] connection from 6.6.6.6\x1b[2J\u202e";
    const err = await client.mux.openDirectTcpip(host, 5432, "127.0.0.1", 1).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ChannelOpenError);
    expect(lines).toContain(
      "[1] refused direct-tcpip to db\\n[9] connection from 6.6.6.6\\x1b[2J\\u202e:5432: not among the server's allowed destinations",
    );
  });

  it("a 10 KB host name is logged capped", async () => {
    await client.mux.openDirectTcpip("h".repeat(10_240), 1, "127.0.0.1", 1).catch(() => {});
    expect(lines).toContain(
      `[1] refused direct-tcpip to ${"h".repeat(512)}…:1: not among the server's allowed destinations`,
    );
  });

  it("a tcpip-forward address with control characters is logged escaped", async () => {
    await expect(client.forwardRemote("0.0.0.0\r\n[2] closed", 0, () => {})).rejects.toThrow();
    expect(lines).toContain(
      "[1] refused tcpip-forward 0.0.0.0\\r\\n[2] closed:0: remote forwarding is off (allowRemote grants ports)",
    );
  });

  it("no log line holds a raw control, format or separator character", () => {
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const l of lines) expect(l).not.toMatch(RAW_UNSAFE);
  });
});
