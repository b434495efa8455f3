/**
 * Client keyboard-interactive authentication (RFC 4256) against a scripted server: prompts
 * answered through the callback, PAM's silent last round, giving up, the method order ssh
 * uses (publickey, keyboard-interactive, password), and hostile INFO_REQUESTs refused before
 * anything is shown to the user.
 */
import { describe, expect, it } from "vitest";
import {
  type AuthTransport,
  ClientAuth,
  type ClientAuthOptions,
  type InfoRequest,
  MAX_INFO_ROUNDS,
} from "../src/auth/client.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import { SshError } from "../src/errors.ts";
import { generateEd25519 } from "../src/keys/generate.ts";
import { MSG } from "../src/wire/messages.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";

const accept = () => new Writer().byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").bytes();
const failure = (methods: string[]) => new Writer().byte(MSG.USERAUTH_FAILURE).nameList(methods).boolean(false).bytes();
const SUCCESS = Uint8Array.of(MSG.USERAUTH_SUCCESS);

function infoRequest(prompts: [string, boolean][], name = "", instruction = ""): Uint8Array {
  const w = new Writer()
    .byte(MSG.USERAUTH_INFO_REQUEST)
    .string(name)
    .string(instruction)
    .string("")
    .uint32(prompts.length);
  for (const [p, echo] of prompts) w.string(p).boolean(echo);
  return w.bytes();
}

interface Sent {
  method?: string;
  /** INFO_RESPONSE answers. */
  responses?: string[];
  password?: string;
}

/** `script(sent, history)` answers each payload; every request is decoded into `history`. */
function harness(script: (sent: Sent, history: Sent[]) => Uint8Array[], options: Partial<ClientAuthOptions>) {
  const history: Sent[] = [];
  let auth!: ClientAuth;
  const transport: AuthTransport = {
    sessionId: new Uint8Array(32),
    serverSigAlgs: undefined,
    send(p) {
      let replies: Uint8Array[];
      if (p[0] === MSG.SERVICE_REQUEST) replies = [accept()];
      else {
        const r = new Reader(p, 1);
        const sent: Sent = {};
        if (p[0] === MSG.USERAUTH_INFO_RESPONSE) {
          const n = r.uint32();
          sent.responses = [];
          for (let i = 0; i < n; i++) sent.responses.push(r.utf8());
        } else {
          r.utf8();
          r.ascii();
          sent.method = r.ascii();
          if (sent.method === "password") {
            r.boolean();
            sent.password = r.utf8();
          }
        }
        history.push(sent);
        replies = script(sent, history);
      }
      queueMicrotask(() => {
        for (const reply of replies) auth.handle(reply);
      });
    },
  };
  auth = new ClientAuth(transport, { username: "alice", ...options });
  return { auth, history };
}

describe("keyboard-interactive (RFC 4256)", () => {
  it("answers the prompt through the callback, then PAM's empty round silently", async () => {
    const asked: InfoRequest[] = [];
    const { auth, history } = harness(
      (sent, h) => {
        if (sent.method === "none") return [failure(["keyboard-interactive"])];
        if (sent.method === "keyboard-interactive") return [infoRequest([["Password: ", false]])];
        if (sent.responses && h.filter((x) => x.responses).length === 1) return [infoRequest([])];
        return [SUCCESS];
      },
      {
        keyboardInteractive: async (q) => {
          asked.push(q);
          return ["s3cret"];
        },
      },
    );
    expect((await auth.run()).method).toBe("keyboard-interactive");
    expect(asked).toEqual([{ name: "", instruction: "", prompts: [{ prompt: "Password: ", echo: false }] }]);
    expect(history.slice(1)).toEqual([
      { method: "keyboard-interactive" },
      { responses: ["s3cret"] },
      { responses: [] },
    ]);
  });

  it("methods go as ssh's PreferredAuthentications: publickey, keyboard-interactive, password", async () => {
    const { auth, history } = harness(
      (sent) => {
        if (sent.method === "password") return [SUCCESS];
        if (sent.method === "keyboard-interactive") return [infoRequest([["Password: ", false]])];
        return [failure(["password", "keyboard-interactive", "publickey"])];
      },
      {
        identities: [generateEd25519(nobleProvider)],
        password: "pw",
        keyboardInteractive: async () => ["wrong"],
      },
    );
    expect((await auth.run()).method).toBe("password");
    expect(history.map((h) => h.method ?? "response")).toEqual([
      "none",
      "publickey",
      "keyboard-interactive",
      "response",
      "password",
    ]);
  });

  it("a callback that gives up sends an empty answer per prompt (as ssh); FAILURE moves on to password", async () => {
    const { auth, history } = harness(
      (sent) => {
        if (sent.method === "keyboard-interactive") return [infoRequest([["Verification code: ", true]])];
        if (sent.method === "password") return [SUCCESS];
        return [failure(["keyboard-interactive", "password"])];
      },
      { password: "pw", keyboardInteractive: async () => undefined },
    );
    expect((await auth.run()).method).toBe("password");
    expect(history[2]).toEqual({ responses: [""] });
  });

  it("prompt, name and instruction reach the callback escaped", async () => {
    let seen: InfoRequest | undefined;
    const { auth } = harness(
      (sent) =>
        sent.method === "keyboard-interactive"
          ? [infoRequest([["Code\u001b[2J: ", true]], "Two\u0007factor", "Line one\nline\u001b two")]
          : sent.responses
            ? [SUCCESS]
            : [failure(["keyboard-interactive"])],
      {
        keyboardInteractive: async (q) => {
          seen = q;
          return ["123456"];
        },
      },
    );
    await auth.run();
    expect(seen?.prompts[0]?.prompt).not.toContain("\u001b");
    expect(seen?.prompts[0]?.echo).toBe(true);
    expect(seen?.name).not.toContain("\u0007");
    expect(seen?.instruction).toContain("\n");
    expect(seen?.instruction).not.toContain("\u001b");
  });

  it(`a server asking more than ${MAX_INFO_ROUNDS} rounds is refused`, async () => {
    let calls = 0;
    const { auth } = harness(
      (sent) => (sent.method === "none" ? [failure(["keyboard-interactive"])] : [infoRequest([["Again: ", false]])]),
      {
        keyboardInteractive: async () => {
          calls++;
          return ["x"];
        },
      },
    );
    await expect(auth.run()).rejects.toThrow(/more than 16 rounds/);
    expect(calls).toBe(MAX_INFO_ROUNDS);
  });

  it("not tried without a callback: the failure says what the server allows", async () => {
    const { auth } = harness(() => [failure(["keyboard-interactive"])], { passwordHint: "set TUNNEL_PASSWORD" });
    await expect(auth.run()).rejects.toThrow(
      /the server allows keyboard-interactive; we tried nothing .*\nthe server accepts passwords: set TUNNEL_PASSWORD/,
    );
  });

  const huge = new Writer().byte(60).string("").string("").string("").uint32(0xffffffff).bytes();
  const BAD: [string, Uint8Array, RegExp][] = [
    ["truncated before the prompt count", new Writer().byte(60).string("n").bytes(), /truncated/],
    ["a prompt count of 2^32-1", huge, /4294967295 prompts; at most 64/],
    [
      "more prompts than its bytes hold",
      new Writer().byte(60).string("").string("").string("").uint32(10).raw(new Uint8Array(20)).bytes(),
      /claims 10 prompts but only 20 bytes follow/,
    ],
    ["65 prompts", infoRequest(Array.from({ length: 65 }, () => ["p", false] as [string, boolean])), /at most 64/],
    [
      "a prompt that is not UTF-8",
      new Writer()
        .byte(60)
        .string("")
        .string("")
        .string("")
        .uint32(1)
        .string(Uint8Array.of(0xff))
        .boolean(false)
        .bytes(),
      /prompt 1 is not valid UTF-8/,
    ],
    [
      "trailing bytes",
      new Writer()
        .raw(infoRequest([["P: ", false]]))
        .byte(0)
        .bytes(),
      /trailing/,
    ],
  ];
  for (const [name, message, why] of BAD) {
    it(`an INFO_REQUEST is refused before any prompt is shown: ${name}`, async () => {
      let asked = 0;
      const { auth } = harness(() => [], {
        keyboardInteractive: async () => {
          asked++;
          return [];
        },
      });
      const running = auth.run().catch((e: Error) => e);
      await new Promise((r) => setTimeout(r, 5));
      auth.handle(failure(["keyboard-interactive"]));
      await new Promise((r) => setTimeout(r, 5));
      let err: unknown;
      try {
        auth.handle(message);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SshError);
      expect((err as SshError).code).toBe("PROTOCOL_ERROR");
      expect((err as Error).message).toMatch(why);
      expect(asked).toBe(0);
      auth.abort(err as Error);
      await running;
    });
  }

  it("an INFO_REQUEST with no keyboard-interactive request outstanding is a protocol error", async () => {
    const { auth } = harness(() => [], {});
    const running = auth.run().catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 5));
    // the `none` request is outstanding
    expect(() => auth.handle(infoRequest([["Password: ", false]]))).toThrow(/message 60 for a none request/);
    auth.abort(new Error("done"));
    await running;
  });
});
