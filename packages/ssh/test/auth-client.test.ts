/** Client user auth (RFC 4252) against a scripted server (docs/PROTOCOL.md, "User authentication"). */

import * as nodeCrypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { SIGNATURE_ALGORITHMS } from "../src/algorithms/hostkey.ts";
import { type AuthTransport, ClientAuth, type ClientAuthOptions } from "../src/auth/client.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import { SshError } from "../src/errors.ts";
import { generateEd25519 } from "../src/keys/generate.ts";
import { parsePrivateKey } from "../src/keys/private-key.ts";
import { MSG } from "../src/wire/messages.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";

const sessionId = new Uint8Array(32).fill(7);
const failure = (methods: string[], partial = false) =>
  new Writer().byte(MSG.USERAUTH_FAILURE).nameList(methods).boolean(partial).bytes();
const accept = () => new Writer().byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").bytes();
const SUCCESS = Uint8Array.of(MSG.USERAUTH_SUCCESS);

/** A fake transport: `script` answers each sent payload with zero or more payloads. */
function harness(
  script: (sent: Uint8Array, n: number) => Uint8Array[],
  options: Partial<ClientAuthOptions> = {},
  sigAlgs?: string[],
) {
  const sent: Uint8Array[] = [];
  let auth!: ClientAuth;
  const transport: AuthTransport = {
    sessionId,
    serverSigAlgs: sigAlgs,
    send(p) {
      sent.push(p);
      const replies = script(p, sent.length);
      queueMicrotask(() => {
        for (const r of replies) auth.handle(r);
      });
    },
  };
  auth = new ClientAuth(transport, { username: "alice", ...options });
  return { auth, sent };
}

const method = (p: Uint8Array) => {
  const r = new Reader(p, 1);
  r.utf8();
  r.ascii();
  return r.ascii();
};

describe("client user auth (RFC 4252)", () => {
  it("USERAUTH_SUCCESS before any request is a protocol error", () => {
    const { auth } = harness(() => []);
    expect(() => auth.handle(SUCCESS)).toThrow(/before SERVICE_ACCEPT/);
  });

  it("a USERAUTH message before SERVICE_ACCEPT is a protocol error", async () => {
    const { auth } = harness((p) => (p[0] === MSG.SERVICE_REQUEST ? [] : []));
    const run = auth.run();
    expect(() => auth.handle(failure(["publickey"]))).toThrow(/authentication message 51 before SERVICE_ACCEPT/);
    auth.abort(new Error("done"));
    await expect(run).rejects.toThrow();
  });

  it("USERAUTH_SUCCESS with no request outstanding is a protocol error", async () => {
    const { auth } = harness((p) => (p[0] === MSG.SERVICE_REQUEST ? [accept()] : []));
    const run = auth.run().catch(() => {});
    await new Promise((r) => setTimeout(r, 5));
    // the none request is outstanding: answer it, then send a stray success
    auth.handle(failure(["publickey"]));
    expect(() => auth.handle(SUCCESS)).toThrow(/without an outstanding request/);
    auth.abort(new Error("done"));
    await run;
  });

  it("channel messages before success are protocol errors", () => {
    const { auth } = harness(() => []);
    expect(() => auth.handle(new Writer().byte(MSG.CHANNEL_DATA).uint32(0).string("x").bytes())).toThrow(
      /before authentication succeeded/,
    );
    expect(() => auth.handle(new Writer().byte(MSG.GLOBAL_REQUEST).string("x").boolean(false).bytes())).toThrow(
      /before authentication/,
    );
  });

  it("no trivial auth: `none` accepted is refused when rejectTrivialAuth is set, reported otherwise", async () => {
    const script = (p: Uint8Array) => (p[0] === MSG.SERVICE_REQUEST ? [accept()] : [SUCCESS]);
    await expect(harness(script, { rejectTrivialAuth: true }).auth.run()).rejects.toThrow(/trivial auth refused/);
    expect((await harness(script).auth.run()).method).toBe("none");
  });

  it("publickey: queries, then signs the RFC 4252 §7 data; the signature verifies", async () => {
    const key = generateEd25519(nobleProvider);
    let verified = false;
    const { auth } = harness(
      (p) => {
        if (p[0] === MSG.SERVICE_REQUEST) return [accept()];
        if (method(p) === "none") return [failure(["publickey", "password"])];
        const r = new Reader(p, 1);
        const user = r.utf8();
        r.ascii();
        r.ascii();
        const signed = r.boolean();
        const alg = r.ascii();
        const blob = r.string();
        if (!signed) return [new Writer().byte(MSG.USERAUTH_PK_OK).string(alg).string(blob).bytes()];
        const sig = r.string();
        const data = new Writer()
          .string(sessionId)
          .byte(50)
          .string(user)
          .string("ssh-connection")
          .string("publickey")
          .boolean(true)
          .string(alg)
          .string(blob)
          .bytes();
        verified = SIGNATURE_ALGORITHMS.get(alg)?.verify(nobleProvider, blob, data, sig) === true;
        return [verified ? SUCCESS : failure(["publickey"])];
      },
      { identities: [key] },
    );
    const result = await auth.run();
    expect(result.method).toBe("publickey");
    expect(verified).toBe(true);
  });

  it.each([
    [["rsa-sha2-256", "rsa-sha2-512"], "rsa-sha2-512"],
    [["ssh-ed25519", "rsa-sha2-256"], "rsa-sha2-256"],
  ])("RSA keys sign with what server-sig-algs lists (%j → %s)", async (algs, want) => {
    const rsa = parsePrivateKey(
      nodeCrypto
        .generateKeyPairSync("rsa", { modulusLength: 2048 })
        .privateKey.export({ type: "pkcs1", format: "pem" })
        .toString(),
    );
    let used = "";
    const { auth } = harness(
      (p) => {
        if (p[0] === MSG.SERVICE_REQUEST) return [accept()];
        if (method(p) === "none") return [failure(["publickey"])];
        const r = new Reader(p, 1);
        r.utf8();
        r.ascii();
        r.ascii();
        r.boolean();
        used = r.ascii();
        return [failure(["publickey"])];
      },
      { identities: [rsa] },
      algs,
    );
    await expect(auth.run()).rejects.toThrow(SshError);
    expect(used).toBe(want);
  });

  it("partial success moves on to password; a banner is delivered", async () => {
    const key = generateEd25519(nobleProvider);
    const banners: string[] = [];
    const { auth, sent } = harness(
      (p) => {
        if (p[0] === MSG.SERVICE_REQUEST) return [accept()];
        const m = method(p);
        if (m === "none")
          return [new Writer().byte(MSG.USERAUTH_BANNER).string("Welcome").string("").bytes(), failure(["publickey"])];
        if (m === "publickey") {
          const r = new Reader(p, 1);
          r.utf8();
          r.ascii();
          r.ascii();
          if (!r.boolean()) {
            const alg = r.ascii();
            return [new Writer().byte(MSG.USERAUTH_PK_OK).string(alg).string(r.string()).bytes()];
          }
          return [failure(["password"], true)];
        }
        return [SUCCESS];
      },
      { identities: [key], password: "pw", onBanner: (b) => banners.push(b) },
    );
    expect((await auth.run()).method).toBe("password");
    expect(banners).toEqual(["Welcome"]);
    expect(sent.map((p) => (p[0] === MSG.USERAUTH_REQUEST ? method(p) : "svc"))).toEqual([
      "svc",
      "none",
      "publickey",
      "publickey",
      "password",
    ]);
  });

  it("on failure the error names the methods the server allows and what we tried", async () => {
    const { auth } = harness((p) =>
      p[0] === MSG.SERVICE_REQUEST ? [accept()] : [failure(["publickey", "keyboard-interactive"])],
    );
    await expect(auth.run()).rejects.toThrow(
      'authentication failed for user "alice": the server allows publickey, keyboard-interactive; we tried nothing (no identity key was given; no password was given)',
    );
  });
});
