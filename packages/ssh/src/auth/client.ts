/**
 * Auth layer, client side: the user authentication protocol (RFC 4252), methods `none`
 * (§5.2, to learn what the server allows), `publickey` (§7: query, then sign) and `password`
 * (§8), with partial success (§5.1) and banners (§5.4). RSA keys sign with rsa-sha2-512/256
 * chosen from the server's `server-sig-algs` (RFC 8332 §3.2, RFC 8308 §3.1).
 *
 * Rules pinned here (RFC 4252 §4, §5.1): USERAUTH_SUCCESS before we sent any request, any
 * userauth message before SERVICE_ACCEPT, and connection-layer messages before success are
 * protocol errors. A server that lets us in with `none` cannot have checked who we are: it is
 * legal (§5.2), so the result says `method: "none"` for the caller to warn about, and
 * `rejectTrivialAuth` refuses it outright. Banners reach `onBanner` through `peerText`
 * (RFC 4252 §5.4 asks for control-character filtering before display).
 */

import { DisconnectReason, SshError } from "../errors.ts";
import type { PrivateKey } from "../keys/types.ts";
import { MSG } from "../wire/messages.ts";
import { peerText } from "../wire/peer-text.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";

export interface ClientAuthOptions {
  username: string;
  identities?: readonly PrivateKey[];
  /** A password, or a callback asked once when the server offers `password`. */
  password?: string | (() => Promise<string | undefined>);
  /** Refuse success through `none` (trivial authentication). */
  rejectTrivialAuth?: boolean;
  /** USERAUTH_BANNER text, made safe to print: escapes for control characters, line breaks kept. */
  onBanner?(message: string): void;
}

/** The most of a banner shown (escaped characters); the rest is cut with an ellipsis. */
export const MAX_BANNER_DISPLAY = 4096;

export interface AuthResult {
  /**
   * How we got in. `none` means the server accepted us without any credential (RFC 4252
   * §5.2): legal, but it checked no key or password, which a user expecting key auth should
   * be told about.
   */
  method: "none" | "publickey" | "password";
  /** The key that succeeded, for publickey. */
  key?: PrivateKey;
  /** The signature algorithm used, for publickey. */
  signatureAlgorithm?: string;
}

export interface AuthTransport {
  send(payload: Uint8Array): void;
  readonly sessionId: Uint8Array | undefined;
  readonly serverSigAlgs: readonly string[] | undefined;
}

const SERVICE = "ssh-connection";
const authError = (message: string) =>
  new SshError("AUTH_FAILED", message, { reason: DisconnectReason.NO_MORE_AUTH_METHODS_AVAILABLE });
const protocol = (message: string) =>
  new SshError("PROTOCOL_ERROR", message, { reason: DisconnectReason.PROTOCOL_ERROR });

type Reply =
  | { kind: "success" }
  | { kind: "failure"; methods: string[]; partial: boolean }
  | { kind: "pk-ok"; algorithm: string; blob: Uint8Array }
  | { kind: "passwd-changereq"; prompt: string };

export class ClientAuth {
  private phase: "idle" | "service" | "auth" | "done" = "idle";
  /** A request is outstanding: only then may SUCCESS/FAILURE arrive. */
  private outstanding: string | undefined;
  private waiter: { resolve(r: Reply): void; reject(e: Error): void } | undefined;
  private serviceWaiter: { resolve(): void; reject(e: Error): void } | undefined;
  private failed: Error | undefined;

  constructor(
    private readonly transport: AuthTransport,
    private readonly options: ClientAuthOptions,
  ) {}

  get done(): boolean {
    return this.phase === "done";
  }

  /** Fails any pending wait (the transport closed). */
  abort(err: Error): void {
    this.failed = err;
    this.waiter?.reject(err);
    this.serviceWaiter?.reject(err);
    this.waiter = undefined;
    this.serviceWaiter = undefined;
  }

  /**
   * Consumes auth-phase messages. Returns true if handled. Throws for messages that break
   * the state machine.
   */
  handle(payload: Uint8Array): boolean {
    const type = payload[0] as number;
    if (this.phase === "done") {
      if (type >= 50 && type <= 79) {
        // RFC 4252 §5.1: after success further auth requests are ignored; replies are stray.
        if (type === MSG.USERAUTH_BANNER) return true;
        throw protocol(`unexpected authentication message ${type} after authentication succeeded`);
      }
      return false;
    }
    if (type === MSG.SERVICE_ACCEPT) {
      if (this.phase !== "service") throw protocol("unexpected SERVICE_ACCEPT");
      const name = new Reader(payload, 1).ascii("service name");
      if (name !== "ssh-userauth")
        throw protocol(`server accepted service "${peerText(name, { max: 64 })}", expected "ssh-userauth"`);
      this.phase = "auth";
      this.serviceWaiter?.resolve();
      this.serviceWaiter = undefined;
      return true;
    }
    if (type >= 50 && type <= 79) {
      if (this.phase !== "auth") throw protocol(`authentication message ${type} before SERVICE_ACCEPT`);
      if (type === MSG.USERAUTH_BANNER) {
        const r = new Reader(payload, 1);
        const text = r.utf8("banner message");
        this.options.onBanner?.(peerText(text, { lines: true, max: MAX_BANNER_DISPLAY }));
        return true;
      }
      if (!this.outstanding) throw protocol(`authentication message ${type} without an outstanding request`);
      const r = new Reader(payload, 1);
      let reply: Reply;
      if (type === MSG.USERAUTH_SUCCESS) {
        r.done("USERAUTH_SUCCESS");
        reply = { kind: "success" };
        this.phase = "done";
      } else if (type === MSG.USERAUTH_FAILURE) {
        const methods = r.nameList("authentications that can continue");
        const partial = r.boolean("partial success");
        reply = { kind: "failure", methods, partial };
      } else if (type === 60 && this.outstanding === "publickey-query") {
        reply = {
          kind: "pk-ok",
          algorithm: r.ascii("public key algorithm"),
          blob: r.string("public key blob").slice(),
        };
      } else if (type === 60 && this.outstanding === "password") {
        reply = { kind: "passwd-changereq", prompt: r.utf8("prompt") };
      } else {
        throw protocol(`unexpected authentication message ${type} for a ${this.outstanding} request`);
      }
      this.outstanding = undefined;
      const w = this.waiter;
      this.waiter = undefined;
      w?.resolve(reply);
      return true;
    }
    if (type >= 80) throw protocol(`connection-layer message ${type} before authentication succeeded`);
    return false;
  }

  private request(kind: string, payload: Uint8Array): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    this.outstanding = kind;
    return new Promise<Reply>((resolve, reject) => {
      this.waiter = { resolve, reject };
      try {
        this.transport.send(payload);
      } catch (err) {
        this.waiter = undefined;
        reject(err as Error);
      }
    });
  }

  private header(method: string): Writer {
    return new Writer(256).byte(MSG.USERAUTH_REQUEST).string(this.options.username).string(SERVICE).string(method);
  }

  /** Runs the whole exchange. */
  async run(): Promise<AuthResult> {
    await new Promise<void>((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.phase = "service";
      this.serviceWaiter = { resolve, reject };
      this.transport.send(new Writer(32).byte(MSG.SERVICE_REQUEST).string("ssh-userauth").bytes());
    });

    // `none` first: it tells us which methods can continue (RFC 4252 §5.2).
    let reply = await this.request("none", this.header("none").bytes());
    if (reply.kind === "success") {
      if (this.options.rejectTrivialAuth) {
        throw authError(
          "server accepted authentication method none without checking who we are (trivial auth refused)",
        );
      }
      return { method: "none" };
    }
    if (reply.kind !== "failure") throw protocol("unexpected reply to the none request");
    let methods = reply.methods;
    const tried: string[] = [];
    const triedKeys = new Set<PrivateKey>();
    let passwordTried = false;

    for (;;) {
      let progressed = false;
      if (methods.includes("publickey")) {
        for (const key of this.options.identities ?? []) {
          if (triedKeys.has(key)) continue;
          triedKeys.add(key);
          progressed = true;
          const r = await this.tryKey(key);
          if (r.kind === "success") return r.result;
          methods = r.methods;
          if (r.partial) break;
          if (!methods.includes("publickey")) break;
        }
        if (!tried.includes("publickey") && (this.options.identities?.length ?? 0) > 0) tried.push("publickey");
      }
      if (!progressed && methods.includes("password") && this.options.password !== undefined && !passwordTried) {
        passwordTried = true;
        progressed = true;
        tried.push("password");
        const pw = typeof this.options.password === "string" ? this.options.password : await this.options.password();
        if (pw !== undefined) {
          reply = await this.request("password", this.header("password").boolean(false).string(pw).bytes());
          if (reply.kind === "success") return { method: "password" };
          if (reply.kind === "passwd-changereq")
            throw authError("the server requires a password change; change it with ssh first");
          if (reply.kind === "failure") methods = reply.methods;
        }
      }
      if (!progressed) {
        const offered = this.describeOwn();
        throw authError(
          `authentication failed for user "${this.options.username}": the server allows ${peerText(methods.join(", ")) || "(none)"}; we tried ${
            tried.join(", ") || "nothing"
          }${offered}`,
        );
      }
    }
  }

  private describeOwn(): string {
    const ids = this.options.identities ?? [];
    const parts: string[] = [];
    if (ids.length === 0) parts.push("no identity key was given");
    if (this.options.password === undefined) parts.push("no password was given");
    return parts.length ? ` (${parts.join("; ")})` : "";
  }

  /** Picks the signature algorithm: for RSA the best that the server announced (RFC 8332 §3.2). */
  private algorithmFor(key: PrivateKey): string {
    const algs = key.signatureAlgorithms;
    const serverAlgs = this.transport.serverSigAlgs;
    if (key.type === "ssh-rsa" && serverAlgs) {
      const pick = algs.find((a) => serverAlgs.includes(a));
      if (pick) return pick;
    }
    return algs[0] as string;
  }

  private async tryKey(
    key: PrivateKey,
  ): Promise<{ kind: "success"; result: AuthResult } | { kind: "failure"; methods: string[]; partial: boolean }> {
    const algorithm = this.algorithmFor(key);
    const blob = key.publicKey.blob;
    // RFC 4252 §7: ask whether the key is acceptable before signing.
    const query = await this.request(
      "publickey-query",
      this.header("publickey").boolean(false).string(algorithm).string(blob).bytes(),
    );
    if (query.kind === "failure") return { kind: "failure", methods: query.methods, partial: query.partial };
    if (query.kind === "success") throw protocol("USERAUTH_SUCCESS in reply to a publickey query without a signature");
    if (query.kind !== "pk-ok") throw protocol("unexpected reply to a publickey query");
    const sessionId = this.transport.sessionId;
    if (!sessionId) throw protocol("no session identifier");
    // RFC 4252 §7: the signed data.
    const signed = new Writer(512)
      .string(sessionId)
      .byte(MSG.USERAUTH_REQUEST)
      .string(this.options.username)
      .string(SERVICE)
      .string("publickey")
      .boolean(true)
      .string(algorithm)
      .string(blob)
      .bytes();
    const signature = key.sign(signed, algorithm);
    const reply = await this.request(
      "publickey",
      this.header("publickey").boolean(true).string(algorithm).string(blob).string(signature).bytes(),
    );
    if (reply.kind === "success")
      return { kind: "success", result: { method: "publickey", key, signatureAlgorithm: algorithm } };
    if (reply.kind === "failure") return { kind: "failure", methods: reply.methods, partial: reply.partial };
    throw protocol("unexpected reply to a signed publickey request");
  }
}
