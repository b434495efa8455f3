/**
 * Fuzz targets, both state machines end to end over an in-memory pair (runtime/memory.ts):
 * our client (transport, RFC 4253; user auth, RFC 4252; connection, RFC 4254 — `SshClient`)
 * against a scripted fake server, and our server (`serveConnection`) against a scripted fake
 * client. The fake peer is our own implementation of the other role with its packet writer
 * hooked: it runs a correct handshake and session up to a point the input chooses (counted in
 * packets it sends), then from there mutates its payloads, replaces them with random ones,
 * injects valid-looking messages of every kind, corrupts the encrypted bytes after sealing
 * (MAC / AEAD failure paths), drops, duplicates or swaps packets, or sends random bytes.
 * Before NEWKEYS its packets are plain; strict KEX is on or off as the input says.
 *
 * Verdict: our side either carries on or closes with an `SshError`: never another error type
 * (as its close reason, from a promise of our API, or escaping as an uncaught exception or an
 * unhandled rejection), never unbounded traffic, and never a success it should not grant —
 * no authentication without a valid credential, no channel before authentication, no user
 * authentication before the host key was verified.
 */
import { DEFAULT_CIPHERS } from "../../packages/ssh/src/algorithms/cipher.ts";
import { DEFAULT_HOST_KEY_ALGORITHMS } from "../../packages/ssh/src/algorithms/hostkey.ts";
import { DEFAULT_KEX } from "../../packages/ssh/src/algorithms/kex.ts";
import { DEFAULT_MACS } from "../../packages/ssh/src/algorithms/mac.ts";
import { ServerAuth } from "../../packages/ssh/src/auth/server.ts";
import { SshClient } from "../../packages/ssh/src/client.ts";
import type { Channel } from "../../packages/ssh/src/connection/channel.ts";
import { Mux } from "../../packages/ssh/src/connection/mux.ts";
import { equalBytes, joinParts } from "../../packages/ssh/src/crypto/provider.ts";
import { SshError } from "../../packages/ssh/src/errors.ts";
import { ed25519FromSeed, generateEcdsa } from "../../packages/ssh/src/keys/generate.ts";
import type { PrivateKey } from "../../packages/ssh/src/keys/types.ts";
import { memoryPair } from "../../packages/ssh/src/runtime/memory.ts";
import type { Conn } from "../../packages/ssh/src/runtime/types.ts";
import { type SshServerConnection, serveConnection } from "../../packages/ssh/src/server.ts";
import type { PacketWriter } from "../../packages/ssh/src/transport/packet.ts";
import { type AlgorithmLists, Transport } from "../../packages/ssh/src/transport/transport.ts";
import { MSG } from "../../packages/ssh/src/wire/messages.ts";
import { Reader } from "../../packages/ssh/src/wire/reader.ts";
import { Writer } from "../../packages/ssh/src/wire/writer.ts";
import { fuzzCrypto, hex } from "./crypto.ts";
import { Finding, type FuzzTarget } from "./engine.ts";
import { concatBytes, hashBytes, mutate, Rng } from "./mutate.ts";
import { accelerated } from "./targets-wire.ts";

const pattern = (n: number, from: number) => Uint8Array.from({ length: n }, (_, i) => (from + i * 7) & 0xff);
const encode = (s: string) => new TextEncoder().encode(s);

let cryptoCache: ReturnType<typeof fuzzCrypto> | undefined;
function sessionCrypto() {
  cryptoCache ??= fuzzCrypto(accelerated(), 0x5e55);
  return cryptoCache;
}

let keysCache: { hostEd: PrivateKey; hostEcdsa: PrivateKey; user: PrivateKey } | undefined;
function keys() {
  if (!keysCache) {
    const c = sessionCrypto();
    c.reset();
    keysCache = {
      hostEd: ed25519FromSeed(c.provider, pattern(32, 0x41), "host"),
      hostEcdsa: generateEcdsa(c.provider, "p256", "host"),
      user: ed25519FromSeed(c.provider, pattern(32, 0x51), "user"),
    };
  }
  return keysCache;
}

const USER = "fuzzer";
const PASSWORD = "correct horse";
/** Most socket writes one run may make: a peer must not be able to start an endless exchange. */
const MAX_WRITES = 20_000;
/** Event-loop turns a run may take to go quiet. */
const MAX_TURNS = 400;

// ---- the script ----------------------------------------------------------------------------------------

/**
 * Input layout: config byte (algorithms, strict KEX, auth method, extras), cut (the index of
 * the peer's first packet that is not honest), mode (what it does from there), then bytes
 * that seed the mutations.
 */
interface Script {
  config: number;
  cut: number;
  mode: number;
  rng: Rng;
}

const MODES = [
  "mutate",
  "random",
  "inject",
  "corrupt-wire",
  "drop",
  "duplicate",
  "swap",
  "random-stream",
  "inject-mutated",
] as const;

function script(input: Uint8Array): Script {
  return {
    config: input[0] ?? 0,
    cut: (input[1] ?? 0) % 32,
    mode: (input[2] ?? 0) % MODES.length,
    rng: new Rng(hashBytes(input.subarray(3))),
  };
}

const CIPHER_CHOICES: [string, string][] = [
  ["chacha20-poly1305@openssh.com", "hmac-sha2-256-etm@openssh.com"],
  ["aes128-gcm@openssh.com", "hmac-sha2-256-etm@openssh.com"],
  ["aes256-ctr", "hmac-sha2-256-etm@openssh.com"],
  ["aes128-ctr", "hmac-sha2-512"],
];

/** The peer's algorithm lists: one choice per category, from the config byte. */
function peerAlgorithms(config: number): AlgorithmLists {
  const [cipher, mac] = CIPHER_CHOICES[(config >> 1) & 3] as [string, string];
  return {
    kex: [config & 1 ? "ecdh-sha2-nistp256" : "curve25519-sha256"],
    hostKey: [config & 8 ? "ecdsa-sha2-nistp256" : "ssh-ed25519"],
    cipher: [cipher],
    mac: [mac],
  };
}

const strictKex = (config: number) => (config & 16) === 0;
const usePassword = (config: number) => (config & 32) !== 0;

/**
 * Hooks the peer's packet writer: honest up to the cut, then what the mode says. The writer
 * stays the one place that frames and seals, so whatever it sends is encrypted and counted
 * consistently, before NEWKEYS and after.
 */
function hookWriter(w: PacketWriter, s: Script, dictionary: () => Uint8Array[]): void {
  const frame = w.framePieces.bind(w);
  let index = 0;
  let held: Uint8Array | undefined;
  let randomStream = false;
  const fresh = (): Uint8Array => {
    const d = dictionary();
    const pick = s.rng.pick(d);
    return MODES[s.mode] === "inject-mutated" ? mutate(s.rng, pick, d, 4096) : pick;
  };
  w.framePieces = (payload: Uint8Array, body?: Uint8Array): Uint8Array | Uint8Array[] => {
    const i = index++;
    const p = body ? concatBytes(payload, body) : payload;
    if (randomStream) return s.rng.bytes(s.rng.length(256));
    const after = i >= s.cut;
    // At the cut the mode always applies; later packets are disturbed one time in four.
    if (!after || (i > s.cut && !s.rng.chance(0.25))) {
      if (held) {
        const h = held;
        held = undefined;
        return [joinParts(frame(p)), joinParts(frame(h))];
      }
      return frame(p);
    }
    const d = dictionary();
    switch (MODES[s.mode]) {
      case "mutate":
        return frame(mutate(s.rng, p, d, 8192));
      case "random": {
        const r = s.rng.bytes(1 + s.rng.length(512));
        if (s.rng.chance(0.7)) r[0] = s.rng.below(110);
        return frame(r);
      }
      case "inject":
      case "inject-mutated": {
        const out: Uint8Array[] = [];
        const n = 1 + s.rng.below(4);
        for (let k = 0; k < n; k++) out.push(joinParts(frame(fresh())));
        out.push(joinParts(frame(p)));
        return out;
      }
      case "corrupt-wire": {
        const wire = joinParts(frame(p)).slice();
        if (wire.length === 0) return wire;
        const flips = 1 + s.rng.below(3);
        for (let k = 0; k < flips; k++) {
          const at = s.rng.below(wire.length);
          wire[at] = (wire[at] as number) ^ (1 << s.rng.below(8));
        }
        return s.rng.chance(0.2) ? wire.subarray(0, s.rng.below(wire.length)) : wire;
      }
      case "drop":
        return new Uint8Array(0);
      case "duplicate":
        return [joinParts(frame(p)), joinParts(frame(p))];
      case "swap":
        held = p;
        return new Uint8Array(0);
      case "random-stream":
        randomStream = true;
        return s.rng.bytes(s.rng.length(256));
      default:
        return frame(p);
    }
  };
}

// ---- what a peer may say -----------------------------------------------------------------------------

const channelMessages = (id: number): Uint8Array[] => [
  new Writer(32).byte(MSG.CHANNEL_OPEN_CONFIRMATION).uint32(id).uint32(7).uint32(65536).uint32(32768).bytes(),
  new Writer(32).byte(MSG.CHANNEL_OPEN_FAILURE).uint32(id).uint32(2).string("refused\x1b[2J").string("").bytes(),
  new Writer(16).byte(MSG.CHANNEL_WINDOW_ADJUST).uint32(id).uint32(0xfffffff0).bytes(),
  new Writer(64).byte(MSG.CHANNEL_DATA).uint32(id).string(pattern(40, 2)).bytes(),
  new Writer(64).byte(MSG.CHANNEL_EXTENDED_DATA).uint32(id).uint32(1).string("stderr").bytes(),
  new Writer(8).byte(MSG.CHANNEL_EOF).uint32(id).bytes(),
  new Writer(8).byte(MSG.CHANNEL_CLOSE).uint32(id).bytes(),
  new Writer(64).byte(MSG.CHANNEL_REQUEST).uint32(id).string("exit-status").boolean(true).uint32(1).bytes(),
  new Writer(8).byte(MSG.CHANNEL_SUCCESS).uint32(id).bytes(),
  new Writer(8).byte(MSG.CHANNEL_FAILURE).uint32(id).bytes(),
];

const transportMessages = (): Uint8Array[] => [
  new Writer(32).byte(MSG.IGNORE).string(pattern(20, 1)).bytes(),
  new Writer(64).byte(MSG.DEBUG).boolean(true).string("look \x1b]0;title\x07 here").string("").bytes(),
  new Writer(64).byte(MSG.DISCONNECT).uint32(2).string("bye \x1b[2J").string("").bytes(),
  new Writer(8).byte(MSG.UNIMPLEMENTED).uint32(3).bytes(),
  Uint8Array.of(MSG.NEWKEYS),
  new Writer(64).byte(MSG.EXT_INFO).uint32(1).string("server-sig-algs").string("ssh-ed25519,rsa-sha2-256").bytes(),
  new Writer(64).byte(MSG.EXT_INFO).uint32(0xffffffff).bytes(),
  new Writer(64).byte(MSG.KEX_ECDH_INIT).string(pattern(32, 9)).bytes(),
  new Writer(64).byte(MSG.KEX_ECDH_REPLY).string("").string(pattern(32, 9)).string("").bytes(),
  Uint8Array.of(15),
  Uint8Array.of(77),
  Uint8Array.of(200, 1, 2, 3),
  new Writer(64).byte(MSG.GLOBAL_REQUEST).string("keepalive@openssh.com").boolean(true).bytes(),
  Uint8Array.of(MSG.REQUEST_SUCCESS),
  Uint8Array.of(MSG.REQUEST_FAILURE),
];

function kexInitFrom(lists: AlgorithmLists): Uint8Array {
  const w = new Writer(512).byte(MSG.KEXINIT).raw(pattern(16, 3));
  for (const l of [lists.kex, lists.hostKey, lists.cipher, lists.cipher, lists.mac, lists.mac]) w.nameList(l);
  return w.nameList(["none"]).nameList(["none"]).nameList([]).nameList([]).boolean(false).uint32(0).bytes();
}

/** What a server may send our client. */
function serverDictionary(config: number): Uint8Array[] {
  return [
    ...transportMessages(),
    kexInitFrom(peerAlgorithms(config)),
    new Writer(32).byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").bytes(),
    new Writer(64).byte(MSG.USERAUTH_FAILURE).string("publickey,password").boolean(false).bytes(),
    new Writer(64).byte(MSG.USERAUTH_FAILURE).string("password").boolean(true).bytes(),
    Uint8Array.of(MSG.USERAUTH_SUCCESS),
    new Writer(64).byte(MSG.USERAUTH_BANNER).string("hi\r\n\x1b[31m").string("").bytes(),
    new Writer(128).byte(60).string("ssh-ed25519").string(keys().user.publicKey.blob).bytes(),
    new Writer(128)
      .byte(MSG.CHANNEL_OPEN)
      .string("forwarded-tcpip")
      .uint32(3)
      .uint32(65536)
      .uint32(32768)
      .string("127.0.0.1")
      .uint32(4321)
      .string("10.9.8.7")
      .uint32(5555)
      .bytes(),
    new Writer(64).byte(MSG.CHANNEL_OPEN).string("session").uint32(4).uint32(0).uint32(0).bytes(),
    ...channelMessages(0),
    ...channelMessages(1),
  ];
}

/** What a client may send our server. */
function clientDictionary(config: number): Uint8Array[] {
  const k = keys().user;
  const req = (method: string) =>
    new Writer(256).byte(MSG.USERAUTH_REQUEST).string(USER).string("ssh-connection").string(method);
  return [
    ...transportMessages(),
    kexInitFrom(peerAlgorithms(config)),
    new Writer(32).byte(MSG.SERVICE_REQUEST).string("ssh-userauth").bytes(),
    new Writer(32).byte(MSG.SERVICE_REQUEST).string("ssh-connection").bytes(),
    req("none").bytes(),
    req("password").boolean(false).string(PASSWORD).bytes(),
    req("password").boolean(false).string("wrong").bytes(),
    req("publickey").boolean(false).string("ssh-ed25519").string(k.publicKey.blob).bytes(),
    req("publickey").boolean(true).string("ssh-ed25519").string(k.publicKey.blob).string(pattern(83, 4)).bytes(),
    new Writer(64).byte(MSG.GLOBAL_REQUEST).string("tcpip-forward").boolean(true).string("127.0.0.1").uint32(0).bytes(),
    new Writer(64)
      .byte(MSG.GLOBAL_REQUEST)
      .string("cancel-tcpip-forward")
      .boolean(true)
      .string("127.0.0.1")
      .uint32(4321)
      .bytes(),
    new Writer(128)
      .byte(MSG.CHANNEL_OPEN)
      .string("direct-tcpip")
      .uint32(9)
      .uint32(65536)
      .uint32(32768)
      .string("echo.internal")
      .uint32(7)
      .string("127.0.0.1")
      .uint32(5555)
      .bytes(),
    new Writer(64).byte(MSG.CHANNEL_OPEN).string("session").uint32(10).uint32(1).uint32(0).bytes(),
    ...channelMessages(0),
    ...channelMessages(1),
  ];
}

// ---- plumbing ----------------------------------------------------------------------------------------

interface Traffic {
  writes: number;
  flooded: boolean;
  pair: [Conn, Conn];
}

/** A conn that counts writes, and cuts both ends once a run passes the write budget. */
function counted(conn: Conn, traffic: Traffic): Conn {
  return {
    write: (data) => {
      if (++traffic.writes > MAX_WRITES && !traffic.flooded) {
        traffic.flooded = true;
        traffic.pair[0].destroy();
        traffic.pair[1].destroy();
      }
      return conn.write(data);
    },
    end: () => conn.end(),
    destroy: () => conn.destroy(),
    reset: () => conn.reset(),
    pause: () => conn.pause(),
    resume: () => conn.resume(),
    setHandlers: (h) => conn.setHandlers(h),
    remoteAddress: "192.0.2.7",
    remotePort: 50000,
    localAddress: "192.0.2.1",
    localPort: 22,
  };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Lets the exchange run until a turn of the event loop passes with no write. */
async function settle(traffic: Traffic): Promise<void> {
  let last = -1;
  for (let i = 0; i < MAX_TURNS && traffic.writes !== last; i++) {
    last = traffic.writes;
    await turn();
  }
}

/** Uncaught exceptions and unhandled rejections while a run is going on belong to it. */
function catchEscapes(): { escaped: unknown[]; stop(): void } {
  const escaped: unknown[] = [];
  const on = (e: unknown) => escaped.push(e);
  const p = globalThis.process;
  p?.on?.("uncaughtException", on);
  p?.on?.("unhandledRejection", on);
  return {
    escaped,
    stop() {
      p?.off?.("uncaughtException", on);
      p?.off?.("unhandledRejection", on);
    },
  };
}

function sshOnly(err: unknown, where: string): void {
  if (err === undefined || err instanceof SshError) return;
  if (err instanceof Finding) throw err;
  const e = err as Error;
  throw Object.assign(new Error(`${where}: ${e?.name ?? "?"}: ${e?.message ?? String(err)}`), {
    name: e?.name ?? "Error",
    stack: e?.stack ?? "",
  });
}

/** A channel whose data is taken and acknowledged, never answered (we write on it ourselves). */
function sink(ch: Channel): void {
  ch.events = { data: (d) => ch.consumed(d.length) };
}

/** A channel that sends back what it gets, then closes when the other side is done. */
function echo(ch: Channel): void {
  let done = false;
  ch.events = {
    data: (d) => {
      if (!done && !ch.peerGone) ch.write(d);
      ch.consumed(d.length);
    },
    eof: () => {
      if (!done) {
        done = true;
        ch.finish();
      }
    },
    close: () => {
      done = true;
    },
  };
}

function sessionSeeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  // Honest runs in every configuration, and each mode at a spread of cut points.
  for (let config = 0; config < 256; config += 17) out.push(Uint8Array.of(config, 31, 0, 0, 0, 0, 0));
  for (let mode = 0; mode < MODES.length; mode++) {
    for (const cut of [0, 2, 5, 9, 14]) out.push(Uint8Array.of((mode * 37 + cut) & 0xff, cut, mode, cut, mode, 1, 2));
  }
  return out;
}

// ---- our client against a fake server -----------------------------------------------------------------

/** A server built from our parts with its writer hooked before it says anything. */
function fakeServer(conn: Conn, s: Script): Transport {
  const c = sessionCrypto();
  const k = keys();
  let t: Transport | undefined;
  const auth = new ServerAuth(
    {
      send: (p) => t?.send(p),
      get sessionId() {
        return t?.sessionId;
      },
      provider: c.provider,
    },
    {
      publicKey: (_u, key) => (equalBytes(key.blob, k.user.publicKey.blob) ? {} : false),
      password: (_u, pw) => pw === PASSWORD,
      banner: s.config & 64 ? "Authorised use only\r\n" : undefined,
    },
  );
  const mux = new Mux({
    send: (p, b) => t?.send(p, b),
    get congested() {
      return t?.congested ?? false;
    },
  });
  mux.onOpen = (open) => {
    if (open.type === "direct-tcpip") echo(open.accept());
    else open.reject(1, "no");
  };
  mux.onGlobalRequest = (name) => {
    if (name !== "tcpip-forward") return undefined;
    // Later, as a connection to the new listener would come (not in the same read as the reply).
    setImmediate(() => {
      mux
        .open(
          "forwarded-tcpip",
          new Writer(64).string("127.0.0.1").uint32(4321).string("10.9.8.7").uint32(5555).bytes(),
        )
        .then(
          (ch) => {
            sink(ch);
            ch.write(encode("from the server"));
            ch.end();
          },
          () => {},
        );
    });
    return Uint8Array.of(0, 0, 0x10, 0xe1);
  };
  auth.fatal = (e) => t?.fail(e);
  t = new Transport({
    role: "server",
    conn,
    algorithms: peerAlgorithms(s.config),
    provider: c.provider,
    random: c.random,
    hostKeys: [s.config & 8 ? k.hostEcdsa : k.hostEd],
    strictKex: strictKex(s.config),
    onMessage: (p) => auth.handle(p) || mux.handle(p),
    onClose: (e) => mux.abort(e ?? new SshError("CONNECTION_LOST", "closed")),
  });
  hookWriter(t.writer, s, () => serverDictionary(s.config));
  t.start();
  return t;
}

export const clientSession: FuzzTarget = {
  name: "client-session",
  describe:
    "our SshClient (transport, auth, mux) against a scripted fake server over memoryPair: honest up to the input's cut, then mutated, random, injected, corrupted-after-sealing, dropped, duplicated or swapped packets; after authentication the client opens a direct-tcpip channel, asks for a remote forward, rekeys; refusals: SshError as the close reason and from every promise; invariants: no uncaught exception or unhandled rejection, bounded traffic, no authentication before the host key was verified",
  maxLength: 64,
  seeds: sessionSeeds,
  accepts: (err) => err instanceof SshError,
  async run(input) {
    const s = script(input);
    const c = sessionCrypto();
    const k = keys();
    c.reset();
    const escapes = catchEscapes();
    const [a, b] = memoryPair();
    const traffic: Traffic = { writes: 0, flooded: false, pair: [a, b] };
    let hostKeyAccepted = false;
    let closeReason: unknown = "open";
    const problems: unknown[] = [];
    try {
      fakeServer(counted(b, traffic), s);
      const client = new SshClient(counted(a, traffic), {
        host: "fuzz.example",
        port: 22,
        username: USER,
        ...(usePassword(s.config) ? { password: PASSWORD } : { identities: [k.user] }),
        verifyHostKey: (info) => {
          const want = (s.config & 8 ? k.hostEcdsa : k.hostEd).publicKey.blob;
          hostKeyAccepted = equalBytes(info.key.blob, want);
          return hostKeyAccepted;
        },
        provider: c.provider,
        random: c.random,
        onBanner: () => {},
        onDebug: () => {},
      });
      client.onceClosed((e) => {
        closeReason = e;
      });
      const program = (async () => {
        await client.start(600_000);
        if (!hostKeyAccepted) throw new Finding("authenticated before the host key was accepted");
        const ch = await client.mux.openDirectTcpip("echo.internal", 7, "127.0.0.1", 5555);
        sink(ch);
        ch.write(pattern(3000, 1));
        ch.end();
        await client.forwardRemote("127.0.0.1", 0, (open) => echo(open.accept()));
        client.sendIgnore(pattern(10, 1));
        if (s.config & 128) client.transport.beginKex();
        const ch2 = await client.mux.openDirectTcpip("echo.internal", 7, "127.0.0.1", 5556);
        sink(ch2);
        ch2.write(pattern(100, 2));
        ch2.finish();
      })();
      program.catch((e: unknown) => problems.push(e));
      await settle(traffic);
      a.destroy();
      await settle(traffic);
      await turn();
      for (const p of problems) sshOnly(p, "the client program");
      sshOnly(closeReason === "open" ? undefined : closeReason, "the client's close reason");
      if (closeReason === "open") throw new Finding("the client did not close when its connection was destroyed");
      for (const e of escapes.escaped) sshOnly(e, "escaped");
      if (escapes.escaped.length > 0) throw new Finding(`an error escaped: ${String(escapes.escaped[0])}`);
      if (traffic.flooded) throw new Finding(`more than ${MAX_WRITES} writes in one run`);
    } finally {
      escapes.stop();
      a.destroy();
    }
  },
  budgetMs: 10_000,
  quick: 150,
};

// ---- our server against a fake client -----------------------------------------------------------------

export const serverSession: FuzzTarget = {
  name: "server-session",
  describe:
    "our server (serveConnection: transport, auth, mux) against a scripted fake client over memoryPair: honest up to the input's cut, then mutated, random, injected, corrupted-after-sealing, dropped, duplicated or swapped packets; the honest client authenticates, opens a direct-tcpip channel, asks for a remote forward and rekeys; refusals: SshError as the close reason; invariants: no uncaught exception or unhandled rejection, bounded traffic, authentication only with the right password or a verified signature by the allowed key, no channel or global request before authentication",
  maxLength: 64,
  seeds: sessionSeeds,
  accepts: (err) => err instanceof SshError,
  async run(input) {
    const s = script(input);
    const c = sessionCrypto();
    const k = keys();
    c.reset();
    const escapes = catchEscapes();
    const [a, b] = memoryPair();
    const traffic: Traffic = { writes: 0, flooded: false, pair: [a, b] };
    let closeReason: unknown = "open";
    let passwordGranted = false;
    const problems: unknown[] = [];
    let server: SshServerConnection | undefined;
    try {
      server = serveConnection(counted(a, traffic), {
        hostKeys: [k.hostEd, k.hostEcdsa],
        auth: {
          publicKey: (_u, key) => (equalBytes(key.blob, k.user.publicKey.blob) ? { options: [] } : false),
          password: (_u, pw) => {
            const ok = pw === PASSWORD;
            if (ok) passwordGranted = true;
            return s.config & 64 ? Promise.resolve(ok) : ok;
          },
          ...(s.config & 64 ? { banner: "Authorised use only\r\n" } : {}),
        },
        algorithms: {
          kex: DEFAULT_KEX,
          hostKey: DEFAULT_HOST_KEY_ALGORITHMS,
          cipher: DEFAULT_CIPHERS,
          mac: DEFAULT_MACS,
        },
        provider: c.provider,
        random: c.random,
        loginGraceMs: 600_000,
        maxChannels: 8,
        onOpen: (open, session) => {
          if (!session.auth.done) problems.push(new Finding("a channel open reached onOpen before authentication"));
          if (open.type === "direct-tcpip") echo(open.accept());
          else open.reject(1, "no");
        },
        onGlobalRequest: (name, _data, session) => {
          if (!session.auth.done)
            problems.push(new Finding("a global request reached the server before authentication"));
          if (name !== "tcpip-forward") return undefined;
          setImmediate(() => {
            session.mux
              .open(
                "forwarded-tcpip",
                new Writer(64).string("127.0.0.1").uint32(4321).string("10.9.8.7").uint32(1).bytes(),
              )
              .then(
                (ch) => {
                  sink(ch);
                  ch.write(encode("from the server"));
                },
                (e: unknown) => problems.push(e),
              );
          });
          return Uint8Array.of(0, 0, 0x10, 0xe1);
        },
      });
      server.onceClosed((e) => {
        closeReason = e;
      });
      const peer = new SshClient(counted(b, traffic), {
        host: "fuzz.example",
        port: 22,
        username: USER,
        ...(usePassword(s.config) ? { password: PASSWORD } : { identities: [k.user] }),
        verifyHostKey: () => true,
        algorithms: peerAlgorithms(s.config),
        provider: c.provider,
        random: c.random,
      });
      // The fake client offers strict KEX or not, as the script says (TransportOptions.strictKex).
      peer.transport.options.strictKex = strictKex(s.config);
      hookWriter(peer.transport.writer, s, () => clientDictionary(s.config));
      void (async () => {
        await peer.start(600_000);
        const ch = await peer.mux.openDirectTcpip("echo.internal", 7, "127.0.0.1", 5555);
        sink(ch);
        ch.write(pattern(3000, 1));
        ch.end();
        await peer.forwardRemote("127.0.0.1", 0, (open) => echo(open.accept()));
        if (s.config & 128) peer.transport.beginKex();
        peer.sendIgnore(pattern(10, 1));
      })().catch(() => {});
      await settle(traffic);
      a.destroy();
      await settle(traffic);
      await turn();
      for (const p of problems) sshOnly(p, "the server");
      sshOnly(closeReason === "open" ? undefined : closeReason, "the server's close reason");
      if (closeReason === "open") throw new Finding("the server did not close when its connection was destroyed");
      const result = server.auth.result;
      if (result) {
        if (result.method === "none") throw new Finding("none succeeded on a server that does not allow it");
        if (result.method === "password" && !passwordGranted)
          throw new Finding("password success the policy never granted");
        if (result.method === "publickey") {
          const raw = new Reader(k.user.publicKey.blob);
          raw.string();
          if (!c.verifiedFor.has(hex(raw.string())))
            throw new Finding("publickey success without a verified signature");
        }
      }
      for (const e of escapes.escaped) sshOnly(e, "escaped");
      if (escapes.escaped.length > 0) throw new Finding(`an error escaped: ${String(escapes.escaped[0])}`);
      if (traffic.flooded) throw new Finding(`more than ${MAX_WRITES} writes in one run`);
    } finally {
      escapes.stop();
      a.destroy();
    }
  },
  budgetMs: 10_000,
  quick: 150,
};
