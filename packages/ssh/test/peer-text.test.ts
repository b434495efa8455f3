/**
 * Peer text made safe to display (RFC 4251 §9.2; issue 12, item 7): one function, `peerText`,
 * and every place a peer's words reach a terminal or a log goes through it — checked with
 * hostile strings against the exact output, then end to end with an in-process fake peer.
 */
import { describe, expect, it } from "vitest";
import { connectClient } from "../src/client.ts";
import { ChannelOpenError } from "../src/connection/mux.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import { SshError } from "../src/errors.ts";
import { generateEd25519 } from "../src/keys/generate.ts";
import { memoryPair } from "../src/runtime/memory.ts";
import { type ServerOptions, serveConnection } from "../src/server.ts";
import { MSG } from "../src/wire/messages.ts";
import { PEER_TEXT_ELLIPSIS, PEER_TEXT_MAX, peerText } from "../src/wire/peer-text.ts";
import { Writer } from "../src/wire/writer.ts";

/** Anything a terminal would act on or not show, in the output of peerText. */
const RAW_UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

describe("peerText: control and invisible characters become visible escapes", () => {
  const hostile: [string, string, string][] = [
    ["a banner that retitles and clears the terminal", "\x1b]0;pwned\x07\x1b[2J", "\\x1b]0;pwned\\x07\\x1b[2J"],
    [
      "a host name forging a second log line",
      "db.internal\n[7] channel 0 → 10.0.0.1:22",
      "db.internal\\n[7] channel 0 → 10.0.0.1:22",
    ],
    ["a CR LF forged line", "x\r\n[1] connection from 1.2.3.4", "x\\r\\n[1] connection from 1.2.3.4"],
    ["a lone CR that overwrites the line", "ok\rFAILED", "ok\\rFAILED"],
    ["a tab", "a\tb", "a\\tb"],
    ["NUL, BEL, backspace and DEL", "\x00\x07\x08\x7f", "\\x00\\x07\\x08\\x7f"],
    ["C1 controls (8-bit CSI, NEL)", "\u009b2J\u0085", "\\x9b2J\\x85"],
    ["a right-to-left override (Trojan Source)", "invoice\u202etxt.exe", "invoice\\u202etxt.exe"],
    [
      "every bidi embedding, override and isolate",
      "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
      "\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c",
    ],
    ["the line and paragraph separators", "a\u2028b\u2029c", "a\\u2028b\\u2029c"],
    ["zero-width characters hiding in a user name", "ad\u200bmin\ufeff", "ad\\u200bmin\\ufeff"],
    ["an invisible tag character (astral)", "ok\u{e0041}", "ok\\u{e0041}"],
    ["a lone surrogate", "x\ud800y", "x\\ud800y"],
    ["plain text, accents, CJK and emoji stay as they are", "Grüße, 世界 😀 \\x1b", "Grüße, 世界 😀 \\x1b"],
    ["the empty string", "", ""],
  ];
  it.each(hostile)("%s", (_name, input, output) => {
    expect(peerText(input)).toBe(output);
  });

  it("caps the output at 512 characters with an ellipsis: 10 KB of text", () => {
    expect(PEER_TEXT_MAX).toBe(512);
    expect(peerText("a".repeat(10_240))).toBe(`${"a".repeat(512)}${PEER_TEXT_ELLIPSIS}`);
    expect(peerText("a".repeat(512))).toBe("a".repeat(512));
  });

  it("caps 10 KB of escape characters without cutting an escape in half", () => {
    expect(peerText("\x1b".repeat(10_240))).toBe(`${"\\x1b".repeat(128)}…`);
    // 1 + 127 × 4 = 509 characters; one more escape would make 513.
    expect(peerText(`a${"\x1b".repeat(200)}`)).toBe(`a${"\\x1b".repeat(127)}…`);
  });

  it("never splits a surrogate pair at the cap", () => {
    expect(peerText(`${"a".repeat(511)}😀`)).toBe(`${"a".repeat(511)}…`);
    expect(peerText(`${"a".repeat(510)}😀`)).toBe(`${"a".repeat(510)}😀`);
  });

  it("a 10 KB forged-log-line flood becomes one capped line", () => {
    const out = peerText("x\n[1] connection from 6.6.6.6\n".repeat(350));
    expect(out).not.toMatch(RAW_UNSAFE);
    expect(out.length).toBe(PEER_TEXT_MAX + 1);
    expect(out.endsWith("…")).toBe(true);
  });

  it("with a smaller max", () => {
    expect(peerText("abcdef", { max: 3 })).toBe("abc…");
    expect(peerText("\x1babc", { max: 5 })).toBe("\\x1ba…");
  });

  it("multi-line text (banners) keeps LF and tabs, turns CR LF into LF, escapes the rest", () => {
    expect(peerText("Welcome\r\n\tAuthorized use only\r\n", { lines: true })).toBe("Welcome\n\tAuthorized use only\n");
    expect(peerText("a\rb\x1b[2J\u202e\n", { lines: true })).toBe("a\\rb\\x1b[2J\\u202e\n");
  });

  it("refuses a max that is not a positive integer", () => {
    expect(() => peerText("x", { max: 0 })).toThrow(RangeError);
    expect(() => peerText("x", { max: 1.5 })).toThrow(/max must be a positive integer, got 1.5/);
  });
});

describe("every place peer text is shown goes through peerText (fake peer in process)", () => {
  const hostKey = generateEd25519(nobleProvider);
  const hostile = "\x1b]0;pwned\x07\x1b[2J\n[1] forged \u202eline";
  const escaped = "\\x1b]0;pwned\\x07\\x1b[2J\\n[1] forged \\u202eline";

  async function session(server: Partial<ServerOptions> = {}, client: Record<string, unknown> = {}) {
    const [a, b] = memoryPair();
    const srv = serveConnection(b, { hostKeys: [hostKey], auth: { allowNone: true }, ...server });
    const cli = await connectClient(a, {
      host: "fake",
      port: 22,
      username: "u",
      verifyHostKey: () => true,
      timeoutMs: 5000,
      ...client,
    });
    return { srv, cli };
  }

  it("a server's USERAUTH_BANNER with terminal escapes reaches onBanner escaped, its line breaks kept", async () => {
    const banners: string[] = [];
    const { cli } = await session(
      { auth: { allowNone: true, banner: "\x1b]0;pwned\x07\x1b[2J\r\nWelcome \u202eto\r\n" } },
      { onBanner: (t: string) => banners.push(t) },
    );
    expect(banners).toEqual(["\\x1b]0;pwned\\x07\\x1b[2J\nWelcome \\u202eto\n"]);
    cli.close();
  });

  it("a 10 KB banner is cut at MAX_BANNER_DISPLAY", async () => {
    const banners: string[] = [];
    const { cli } = await session(
      { auth: { allowNone: true, banner: "\x1b".repeat(10_240) } },
      { onBanner: (t: string) => banners.push(t) },
    );
    expect(banners).toEqual([`${"\\x1b".repeat(1024)}…`]);
    cli.close();
  });

  it("a DISCONNECT description reaches the error message escaped", async () => {
    const { srv, cli } = await session();
    const closed = new Promise<Error | undefined>((r) => cli.onceClosed(r));
    srv.transport.disconnect(11, hostile);
    const err = await closed;
    expect(err).toBeInstanceOf(SshError);
    expect(err?.message).toBe(`server disconnected: ${escaped} (reason 11: BY_APPLICATION)`);
  });

  it("a DEBUG message with always_display reaches onDebug escaped", async () => {
    const debug: string[] = [];
    const { srv, cli } = await session({}, { onDebug: (m: string) => debug.push(m) });
    srv.transport.sendTransport(new Writer().byte(MSG.DEBUG).boolean(true).string(hostile).string("").bytes());
    await new Promise<void>((resolve) => {
      const poll = () => (debug.length > 0 ? resolve() : setTimeout(poll, 5));
      poll();
    });
    expect(debug).toEqual([escaped]);
    cli.close();
  });

  it("lines before the server's version string reach onDebug escaped, one by one", async () => {
    const [a, b] = memoryPair();
    const debug: string[] = [];
    b.setHandlers({ data() {}, drain() {}, end() {}, close() {} });
    const bytes = Uint8Array.from("\x1b[2Jhello\x9b31m\r\nsecond\x07\nSSH-2.0-Fake\r\n", (c) => c.charCodeAt(0));
    const client = connectClient(a, {
      host: "fake",
      port: 22,
      username: "u",
      verifyHostKey: () => true,
      timeoutMs: 5000,
      onDebug: (m) => debug.push(m),
    });
    b.write(bytes);
    await new Promise<void>((resolve) => {
      const poll = () => (debug.length >= 2 ? resolve() : setTimeout(poll, 5));
      poll();
    });
    expect(debug).toEqual(["\\x1b[2Jhello\\x9b31m", "second\\x07"]);
    b.destroy();
    await expect(client).rejects.toThrow();
  });

  it("a channel-open failure reason reaches the ChannelOpenError escaped", async () => {
    const { cli } = await session({
      onOpen(open) {
        open.reject(1, hostile);
      },
    });
    const err = await cli.mux.openDirectTcpip("somewhere", 80, "127.0.0.1", 1).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ChannelOpenError);
    expect((err as Error).message).toBe(`channel open refused: administratively prohibited (${escaped})`);
    cli.close();
  });
});
