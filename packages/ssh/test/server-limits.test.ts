/**
 * What a client that has not logged in can cost the server (issue 12, item 6), each rule
 * driven by a raw fake client in this process (bytes in, verdict out): a packet in progress
 * holds at most PRE_AUTH_MAX_BUFFERED bytes before authentication (256 KiB after), the login
 * grace closes a silent client, and the server's limits are checked before the connection is
 * touched.
 */
import { describe, expect, it } from "vitest";
import { nobleProvider } from "../src/crypto/noble.ts";
import { generateEd25519 } from "../src/keys/generate.ts";
import { memoryPair } from "../src/runtime/memory.ts";
import type { Conn } from "../src/runtime/types.ts";
import { PRE_AUTH_MAX_BUFFERED, type SshServerConnection, serveConnection } from "../src/server.ts";

const hostKey = generateEd25519(nobleProvider, "host");

/** A server over an in-memory pair; the raw client end, and how the server's side ended. */
function server(options: { loginGraceMs?: number } = {}) {
  const [client, serverEnd] = memoryPair();
  const session = serveConnection(serverEnd, { hostKeys: [hostKey], auth: {}, ...options });
  const closed = new Promise<string>((resolve) => session.onceClosed((err) => resolve(err?.message ?? "clean")));
  let state = "open";
  void closed.then((m) => {
    state = m;
  });
  return { client, session, closed, state: () => state };
}

/** Our version line, then the first `n` bytes of a plaintext packet that says it is `length` long. */
function partialPacket(client: Conn, length: number, n: number): void {
  client.setHandlers({ data() {}, drain() {}, end() {}, close() {} });
  client.write(new TextEncoder().encode("SSH-2.0-fake\r\n"));
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, length);
  client.write(header);
  // In pieces, as a socket would deliver them.
  for (let sent = 0; sent < n; sent += 16_384) client.write(new Uint8Array(Math.min(16_384, n - sent)));
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe("server limits before login", () => {
  it("PreAuthPacketBounded: a 256 KiB packet in progress before login closes the connection once past 35,000 bytes", async () => {
    const s = server();
    partialPacket(s.client, 256 * 1024 - 4, 64 * 1024);
    expect(await s.closed).toMatch(
      new RegExp(
        `^the client sent more than ${PRE_AUTH_MAX_BUFFERED} bytes of one packet \\(\\d+\\) before logging in$`,
      ),
    );
  });

  it("PreAuthPacketWithinBound: a packet of up to 35,000 bytes in progress is waited for", async () => {
    const s = server();
    partialPacket(s.client, 35_000 - 4, 34_000);
    await settle();
    expect(s.state()).toBe("open");
    s.session.close();
  });

  it("LoginGraceCloses: a client that never logs in is closed when the grace ends; 0 means no limit", async () => {
    const s = server({ loginGraceMs: 100 });
    s.client.setHandlers({ data() {}, drain() {}, end() {}, close() {} });
    expect(await s.closed).toBe("authentication did not finish within 100 ms");
    const none = server({ loginGraceMs: 0 });
    none.client.setHandlers({ data() {}, drain() {}, end() {}, close() {} });
    await new Promise((r) => setTimeout(r, 200));
    expect(none.state()).toBe("open");
    none.session.close();
  });

  it.each([
    [{ maxChannels: 0 }, /maxChannels: expected a whole number of at least 1, got 0/],
    [{ maxChannels: 1.5 }, /maxChannels: expected a whole number of at least 1, got 1.5/],
    [{ loginGraceMs: -1 }, /loginGraceMs: expected 0 or more milliseconds, got -1/],
    [{ loginGraceMs: Number.NaN }, /loginGraceMs: expected 0 or more milliseconds, got NaN/],
  ])("bad limits %j are refused before the connection is touched", (limits, message) => {
    const [, serverEnd] = memoryPair();
    let touched = false;
    const spy = new Proxy(serverEnd, {
      get(target, prop, receiver) {
        if (prop !== "remoteAddress" && prop !== "remotePort") touched = true;
        return Reflect.get(target, prop, receiver);
      },
    });
    expect(() => serveConnection(spy, { hostKeys: [hostKey], auth: {}, ...limits })).toThrow(message);
    expect(touched).toBe(false);
  });

  it("MaxChannelsSetsTheMuxCap", () => {
    const [, serverEnd] = memoryPair();
    const session: SshServerConnection = serveConnection(serverEnd, { hostKeys: [hostKey], auth: {}, maxChannels: 7 });
    expect(session.mux.maxChannels).toBe(7);
    session.close();
  });
});
