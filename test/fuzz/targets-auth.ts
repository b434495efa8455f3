/**
 * Fuzz targets, message decoders above the transport, each driven by a script of messages
 * (length-prefixed records) with a fake transport in-process: the client's user
 * authentication (RFC 4252, auth/client.ts), the server's (auth/server.ts), and the connection
 * protocol (RFC 4254) through `Mux.handle` (connection/mux.ts), with our own side's actions
 * (writes, closes, opens, accepting an incoming open) interleaved as local records.
 *
 * A peer's message may only be refused with an `SshError`; promises our API hands out reject
 * only with one; nothing we send breaks the peer's limits (window, maximum packet size).
 */
import { type AuthResult, ClientAuth, type ClientAuthOptions } from "../../packages/ssh/src/auth/client.ts";
import { ServerAuth, type ServerAuthPolicy, type ServerAuthResult } from "../../packages/ssh/src/auth/server.ts";
import type { Channel } from "../../packages/ssh/src/connection/channel.ts";
import { type IncomingOpen, Mux } from "../../packages/ssh/src/connection/mux.ts";
import { nobleProvider } from "../../packages/ssh/src/crypto/noble.ts";
import { equalBytes } from "../../packages/ssh/src/crypto/provider.ts";
import { SshError } from "../../packages/ssh/src/errors.ts";
import { ed25519FromSeed } from "../../packages/ssh/src/keys/generate.ts";
import { MSG } from "../../packages/ssh/src/wire/messages.ts";
import { Reader } from "../../packages/ssh/src/wire/reader.ts";
import { Writer } from "../../packages/ssh/src/wire/writer.ts";
import { fuzzCrypto, hex } from "./crypto.ts";
import { Finding, type FuzzTarget } from "./engine.ts";
import { concatBytes, decodeRecords, encodeRecords } from "./mutate.ts";

const pattern = (n: number, from: number) => Uint8Array.from({ length: n }, (_, i) => (from + i * 7) & 0xff);

/** Lets every queued microtask run (the auth flows resume on promise callbacks). */
export const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

const authCrypto = fuzzCrypto(nobleProvider, 0xa11);
export const clientKey = ed25519FromSeed(authCrypto.provider, pattern(32, 9), "fuzz");
const SESSION_ID = pattern(32, 0x33);
const USER = "fuzzer";
const PASSWORD = "correct horse";

/** Text shown to people keeps no control character but line feeds and tabs (RFC 4251 §9.2). */
const UNSAFE_SHOWN = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const onlySshError = (err: unknown) => err instanceof SshError;

function rethrowUnlessSsh(err: unknown): SshError {
  if (err instanceof SshError) return err;
  throw err;
}

// ---- client authentication -----------------------------------------------------------------------

const serviceAccept = new Writer(32).byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").bytes();
const failure = (methods: string, partial = false) =>
  new Writer(64).byte(MSG.USERAUTH_FAILURE).string(methods).boolean(partial).bytes();
const success = Uint8Array.of(MSG.USERAUTH_SUCCESS);
const pkOk = new Writer(128).byte(MSG.USERAUTH_PK_OK).string("ssh-ed25519").string(clientKey.publicKey.blob).bytes();
const banner = (text: string) => new Writer(128).byte(MSG.USERAUTH_BANNER).string(text).string("").bytes();

/** Config bits: 1 identity, 2 password, 4 server-sig-algs known, 8 refuse trivial auth, 16 password by callback. */
function clientAuthOptions(config: number, banners: string[]): ClientAuthOptions {
  return {
    username: USER,
    ...(config & 1 ? { identities: [clientKey] } : {}),
    ...(config & 2 ? { password: config & 16 ? () => Promise.resolve(PASSWORD) : PASSWORD } : {}),
    ...(config & 8 ? { rejectTrivialAuth: true } : {}),
    onBanner: (b) => banners.push(b),
  };
}

export const userauthClient: FuzzTarget = {
  name: "userauth-client",
  describe:
    "ClientAuth (RFC 4252) fed a script of server messages after its SERVICE_REQUEST: a config byte (identity, password, server-sig-algs, trivial-auth refusal) then records; refusals: SshError from handle() and from run(); invariants: trivial auth is refused when asked, publickey success names our key after a signed request, banners reach the caller escaped",
  maxLength: 4096,
  seeds: () => [
    concatBytes(Uint8Array.of(7), encodeRecords([serviceAccept, failure("publickey,password"), pkOk, success])),
    concatBytes(
      Uint8Array.of(2),
      encodeRecords([serviceAccept, banner("Welcome\r\n\x1b]0;owned\x07\x1b[2J"), failure("password"), success]),
    ),
    concatBytes(Uint8Array.of(8), encodeRecords([serviceAccept, success])),
    concatBytes(Uint8Array.of(0), encodeRecords([serviceAccept, success])),
    concatBytes(
      Uint8Array.of(19),
      encodeRecords([
        serviceAccept,
        failure("publickey,password"),
        failure("publickey,password"),
        new Writer(64).byte(60).string("change it").string("").bytes(),
      ]),
    ),
    concatBytes(
      Uint8Array.of(3),
      encodeRecords([serviceAccept, failure("publickey"), pkOk, failure("password,publickey", true), success]),
    ),
  ],
  accepts: onlySshError,
  async run(input) {
    if (input.length === 0) return;
    const config = input[0] as number;
    const banners: string[] = [];
    const sent: Uint8Array[] = [];
    authCrypto.reset();
    const auth = new ClientAuth(
      {
        send: (p) => sent.push(p),
        sessionId: SESSION_ID,
        serverSigAlgs: config & 4 ? ["rsa-sha2-256", "ssh-ed25519"] : undefined,
      },
      clientAuthOptions(config, banners),
    );
    let outcome: { result: AuthResult } | { error: unknown } | undefined;
    const running = auth.run().then(
      (result) => {
        outcome = { result };
      },
      (error: unknown) => {
        outcome = { error };
      },
    );
    await tick();
    let refused: SshError | undefined;
    for (const payload of decodeRecords(input, 1)) {
      if (outcome || payload.length === 0) break;
      try {
        auth.handle(payload);
      } catch (err) {
        refused = rethrowUnlessSsh(err);
        auth.abort(refused);
        break;
      }
      await tick();
    }
    if (!outcome) auth.abort(new SshError("CONNECTION_LOST", "the script ended"));
    await running;
    const o = outcome as { result: AuthResult } | { error: unknown };
    for (const b of banners)
      if (UNSAFE_SHOWN.test(b)) throw new Finding(`a banner reached the caller raw: ${JSON.stringify(b)}`);
    if ("error" in o) {
      rethrowUnlessSsh(o.error);
    } else {
      if (o.result.method === "none" && config & 8) throw new Finding("trivial auth (none) accepted although refused");
      if (o.result.method === "publickey") {
        if (o.result.key !== clientKey) throw new Finding("publickey success names another key");
        const signed = sent.some((p) => {
          if (p[0] !== MSG.USERAUTH_REQUEST) return false;
          const r = new Reader(p, 1);
          r.string();
          r.string();
          return r.ascii() === "publickey" && r.boolean();
        });
        if (!signed) throw new Finding("publickey success without a signed request");
      }
      if (o.result.method === "password" && !(config & 2)) throw new Finding("password success without a password");
    }
    if (refused) throw refused;
  },
  budgetMs: 3000,
  quick: 1000,
};

// ---- server authentication -----------------------------------------------------------------------

const serviceRequest = new Writer(32).byte(MSG.SERVICE_REQUEST).string("ssh-userauth").bytes();
const request = (method: string) =>
  new Writer(256).byte(MSG.USERAUTH_REQUEST).string(USER).string("ssh-connection").string(method);

function signedRequest(): Uint8Array {
  const blob = clientKey.publicKey.blob;
  const data = new Writer(512)
    .string(SESSION_ID)
    .byte(MSG.USERAUTH_REQUEST)
    .string(USER)
    .string("ssh-connection")
    .string("publickey")
    .boolean(true)
    .string("ssh-ed25519")
    .string(blob)
    .bytes();
  return request("publickey")
    .boolean(true)
    .string("ssh-ed25519")
    .string(blob)
    .string(clientKey.sign(data, "ssh-ed25519"))
    .bytes();
}

export const userauthServer: FuzzTarget = {
  name: "userauth-server",
  describe:
    "ServerAuth (RFC 4252) fed a script of client messages: a config byte (none allowed, banner, async policy, which methods, few tries) then records; refusals: SshError from handle() and through fatal(); invariants: success only through none when allowed, a password the policy accepted, or a signature that verified for the allowed key",
  maxLength: 4096,
  seeds: () => {
    const query = request("publickey").boolean(false).string("ssh-ed25519").string(clientKey.publicKey.blob).bytes();
    const password = (pw: string, change?: string) => {
      const w = request("password")
        .boolean(change !== undefined)
        .string(pw);
      if (change !== undefined) w.string(change);
      return w.bytes();
    };
    return [
      concatBytes(
        Uint8Array.of(0x18),
        encodeRecords([serviceRequest, request("none").bytes(), query, signedRequest()]),
      ),
      concatBytes(Uint8Array.of(0x1a), encodeRecords([serviceRequest, password("wrong"), password(PASSWORD)])),
      concatBytes(Uint8Array.of(0x1e), encodeRecords([serviceRequest, password(PASSWORD, "new one")])),
      concatBytes(Uint8Array.of(0x01), encodeRecords([serviceRequest, request("none").bytes()])),
      concatBytes(Uint8Array.of(0x3c), encodeRecords([serviceRequest, signedRequest(), signedRequest()])),
      concatBytes(Uint8Array.of(0x18), encodeRecords([request("none").bytes(), serviceRequest])),
    ];
  },
  accepts: onlySshError,
  async run(input) {
    if (input.length === 0) return;
    const config = input[0] as number;
    const async = (config & 4) !== 0;
    let passwordAccepted = false;
    const policy: ServerAuthPolicy = {
      ...(config & 1 ? { allowNone: true } : {}),
      ...(config & 2 ? { banner: "Authorised use only\r\n" } : {}),
      ...(config & 8
        ? {
            publicKey: (_user, key) => {
              const ok = equalBytes(key.blob, clientKey.publicKey.blob) ? { options: ["restrict"] } : false;
              return async ? Promise.resolve(ok) : ok;
            },
          }
        : {}),
      ...(config & 16
        ? {
            password: (_user, pw) => {
              const ok = pw === PASSWORD;
              if (ok) passwordAccepted = true;
              return async ? Promise.resolve(ok) : ok;
            },
          }
        : {}),
      ...(config & 32 ? { maxTries: 2 } : {}),
    };
    authCrypto.reset();
    const fatal: unknown[] = [];
    let succeeded: ServerAuthResult | undefined;
    const auth = new ServerAuth({ send: () => {}, sessionId: SESSION_ID, provider: authCrypto.provider }, policy);
    auth.fatal = (err) => fatal.push(err);
    auth.onSuccess = (r) => {
      if (succeeded) throw new Finding("onSuccess called twice");
      succeeded = r;
    };
    let refused: SshError | undefined;
    for (const payload of decodeRecords(input, 1)) {
      if (payload.length === 0 || fatal.length > 0) break;
      try {
        auth.handle(payload);
      } catch (err) {
        refused = rethrowUnlessSsh(err);
        break;
      }
      await tick();
    }
    await tick();
    for (const f of fatal) rethrowUnlessSsh(f);
    if (succeeded) {
      const r: ServerAuthResult = succeeded;
      if (r.method === "none" && !(config & 1)) throw new Finding("none succeeded although not allowed");
      if (r.method === "password" && !passwordAccepted) throw new Finding("password success the policy never granted");
      if (r.method === "publickey") {
        if (!r.key || !equalBytes(r.key.blob, clientKey.publicKey.blob))
          throw new Finding("publickey success for another key");
        const raw = new Reader(clientKey.publicKey.blob);
        raw.string();
        if (!authCrypto.verifiedFor.has(hex(raw.string())))
          throw new Finding("publickey success without a verified signature");
      }
      if (auth.result !== r) throw new Finding("result and onSuccess disagree");
    } else if (auth.done) throw new Finding("done without onSuccess");
    if (refused) throw refused;
    if (fatal.length > 0) throw fatal[0];
  },
  budgetMs: 3000,
  quick: 1000,
};

// ---- connection protocol through the mux ---------------------------------------------------------

const MAX_U32 = 0xffffffff;

interface Grant {
  window: number;
  maxPacket: number;
  sent: number;
  closedByUs: boolean;
  ambiguous: boolean;
}

const local = (op: number, ...args: number[]) => Uint8Array.of(0, op, ...args);
const confirm = (id: number, remote: number, window: number, max: number) =>
  new Writer(32).byte(MSG.CHANNEL_OPEN_CONFIRMATION).uint32(id).uint32(remote).uint32(window).uint32(max).bytes();
const chData = (id: number, data: Uint8Array) => new Writer(64).byte(MSG.CHANNEL_DATA).uint32(id).string(data).bytes();
const adjust = (id: number, n: number) => new Writer(16).byte(MSG.CHANNEL_WINDOW_ADJUST).uint32(id).uint32(n).bytes();
const eof = (id: number) => new Writer(8).byte(MSG.CHANNEL_EOF).uint32(id).bytes();
const close = (id: number) => new Writer(8).byte(MSG.CHANNEL_CLOSE).uint32(id).bytes();
const incomingOpen = (type: string, sender: number, window: number, max: number) =>
  new Writer(128)
    .byte(MSG.CHANNEL_OPEN)
    .string(type)
    .uint32(sender)
    .uint32(window)
    .uint32(max)
    .string("127.0.0.1")
    .uint32(8080)
    .string("10.0.0.2")
    .uint32(40000)
    .bytes();

export const mux: FuzzTarget = {
  name: "mux",
  describe:
    "Mux.handle (RFC 4254) with a fake transport, two channels opened by us at the start; a config byte (how incoming opens and global requests are answered, a small channel cap) then records: peer messages, or local actions (write, end, close, finish, consume, open, global request, congestion, accept / reject a held open); refusals: SshError from handle() and from the promises; invariants: we never send more than the peer's window or maximum packet, nor data after our CLOSE, nor anything after the connection died; windows stay within 0..2^32-1; the channel cap holds",
  maxLength: 8192,
  seeds: () => [
    concatBytes(
      Uint8Array.of(1),
      encodeRecords([
        confirm(0, 100, 65536, 32768),
        confirm(1, 101, 1000, 10),
        chData(0, pattern(100, 1)),
        local(0, 0, 10),
        local(0, 1, 1),
        adjust(1, 5000),
        new Writer(32).byte(MSG.CHANNEL_EXTENDED_DATA).uint32(1).uint32(1).string("err").bytes(),
        eof(0),
        close(0),
        new Writer(64).byte(MSG.CHANNEL_REQUEST).uint32(1).string("exit-status").boolean(true).uint32(0).bytes(),
        new Writer(64).byte(MSG.GLOBAL_REQUEST).string("keepalive@openssh.com").boolean(true).bytes(),
        incomingOpen("direct-tcpip", 7, 2 * 1024 * 1024, 32768),
        chData(2, pattern(10, 3)),
        local(0, 2, 20),
        close(1),
        local(2, 2),
      ]),
    ),
    concatBytes(
      Uint8Array.of(3),
      encodeRecords([
        incomingOpen("forwarded-tcpip", 9, 100, 50),
        local(8),
        local(0, 0, 5),
        adjust(0, 200),
        confirm(0, 50, 0, 1),
        confirm(1, 51, MAX_U32, MAX_U32),
        local(0, 1, 255),
        adjust(1, 1),
        local(5),
        local(6),
        new Writer(8).byte(MSG.REQUEST_SUCCESS).uint32(7).bytes(),
        new Writer(8).byte(MSG.REQUEST_FAILURE).bytes(),
        local(7),
        local(7),
        eof(1),
        close(1),
        local(1, 0),
      ]),
    ),
    concatBytes(
      Uint8Array.of(0x12),
      encodeRecords([
        new Writer(64).byte(MSG.GLOBAL_REQUEST).string("tcpip-forward").boolean(true).string("").uint32(0).bytes(),
        new Writer(64).byte(MSG.GLOBAL_REQUEST).string("x").boolean(true).bytes(),
        new Writer(32).byte(MSG.CHANNEL_OPEN_FAILURE).uint32(1).uint32(2).string("no\x1b[2J").string("").bytes(),
        confirm(0, 5, 10, 0),
        incomingOpen("session", 1, 0, 0),
        incomingOpen("direct-tcpip", 2, 10, 10),
        incomingOpen("direct-tcpip", 3, 10, 10),
        local(9),
        close(0),
      ]),
    ),
  ],
  accepts: onlySshError,
  async run(input) {
    if (input.length === 0) return;
    const config = input[0] as number;
    const rejections: unknown[] = [];
    const violations: string[] = [];
    /** What the peer allows us to send, per remote channel id (RFC 4254 §5.2). */
    const grants = new Map<number, Grant>();
    const localToRemote = new Map<number, number>();
    /** The window and maximum packet of each incoming open, by its sender id (undefined: ids reused). */
    const openParams = new Map<number, { window: number; maxPacket: number } | undefined>();
    let dead = false;
    const grant = (rid: number, window: number, maxPacket: number, ambiguous = false) => {
      const old = grants.get(rid);
      grants.set(rid, {
        window,
        maxPacket,
        sent: 0,
        closedByUs: false,
        ambiguous: ambiguous || (old !== undefined && !old.closedByUs),
      });
    };
    // Findings are recorded, not thrown: the mux may send from a promise callback.
    const t = {
      congested: false,
      send(payload: Uint8Array, body?: Uint8Array) {
        if (dead) violations.push(`message ${payload[0]} sent after the connection died`);
        const p = body ? concatBytes(payload, body) : payload;
        const type = p[0] as number;
        const r = new Reader(p, 1);
        if (type === MSG.CHANNEL_DATA) {
          const rid = r.uint32();
          const n = r.string().length;
          const g = grants.get(rid);
          if (g && !g.ambiguous) {
            if (g.closedByUs) violations.push(`data sent on remote channel ${rid} after our CLOSE`);
            if (n > g.maxPacket) violations.push(`${n} bytes sent over a maximum packet of ${g.maxPacket}`);
            g.sent += n;
            if (g.sent > g.window) violations.push(`${g.sent} bytes sent into a window of ${g.window}`);
          }
        } else if (type === MSG.CHANNEL_CLOSE) {
          const g = grants.get(r.uint32());
          if (g) g.closedByUs = true;
        } else if (type === MSG.CHANNEL_OPEN_CONFIRMATION) {
          const rid = r.uint32();
          const localId = r.uint32();
          const params = openParams.get(rid);
          localToRemote.set(localId, rid);
          if (params) grant(rid, params.window, params.maxPacket);
          else grant(rid, 0, 0, true);
        }
      },
    };
    const m = new Mux(t);
    if (config & 16) m.maxChannels = 3;
    const channels: Channel[] = [];
    const ended = new Set<Channel>();
    const attach = (ch: Channel) => {
      channels.push(ch);
      ch.events = {
        data: (d) => {
          if (config & 32) ch.consumed(d.length);
        },
        close: () => {},
      };
    };
    const openOne = () =>
      m
        .open("direct-tcpip", new Writer(32).string("db").uint32(5432).string("127.0.0.1").uint32(1).bytes())
        .then(attach, (e: unknown) => rejections.push(e));
    const held: IncomingOpen[] = [];
    const mode = config & 3;
    if (mode !== 0) {
      m.onOpen = (open) => {
        if (mode === 1) attach(open.accept());
        else if (mode === 2) open.reject(2, "no");
        else held.push(open);
      };
    }
    m.onGlobalRequest = (name) => {
      if (config & 4) return Uint8Array.of(0, 0, 0x1f, 0x90);
      if (config & 8) return Promise.resolve(name === "x" ? undefined : new Uint8Array(0));
      return undefined;
    };
    void openOne();
    void openOne();
    await tick();
    let refused: SshError | undefined;
    for (const rec of decodeRecords(input, 1, 128)) {
      if (rec.length === 0) continue;
      if (rec[0] === 0) {
        // A local action by our own program, done the way the API asks (no writes after our end).
        const op = (rec[1] ?? 0) % 10;
        const arg = rec[2] ?? 0;
        const ch = channels.length > 0 ? channels[arg % channels.length] : undefined;
        if (op === 0 && ch && !ended.has(ch)) ch.write(new Uint8Array(((rec[3] ?? 1) + 1) * 64));
        else if (op === 1 && ch) {
          ended.add(ch);
          ch.end();
        } else if (op === 2 && ch) {
          ended.add(ch);
          ch.close();
        } else if (op === 3 && ch) {
          ended.add(ch);
          ch.finish();
        } else if (op === 4 && ch) ch.consumed(arg * 1024);
        else if (op === 5) void openOne();
        else if (op === 6)
          m.globalRequest("keepalive@openssh.com", new Uint8Array(0), true).catch((e: unknown) => rejections.push(e));
        else if (op === 7) {
          t.congested = !t.congested;
          if (!t.congested) m.drained();
        } else if (op === 8) {
          const o = held.shift();
          if (o) attach(o.accept());
        } else if (op === 9) held.shift()?.reject(1, "refused");
      } else {
        // Learn what this message grants before the mux acts on it (it may send at once).
        const type = rec[0] as number;
        try {
          const r = new Reader(rec, 1);
          if (type === MSG.CHANNEL_OPEN) {
            r.ascii();
            const sender = r.uint32();
            const params = { window: r.uint32(), maxPacket: r.uint32() };
            openParams.set(sender, openParams.has(sender) ? undefined : params);
          } else if (type === MSG.CHANNEL_OPEN_CONFIRMATION) {
            const id = r.uint32();
            const remote = r.uint32();
            const window = r.uint32();
            const maxPacket = r.uint32();
            localToRemote.set(id, remote);
            grant(remote, window, maxPacket);
          } else if (type === MSG.CHANNEL_WINDOW_ADJUST) {
            const rid = localToRemote.get(r.uint32());
            const g = rid === undefined ? undefined : grants.get(rid);
            if (g) g.window += r.uint32();
          }
        } catch {
          // malformed: the mux refuses it below
        }
        try {
          m.handle(rec);
        } catch (err) {
          refused = rethrowUnlessSsh(err);
          break;
        }
      }
      await tick();
      if (violations.length > 0) throw new Finding(violations[0] as string);
      for (const ch of channels) {
        for (const w of [ch.localWindow, ch.remoteWindow]) {
          if (!(w >= 0 && w <= MAX_U32)) throw new Finding(`channel ${ch.localId} has a window of ${w}`);
        }
      }
      if (m.size > m.maxChannels) throw new Finding(`${m.size} channels open over a cap of ${m.maxChannels}`);
    }
    m.abort(refused ?? new SshError("CONNECTION_LOST", "the script ended"));
    dead = true;
    await tick();
    if (violations.length > 0) throw new Finding(violations[0] as string);
    for (const e of rejections) rethrowUnlessSsh(e);
    if (refused) throw refused;
  },
  budgetMs: 3000,
  quick: 1000,
};
