/**
 * The ssh-agent client (draft-miller-ssh-agent): its codec against a list of hostile replies
 * (truncated, wrong types, counts its bytes cannot hold, oversized frames), the client over a
 * `Conn` against an in-process fake agent (bytes in, verdict out), and agent keys and
 * certificates in publickey authentication (RFC 4252 §7) against a scripted server. The real
 * ssh-agent is exercised in test/agent.test.ts.
 */
import { describe, expect, it } from "vitest";
import { type AuthTransport, ClientAuth, type ClientAuthOptions, type Identity } from "../src/auth/client.ts";
import { nobleProvider } from "../src/crypto/noble.ts";
import { SshError } from "../src/errors.ts";
import {
  AGENT_MAX_IDENTITIES,
  AGENT_MAX_MESSAGE,
  AGENT_MSG,
  AgentClient,
  AgentFramer,
  type AgentKey,
  agentIdentity,
  encodeRequestIdentities,
  encodeSignRequest,
  parseIdentitiesAnswer,
  parseSignResponse,
  signatureTypeFor,
  signFlagsFor,
} from "../src/keys/agent.ts";
import { fingerprintSha256 } from "../src/keys/fingerprint.ts";
import { generateEcdsa, generateEd25519 } from "../src/keys/generate.ts";
import { memoryPair } from "../src/runtime/memory.ts";
import type { Conn } from "../src/runtime/types.ts";
import { MSG } from "../src/wire/messages.ts";
import { Reader } from "../src/wire/reader.ts";
import { Writer } from "../src/wire/writer.ts";

const ed = generateEd25519(nobleProvider, "ed-comment");
const ec = generateEcdsa(nobleProvider, "p256", "ec-comment");
/** An ssh-rsa blob: e = 65537 and an odd 2048-bit modulus (never used to verify anything). */
const rsaBlob = new Writer()
  .string("ssh-rsa")
  .mpint(65537n)
  .mpint((1n << 2047n) | 0xc0ffeen | 1n)
  .bytes();

/** An OpenSSH certificate blob (PROTOCOL.certkeys) around a plain key blob; only its layout matters here. */
function certificate(plainBlob: Uint8Array): Uint8Array {
  const r = new Reader(plainBlob);
  const plainType = r.ascii();
  return new Writer()
    .string(`${plainType}-cert-v01@openssh.com`)
    .string(new Uint8Array(32).fill(9)) // nonce
    .raw(r.rest()) // the key's own fields
    .uint64(1n) // serial
    .uint32(1) // user certificate
    .string("key-id")
    .string(new Writer().string("alice").bytes())
    .uint64(0n)
    .uint64(0xffffffffffffffffn)
    .string("")
    .string("")
    .string("")
    .string(ed.publicKey.blob) // the CA's key
    .string(new Writer().string("ssh-ed25519").string(new Uint8Array(64)).bytes())
    .bytes();
}

/** SSH_AGENT_IDENTITIES_ANSWER (unframed). */
function answer(keys: [Uint8Array, string][]): Uint8Array {
  const w = new Writer().byte(AGENT_MSG.IDENTITIES_ANSWER).uint32(keys.length);
  for (const [blob, comment] of keys) w.string(blob).string(comment);
  return w.bytes();
}

const frame = (message: Uint8Array) => new Writer().string(message).bytes();
const sigBlob = (type: string) => new Writer().string(type).string(new Uint8Array(64).fill(1)).bytes();
const signResponse = (type: string) => new Writer().byte(AGENT_MSG.SIGN_RESPONSE).string(sigBlob(type)).bytes();

function errorOf(f: () => unknown): SshError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(SshError);
    return err as SshError;
  }
  throw new Error("expected a throw");
}

describe("agent codec (draft-miller-ssh-agent)", () => {
  it("a list request is one framed byte; a sign request carries blob, data and flags", () => {
    expect([...encodeRequestIdentities()]).toEqual([0, 0, 0, 1, AGENT_MSG.REQUEST_IDENTITIES]);
    const req = encodeSignRequest(ed.publicKey.blob, Uint8Array.of(1, 2, 3), 4);
    const r = new Reader(req);
    const body = new Reader(r.string());
    r.done();
    expect(body.byte()).toBe(AGENT_MSG.SIGN_REQUEST);
    expect(body.string()).toEqual(ed.publicKey.blob);
    expect([...body.string()]).toEqual([1, 2, 3]);
    expect(body.uint32()).toBe(4);
    body.done();
  });

  it("rsa-sha2-256/512 (and their certificate forms) ask with flags 2 and 4; others with 0", () => {
    expect(signFlagsFor("rsa-sha2-256")).toBe(2);
    expect(signFlagsFor("rsa-sha2-512")).toBe(4);
    expect(signFlagsFor("rsa-sha2-512-cert-v01@openssh.com")).toBe(4);
    expect(signFlagsFor("rsa-sha2-256-cert-v01@openssh.com")).toBe(2);
    expect(signFlagsFor("ssh-ed25519")).toBe(0);
    expect(signFlagsFor("ecdsa-sha2-nistp256-cert-v01@openssh.com")).toBe(0);
    expect(signatureTypeFor("rsa-sha2-512-cert-v01@openssh.com")).toBe("rsa-sha2-512");
    expect(signatureTypeFor("ssh-ed25519")).toBe("ssh-ed25519");
  });

  it("lists plain keys, certificates and unknown types in the agent's order", () => {
    const edCert = certificate(ed.publicKey.blob);
    const rsaCert = certificate(rsaBlob);
    const sk = new Writer().string("sk-ssh-ed25519@openssh.com").string(new Uint8Array(32)).string("ssh:").bytes();
    const keys = parseIdentitiesAnswer(
      answer([
        [ed.publicKey.blob, "ed-comment"],
        [ec.publicKey.blob, "ec"],
        [rsaBlob, "rsa"],
        [edCert, "ed cert"],
        [rsaCert, "rsa cert"],
        [sk, "security key"],
      ]),
    );
    expect(keys.map((k) => [k.type, k.comment, k.certificate, k.keyType, k.signatureAlgorithms])).toEqual([
      ["ssh-ed25519", "ed-comment", false, "ssh-ed25519", ["ssh-ed25519"]],
      ["ecdsa-sha2-nistp256", "ec", false, "ecdsa-sha2-nistp256", ["ecdsa-sha2-nistp256"]],
      ["ssh-rsa", "rsa", false, "ssh-rsa", ["rsa-sha2-512", "rsa-sha2-256"]],
      ["ssh-ed25519-cert-v01@openssh.com", "ed cert", true, "ssh-ed25519", ["ssh-ed25519-cert-v01@openssh.com"]],
      [
        "ssh-rsa-cert-v01@openssh.com",
        "rsa cert",
        true,
        "ssh-rsa",
        ["rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com"],
      ],
      ["sk-ssh-ed25519@openssh.com", "security key", false, "sk-ssh-ed25519@openssh.com", []],
    ]);
    // A certificate's key blob is the plain key inside it: same fingerprint as the key, as ssh-add -l shows.
    expect((keys[3] as AgentKey).keyBlob).toEqual(ed.publicKey.blob);
    expect((keys[4] as AgentKey).keyBlob).toEqual(rsaBlob);
    expect((keys[3] as AgentKey).blob).toEqual(edCert);
  });

  it("an empty list is a list", () => {
    expect(parseIdentitiesAnswer(answer([]))).toEqual([]);
  });

  it("a comment that is not UTF-8 is kept, with replacement characters", () => {
    const msg = new Writer()
      .byte(AGENT_MSG.IDENTITIES_ANSWER)
      .uint32(1)
      .string(ed.publicKey.blob)
      .string(Uint8Array.of(0x61, 0xff, 0x62))
      .bytes();
    expect(parseIdentitiesAnswer(msg)[0]?.comment).toBe("a\uFFFDb");
  });

  const one = (blob: Uint8Array) => answer([[blob, "c"]]);
  const huge = new Writer().byte(AGENT_MSG.IDENTITIES_ANSWER).uint32(0xffffffff).bytes();
  const BAD_LISTS: [string, Uint8Array, string, RegExp][] = [
    ["an empty message", new Uint8Array(0), "PROTOCOL_ERROR", /truncated agent message type/],
    [
      "a sign response where a list was asked for",
      signResponse("ssh-ed25519"),
      "PROTOCOL_ERROR",
      /message type 14 where a list of keys \(type 12\)/,
    ],
    ["an unknown message type", Uint8Array.of(99), "PROTOCOL_ERROR", /message type 99/],
    ["a failure", Uint8Array.of(AGENT_MSG.FAILURE), "AGENT_REFUSED", /refused to send a list of keys/],
    ["an extension failure", Uint8Array.of(AGENT_MSG.EXTENSION_FAILURE), "AGENT_REFUSED", /refused/],
    ["a count cut short", Uint8Array.of(12, 0, 0), "PROTOCOL_ERROR", /truncated number of keys/],
    ["a count of 2^32-1 and no keys", huge, "PROTOCOL_ERROR", /claims 4294967295 keys; at most 2048/],
    [
      "a count its bytes cannot hold",
      new Writer().byte(12).uint32(2000).raw(new Uint8Array(16)).bytes(),
      "PROTOCOL_ERROR",
      /claims 2000 keys but only 16 bytes follow/,
    ],
    [
      "more keys than OpenSSH's limit, each present",
      new Writer()
        .byte(12)
        .uint32(AGENT_MAX_IDENTITIES + 1)
        .raw(new Uint8Array((AGENT_MAX_IDENTITIES + 1) * 8))
        .bytes(),
      "PROTOCOL_ERROR",
      /claims 2049 keys; at most 2048/,
    ],
    [
      "a blob longer than the message",
      new Writer().byte(12).uint32(1).uint32(1000).raw(new Uint8Array(8)).bytes(),
      "PROTOCOL_ERROR",
      /truncated agent key 1 blob/,
    ],
    [
      "a key with no comment",
      new Writer().byte(12).uint32(1).string(ed.publicKey.blob).bytes(),
      "PROTOCOL_ERROR",
      /truncated agent key 1 comment length/,
    ],
    [
      "fewer keys than counted",
      new Writer().byte(12).uint32(2).string(ed.publicKey.blob).string("c").bytes(),
      "PROTOCOL_ERROR",
      /truncated agent key 2 blob/,
    ],
    ["trailing bytes", new Writer().raw(answer([])).byte(0).bytes(), "PROTOCOL_ERROR", /1 unexpected trailing/],
    ["an empty key blob", one(new Uint8Array(0)), "PROTOCOL_ERROR", /agent key 1 has no readable key type/],
    [
      "a key type with a control byte",
      one(new Writer().string("ssh-\u0007").bytes()),
      "PROTOCOL_ERROR",
      /no readable key type/,
    ],
    [
      "an ed25519 key of 3 bytes",
      one(
        new Writer()
          .string("ssh-ed25519")
          .string(Uint8Array.of(1, 2, 3))
          .bytes(),
      ),
      "PROTOCOL_ERROR",
      /agent key 1 \(ssh-ed25519\) is malformed/,
    ],
    [
      "an RSA key with an even exponent",
      one(
        new Writer()
          .string("ssh-rsa")
          .mpint(4n)
          .mpint(1n << 2047n)
          .bytes(),
      ),
      "PROTOCOL_ERROR",
      /agent key 1 \(ssh-rsa\) is malformed.*exponent/,
    ],
    [
      "a certificate cut inside its nonce",
      one(new Writer().string("ssh-ed25519-cert-v01@openssh.com").uint32(32).raw(new Uint8Array(5)).bytes()),
      "PROTOCOL_ERROR",
      /agent key 1 \(ssh-ed25519-cert-v01@openssh.com\) is malformed.*nonce/,
    ],
    [
      "a certificate whose key is not its type's",
      one(
        new Writer()
          .string("ecdsa-sha2-nistp256-cert-v01@openssh.com")
          .string(new Uint8Array(32))
          .string("nistp384")
          .string(new Uint8Array(97))
          .bytes(),
      ),
      "PROTOCOL_ERROR",
      /is malformed/,
    ],
  ];
  for (const [name, message, code, why] of BAD_LISTS) {
    it(`a list of keys is refused: ${name}`, () => {
      const err = errorOf(() => parseIdentitiesAnswer(message));
      expect(err.code).toBe(code);
      expect(err.message).toMatch(why);
    });
  }

  const BAD_SIGNATURES: [string, Uint8Array, string, RegExp][] = [
    ["a failure", Uint8Array.of(AGENT_MSG.FAILURE), "AGENT_REFUSED", /refused to send a signature/],
    ["a list where a signature was asked for", answer([]), "PROTOCOL_ERROR", /message type 12 where a signature/],
    ["a signature cut short", Uint8Array.of(14, 0, 0, 0, 9, 1), "PROTOCOL_ERROR", /truncated agent signature/],
    [
      "trailing bytes after the signature",
      new Writer().raw(signResponse("rsa-sha2-512")).byte(1).bytes(),
      "PROTOCOL_ERROR",
      /trailing/,
    ],
    [
      "a signature blob without its bytes",
      new Writer().byte(14).string(new Writer().string("rsa-sha2-512").bytes()).bytes(),
      "PROTOCOL_ERROR",
      /truncated agent signature bytes/,
    ],
    [
      "ssh-rsa (SHA-1) where rsa-sha2-512 was asked for (an agent that ignores the flags)",
      signResponse("ssh-rsa"),
      "PROTOCOL_ERROR",
      /agent signed as ssh-rsa where rsa-sha2-512 was asked for/,
    ],
  ];
  for (const [name, message, code, why] of BAD_SIGNATURES) {
    it(`a signature is refused: ${name}`, () => {
      const err = errorOf(() => parseSignResponse(message, "rsa-sha2-512"));
      expect(err.code).toBe(code);
      expect(err.message).toMatch(why);
    });
  }

  it("a certificate's signature is of its plain key's type", () => {
    const sig = parseSignResponse(signResponse("rsa-sha2-256"), "rsa-sha2-256-cert-v01@openssh.com");
    expect(new Reader(sig).ascii()).toBe("rsa-sha2-256");
  });
});

describe("agent framing", () => {
  it("joins a message sent one byte at a time, and splits two sent at once", () => {
    const f = new AgentFramer();
    const msg = frame(answer([[ed.publicKey.blob, "x"]]));
    const got: Uint8Array[] = [];
    for (const b of msg) got.push(...f.push(Uint8Array.of(b)));
    expect(got).toHaveLength(1);
    expect(parseIdentitiesAnswer(got[0] as Uint8Array)).toHaveLength(1);
    const two = f.push(
      new Writer()
        .raw(frame(Uint8Array.of(5)))
        .raw(frame(Uint8Array.of(6)))
        .bytes(),
    );
    expect(two.map((m) => [...m])).toEqual([[5], [6]]);
    expect(f.pending).toBe(0);
  });

  it("a length over 256 KiB is refused from its four bytes, before any body arrives", () => {
    const f = new AgentFramer();
    expect(() => f.push(new Writer().uint32(AGENT_MAX_MESSAGE + 1).bytes())).toThrow(
      /agent message of 262145 bytes; at most 262144/,
    );
    expect(() => new AgentFramer().push(new Writer().uint32(0xffffffff).bytes())).toThrow(/4294967295 bytes/);
  });

  it("an empty message is refused", () => {
    expect(() => new AgentFramer().push(new Uint8Array(4))).toThrow(/empty message/);
  });

  it("a claimed length is never allocated: only the bytes that came are held", () => {
    const f = new AgentFramer();
    expect(f.push(new Writer().uint32(AGENT_MAX_MESSAGE).raw(new Uint8Array(10)).bytes())).toEqual([]);
    expect(f.pending).toBe(14);
  });
});

/** An in-process agent: answers each framed request with `reply(request)`'s raw bytes (frame them yourself). */
function fakeAgent(reply: (request: Uint8Array, server: Conn) => Uint8Array | undefined): {
  client: Conn;
  requests: Uint8Array[];
} {
  const [client, server] = memoryPair();
  const requests: Uint8Array[] = [];
  let buf: Uint8Array = new Uint8Array(0);
  server.setHandlers({
    data(chunk) {
      buf = new Writer().raw(buf).raw(chunk).bytes();
      while (buf.length >= 4) {
        const len = new DataView(buf.buffer, buf.byteOffset).getUint32(0);
        if (buf.length < 4 + len) return;
        const req = buf.slice(4, 4 + len);
        buf = buf.slice(4 + len);
        requests.push(req);
        const out = reply(req, server);
        if (out) server.write(out);
      }
    },
    drain() {},
    end() {},
    close() {},
  });
  return { client, requests };
}

/** Parses a sign request: blob, data, flags. */
function signRequest(req: Uint8Array): { blob: Uint8Array; data: Uint8Array; flags: number } {
  const r = new Reader(req);
  expect(r.byte()).toBe(AGENT_MSG.SIGN_REQUEST);
  const blob = r.string().slice();
  const data = r.string().slice();
  const flags = r.uint32();
  r.done();
  return { blob, data, flags };
}

describe("agent client over a Conn", () => {
  const listed = answer([
    [ed.publicKey.blob, "ed"],
    [rsaBlob, "rsa"],
  ]);

  it("lists, then signs with the flags each algorithm needs", async () => {
    const { client, requests } = fakeAgent((req) => {
      if (req[0] === AGENT_MSG.REQUEST_IDENTITIES) return frame(listed);
      const { flags } = signRequest(req);
      return frame(signResponse(flags === 4 ? "rsa-sha2-512" : flags === 2 ? "rsa-sha2-256" : "ssh-ed25519"));
    });
    const agent = new AgentClient(client);
    const [edKey, rsaKey] = (await agent.listIdentities()) as [AgentKey, AgentKey];
    expect(await agent.sign(edKey, Uint8Array.of(7), "ssh-ed25519")).toEqual(sigBlob("ssh-ed25519"));
    expect(await agent.sign(rsaKey, Uint8Array.of(7), "rsa-sha2-512")).toEqual(sigBlob("rsa-sha2-512"));
    expect(await agent.sign(rsaKey, Uint8Array.of(7), "rsa-sha2-256")).toEqual(sigBlob("rsa-sha2-256"));
    expect(requests.slice(1).map((r) => signRequest(r).flags)).toEqual([0, 4, 2]);
    expect(signRequest(requests[2] as Uint8Array).blob).toEqual(rsaBlob);
    agent.close();
  });

  it("requests in flight together are answered in order", async () => {
    const { client } = fakeAgent((req) => (req[0] === AGENT_MSG.REQUEST_IDENTITIES ? frame(listed) : undefined));
    const agent = new AgentClient(client);
    const [a, b] = await Promise.all([agent.listIdentities(), agent.listIdentities()]);
    expect(a).toHaveLength(2);
    expect(b).toHaveLength(2);
    agent.close();
  });

  it("a refusal to sign names the key", async () => {
    const { client } = fakeAgent((req) =>
      req[0] === AGENT_MSG.REQUEST_IDENTITIES ? frame(listed) : frame(Uint8Array.of(AGENT_MSG.FAILURE)),
    );
    const agent = new AgentClient(client, { name: "agent /tmp/sock" });
    const [edKey] = (await agent.listIdentities()) as [AgentKey];
    const err = await agent.sign(edKey, Uint8Array.of(1), "ssh-ed25519").catch((e: SshError) => e);
    expect(err).toBeInstanceOf(SshError);
    expect((err as SshError).code).toBe("AGENT_REFUSED");
    expect((err as SshError).message).toMatch(/agent \/tmp\/sock refused to sign with ssh-ed25519 key "ed"/);
    // a refusal is an answer: the connection stays usable
    expect(await agent.listIdentities()).toHaveLength(2);
    agent.close();
  });

  it("an algorithm the key does not sign with is the caller's error", async () => {
    const { client } = fakeAgent(() => frame(listed));
    const agent = new AgentClient(client);
    const [edKey] = (await agent.listIdentities()) as [AgentKey];
    await expect(agent.sign(edKey, Uint8Array.of(1), "rsa-sha2-512")).rejects.toThrow(RangeError);
    agent.close();
  });

  it("a reply nobody asked for ends the connection and fails what follows", async () => {
    const { client } = fakeAgent((_req, server) => {
      server.write(frame(listed));
      return frame(listed);
    });
    const agent = new AgentClient(client);
    await agent.listIdentities().catch(() => {});
    await new Promise((r) => setTimeout(r, 10));
    await expect(agent.listIdentities()).rejects.toThrow(/sent message type 12 with no request outstanding/);
  });

  it("an oversized frame fails the request in flight", async () => {
    const { client } = fakeAgent(() => new Writer().uint32(AGENT_MAX_MESSAGE + 1).bytes());
    const agent = new AgentClient(client);
    await expect(agent.listIdentities()).rejects.toThrow(/at most 262144/);
  });

  it("the agent closing mid-request fails it, naming the agent", async () => {
    const { client } = fakeAgent((_req, server) => {
      server.write(new Uint8Array(3));
      server.destroy();
      return undefined;
    });
    const agent = new AgentClient(client, { name: "agent /run/a.sock" });
    const err = await agent.listIdentities().catch((e: SshError) => e);
    expect((err as SshError).code).toBe("CONNECTION_LOST");
    expect((err as SshError).message).toMatch(/agent \/run\/a.sock closed the connection/);
  });

  it("an agent that never answers fails the request after timeoutMs", async () => {
    const { client } = fakeAgent(() => undefined);
    const agent = new AgentClient(client, { timeoutMs: 30 });
    const err = await agent.listIdentities().catch((e: SshError) => e);
    expect((err as SshError).code).toBe("TIMEOUT");
    expect((err as SshError).message).toMatch(/did not answer within 30 ms/);
  });
});

// ------------------------------------------------------------------ in authentication

const sessionId = new Uint8Array(32).fill(7);
const accept = () => new Writer().byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").bytes();
const failure = (methods: string[]) => new Writer().byte(MSG.USERAUTH_FAILURE).nameList(methods).boolean(false).bytes();

interface Offer {
  signed: boolean;
  algorithm: string;
  blob: Uint8Array;
  signature?: Uint8Array;
}

/**
 * A scripted server: `none` fails with `methods`; a publickey query is answered PK_OK when
 * `accepts(blob)`, a signed request succeeds when `accepts(blob)`. Every publickey request
 * is recorded.
 */
function server(options: Partial<ClientAuthOptions>, accepts: (blob: Uint8Array) => boolean, sigAlgs?: string[]) {
  const offers: Offer[] = [];
  let auth!: ClientAuth;
  const transport: AuthTransport = {
    sessionId,
    serverSigAlgs: sigAlgs,
    send(p) {
      let replies: Uint8Array[] = [];
      if (p[0] === MSG.SERVICE_REQUEST) replies = [accept()];
      else {
        const r = new Reader(p, 1);
        r.utf8();
        r.ascii();
        const method = r.ascii();
        if (method === "publickey") {
          const signed = r.boolean();
          const algorithm = r.ascii();
          const blob = r.string().slice();
          const offer: Offer = { signed, algorithm, blob };
          if (signed) offer.signature = r.string().slice();
          offers.push(offer);
          const ok = accepts(blob);
          replies = [
            !ok
              ? failure(["publickey", "password"])
              : signed
                ? Uint8Array.of(MSG.USERAUTH_SUCCESS)
                : new Writer().byte(MSG.USERAUTH_PK_OK).string(algorithm).string(blob).bytes(),
          ];
        } else replies = [failure(["publickey", "password"])];
      }
      queueMicrotask(() => {
        for (const r of replies) auth.handle(r);
      });
    },
  };
  auth = new ClientAuth(transport, { username: "alice", ...options });
  return { auth, offers };
}

/** A fake agent holding `keys`; it signs with `signAs` (or refuses) and records the flags asked for. */
async function agentWith(keys: [Uint8Array, string][], signAs: (flags: number, blob: Uint8Array) => string | null) {
  const flags: number[] = [];
  const { client } = fakeAgent((req) => {
    if (req[0] === AGENT_MSG.REQUEST_IDENTITIES) return frame(answer(keys));
    const s = signRequest(req);
    flags.push(s.flags);
    const type = signAs(s.flags, s.blob);
    return frame(type === null ? Uint8Array.of(AGENT_MSG.FAILURE) : signResponse(type));
  });
  const agent = new AgentClient(client, { name: "agent" });
  const identities: Identity[] = (await agent.listIdentities()).map((k) => agentIdentity(agent, k));
  return { agent, identities, flags };
}

describe("agent keys in publickey authentication (RFC 4252 §7)", () => {
  it("an agent key is queried, then signed for by the agent", async () => {
    const { agent, identities } = await agentWith([[ed.publicKey.blob, "ed"]], () => "ssh-ed25519");
    const { auth, offers } = server({ identities }, () => true);
    const result = await auth.run();
    expect(result.method).toBe("publickey");
    expect(result.key?.agent).toBe(true);
    expect(offers.map((o) => [o.signed, o.algorithm])).toEqual([
      [false, "ssh-ed25519"],
      [true, "ssh-ed25519"],
    ]);
    expect(offers[1]?.signature).toEqual(sigBlob("ssh-ed25519"));
    agent.close();
  });

  it("a certificate is offered as the certificate, under its certificate algorithm", async () => {
    const edCert = certificate(ed.publicKey.blob);
    const { agent, identities } = await agentWith([[edCert, "cert"]], () => "ssh-ed25519");
    const { auth, offers } = server({ identities }, () => true);
    expect((await auth.run()).signatureAlgorithm).toBe("ssh-ed25519-cert-v01@openssh.com");
    expect(offers.every((o) => o.algorithm === "ssh-ed25519-cert-v01@openssh.com")).toBe(true);
    expect(offers[1]?.blob).toEqual(edCert);
    agent.close();
  });

  for (const [sigAlgs, want, flag] of [
    [["rsa-sha2-256", "rsa-sha2-512"], "rsa-sha2-512-cert-v01@openssh.com", 4],
    [["ssh-ed25519", "rsa-sha2-256"], "rsa-sha2-256-cert-v01@openssh.com", 2],
  ] as const) {
    it(`an RSA certificate signs as ${want} when server-sig-algs lists ${JSON.stringify(sigAlgs)}`, async () => {
      const rsaCert = certificate(rsaBlob);
      const { agent, identities, flags } = await agentWith([[rsaCert, "rsa cert"]], (f) =>
        f === 4 ? "rsa-sha2-512" : "rsa-sha2-256",
      );
      const { auth, offers } = server({ identities }, () => true, [...sigAlgs]);
      expect((await auth.run()).signatureAlgorithm).toBe(want);
      expect(offers.map((o) => o.algorithm)).toEqual([want, want]);
      expect(flags).toEqual([flag]);
      agent.close();
    });
  }

  it("a key the agent will not sign with is skipped; the next is tried", async () => {
    const { agent, identities } = await agentWith(
      [
        [ec.publicKey.blob, "confirm-me"],
        [ed.publicKey.blob, "ed"],
      ],
      (_f, blob) => (blob.length === ed.publicKey.blob.length ? "ssh-ed25519" : null),
    );
    const { auth, offers } = server({ identities }, () => true);
    const result = await auth.run();
    expect(result.key?.publicKey.comment).toBe("ed");
    expect(offers.map((o) => o.algorithm)).toEqual(["ecdsa-sha2-nistp256", "ssh-ed25519", "ssh-ed25519"]);
    expect(auth.attempts.map((a) => a.outcome)).toEqual(["not signed"]);
    agent.close();
  });

  it("a key type we cannot sign with is never offered", async () => {
    const sk = new Writer().string("sk-ssh-ed25519@openssh.com").string(new Uint8Array(32)).string("ssh:").bytes();
    const { agent, identities } = await agentWith(
      [
        [sk, "fido"],
        [ed.publicKey.blob, "ed"],
      ],
      () => "ssh-ed25519",
    );
    const { auth, offers } = server({ identities }, () => true);
    await auth.run();
    expect(offers.map((o) => o.algorithm)).toEqual(["ssh-ed25519", "ssh-ed25519"]);
    agent.close();
  });

  it("a failure names the methods allowed, every key offered (source, type, fingerprint) and how to offer a password", async () => {
    const edCert = certificate(ed.publicKey.blob);
    const { agent, identities } = await agentWith(
      [
        [ed.publicKey.blob, "alice@laptop"],
        [edCert, "alice cert"],
      ],
      () => "ssh-ed25519",
    );
    const fileKey: Identity = {
      type: ec.type,
      publicKey: ec.publicKey,
      signatureAlgorithms: ec.signatureAlgorithms,
      sign: (data, alg) => ec.sign(data, alg),
      source: "/home/alice/.ssh/id_ecdsa",
    };
    const { auth } = server(
      { identities: [...identities, fileKey], passwordHint: "set TUNNEL_PASSWORD to offer one" },
      () => false,
    );
    const err = await auth.run().catch((e: SshError) => e);
    expect((err as SshError).code).toBe("AUTH_FAILED");
    const edFp = fingerprintSha256(nobleProvider, ed.publicKey.blob);
    const ecFp = fingerprintSha256(nobleProvider, ec.publicKey.blob);
    expect((err as SshError).message).toBe(
      [
        'authentication failed for user "alice": the server allows publickey, password; we tried publickey (no password was given)',
        `  refused: alice@laptop ssh-ed25519 ${edFp} (agent)`,
        `  refused: alice cert ssh-ed25519-cert-v01@openssh.com ${edFp} (agent)`,
        `  refused: /home/alice/.ssh/id_ecdsa ecdsa-sha2-nistp256 ${ecFp}`,
        "the server accepts passwords: set TUNNEL_PASSWORD to offer one",
      ].join("\n"),
    );
    agent.close();
  });

  it("a server hanging up on too many refused keys (MaxAuthTries) is an AUTH_FAILED naming them", async () => {
    const { agent, identities } = await agentWith([[ed.publicKey.blob, "one"]], () => "ssh-ed25519");
    const { auth } = server({ identities, tooManyKeysHint: "offer only the right key" }, () => false);
    await auth.run().catch(() => {});
    const disconnect = new SshError(
      "DISCONNECTED",
      "server disconnected: Too many authentication failures (reason 2: protocol error)",
      { reason: 2 },
    );
    const err = auth.explain(disconnect) as SshError;
    expect(err.code).toBe("AUTH_FAILED");
    expect(err.message).toMatch(
      /Too many authentication failures \(reason 2: protocol error\) after 1 keys were offered/,
    );
    expect(err.message).toMatch(/refused: one ssh-ed25519 SHA256:\S+ \(agent\)/);
    // the fact is the core's; the advice (which options choose the keys) is the caller's
    expect(err.message).toMatch(
      /\nthe server stops after a few refused keys \(sshd's MaxAuthTries, 6 by default\): offer only the right key$/,
    );
    // any other end of the connection stays what it was
    const lost = new SshError("CONNECTION_LOST", "connection closed");
    expect(auth.explain(lost)).toBe(lost);
    agent.close();
  });

  it("without a caller's hint, the MaxAuthTries failure states the fact alone (the core names no option)", async () => {
    const { agent, identities } = await agentWith([[ed.publicKey.blob, "one"]], () => "ssh-ed25519");
    const { auth } = server({ identities }, () => false);
    await auth.run().catch(() => {});
    const disconnect = new SshError("DISCONNECTED", "server disconnected: Too many authentication failures", {
      reason: 2,
    });
    const err = auth.explain(disconnect) as SshError;
    expect(err.code).toBe("AUTH_FAILED");
    expect(err.message).toMatch(/\nthe server stops after a few refused keys \(sshd's MaxAuthTries, 6 by default\)$/);
    agent.close();
  });
});
