/** Our client against our server over an in-memory pair: every algorithm, and the server's auth state machine. */
import * as nodeCrypto from "node:crypto";
import {
  ChannelOpenError,
  CIPHERS,
  connectClient,
  DEFAULT_KEX,
  generateEcdsa,
  generateEd25519,
  nobleProvider,
  type PrivateKey,
  parsePrivateKey,
  publicKeyEquals,
  type ServerAuthPolicy,
  SshError,
  serveConnection,
} from "@tunnel/ssh";
import { describe, expect, it } from "vitest";
import { ServerAuth } from "../../ssh/src/auth/server.ts";
import { memoryPair } from "../../ssh/src/runtime/memory.ts";

const p = nobleProvider;
const hostEd = generateEd25519(p);
const user = generateEd25519(p);
const rsaHost = parsePrivateKey(
  nodeCrypto
    .generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs1", format: "pem" })
    .toString(),
);
const allowUser: ServerAuthPolicy = { publicKey: (_u, k) => (publicKeyEquals(k, user.publicKey) ? {} : false) };

async function pair(o: { hostKeys?: PrivateKey[]; auth?: ServerAuthPolicy; client?: Record<string, unknown> } = {}) {
  const [a, b] = memoryPair();
  const server = serveConnection(b, {
    hostKeys: o.hostKeys ?? [hostEd],
    auth: o.auth ?? allowUser,
    onOpen(open) {
      if (open.type === "direct-tcpip" && open.data.utf8() === "allowed") {
        const ch = open.accept();
        ch.events = { data: (d) => ch.write(d), eof: () => ch.end() };
      } else open.reject(1, "not here");
    },
  });
  const client = await connectClient(a, {
    host: "mem",
    port: 22,
    username: "u",
    identities: [user],
    verifyHostKey: () => true,
    ...o.client,
  });
  return { client, server };
}

async function echo(client: Awaited<ReturnType<typeof pair>>["client"], n: number): Promise<boolean> {
  const ch = await client.mux.openDirectTcpip("allowed", 1, "o", 2);
  const data = nodeCrypto.randomBytes(n);
  const back: Buffer[] = [];
  await new Promise<void>((resolve) => {
    ch.events = {
      data: (d) => {
        back.push(Buffer.from(d));
        ch.consumed(d.length);
      },
      eof: () => resolve(),
    };
    ch.write(data);
    ch.end();
  });
  return Buffer.concat(back).equals(data);
}

describe("our client against our server, in memory", () => {
  it.each(DEFAULT_KEX)("KEX %s: handshake, auth and an echoed channel", async (kex) => {
    const { client } = await pair({ client: { algorithms: { kex: [kex] } } });
    expect(client.info.negotiated?.kex).toBe(kex);
    expect(await echo(client, 100_000)).toBe(true);
    client.close();
  });

  it.each([...CIPHERS.keys()])("cipher %s", async (cipher) => {
    const { client } = await pair({
      client: { algorithms: { cipher: [cipher], mac: ["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256"] } },
    });
    expect(client.info.negotiated?.cipherC2S).toBe(cipher);
    expect(await echo(client, 70_000)).toBe(true);
    client.close();
  });

  it.each([
    ["ssh-ed25519", () => hostEd],
    ["ecdsa-sha2-nistp256", () => generateEcdsa(p, "p256")],
    ["ecdsa-sha2-nistp384", () => generateEcdsa(p, "p384")],
    ["ecdsa-sha2-nistp521", () => generateEcdsa(p, "p521")],
    ["rsa-sha2-512", () => rsaHost],
    ["rsa-sha2-256", () => rsaHost],
  ] as const)("host key algorithm %s", async (alg, key) => {
    const { client } = await pair({ hostKeys: [key()], client: { algorithms: { hostKey: [alg] } } });
    expect(client.info.negotiated?.hostKey).toBe(alg);
    client.close();
  });

  it("an unknown key is refused, naming the methods", async () => {
    await expect(pair({ client: { identities: [generateEd25519(p)] } })).rejects.toThrow(/the server allows publickey/);
  });

  it("password through the callback; wrong passwords are bounded by maxTries", async () => {
    const auth: ServerAuthPolicy = { password: (_u, pw) => pw === "right", maxTries: 2 };
    const { client } = await pair({ auth, client: { identities: [], password: "right" } });
    expect(client.auth?.method).toBe("password");
    client.close();
    await expect(pair({ auth, client: { identities: [], password: "wrong" } })).rejects.toThrow(SshError);
  });

  it("none is refused unless allowed", async () => {
    await expect(pair({ auth: {}, client: { identities: [] } })).rejects.toThrow(/authentication failed/);
    const { client } = await pair({ auth: { allowNone: true }, client: { identities: [] } });
    expect(client.auth?.method).toBe("none");
    client.close();
  });

  it("channel opens are subject to the server's policy", async () => {
    const { client } = await pair();
    const err = await client.mux.openDirectTcpip("forbidden", 1, "o", 2).catch((e) => e);
    expect(err).toBeInstanceOf(ChannelOpenError);
    expect(err.reasonCode).toBe(1);
    expect(err.message).toBe("channel open refused: administratively prohibited (not here)");
    client.close();
  });

  it("the server's auth layer refuses connection-layer messages before success, and userauth before the service", () => {
    const auth = new ServerAuth({ send: () => {}, sessionId: new Uint8Array(32), provider: p }, allowUser);
    expect(() => auth.handle(Uint8Array.of(50, 0, 0, 0, 0))).toThrow(/USERAUTH_REQUEST before SERVICE_REQUEST/);
    expect(() => auth.handle(Uint8Array.of(90))).toThrow(/connection-layer message 90 before authentication/);
    expect(() => auth.handle(Uint8Array.of(52))).toThrow(/server-only authentication message 52/);
  });
});
