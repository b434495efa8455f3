/**
 * Auth layer, client side: the user authentication protocol (RFC 4252), methods `none`
 * (§5.2, to learn what the server allows), `publickey` (§7: query, then sign),
 * `keyboard-interactive` (RFC 4256) and `password` (§8) — in that order, ssh(1)'s default
 * PreferredAuthentications — with partial success (§5.1) and banners (§5.4). RSA keys sign with rsa-sha2-512/256
 * chosen from the server's `server-sig-algs` (RFC 8332 §3.2, RFC 8308 §3.1).
 *
 * Keys come as `Identity`: a loaded `PrivateKey`, or a key an ssh-agent holds and signs with
 * (keys/agent.ts; its signer is asynchronous). A certificate (OpenSSH PROTOCOL.certkeys) is an
 * identity whose blob is the certificate and whose algorithms are `*-cert-v01@openssh.com`.
 * A key whose signer fails (an agent that refuses) is skipped, as ssh(1) does. A failure names
 * the methods the server allows and every key offered, with its source, type and SHA256
 * fingerprint; a server that hangs up after too many refused keys (sshd's MaxAuthTries) gets
 * the same list and what to do about it.
 *
 * Rules pinned here (RFC 4252 §4, §5.1): USERAUTH_SUCCESS before we sent any request, any
 * userauth message before SERVICE_ACCEPT, and connection-layer messages before success are
 * protocol errors. A server that lets us in with `none` cannot have checked who we are: it is
 * legal (§5.2), so the result says `method: "none"` for the caller to warn about, and
 * `rejectTrivialAuth` refuses it outright. Banners reach `onBanner` through `peerText`
 * (RFC 4252 §5.4 asks for control-character filtering before display).
 */

import { nobleProvider } from "../crypto/noble.ts";
import { DisconnectReason, SshError } from "../errors.ts";
import { fingerprintSha256 } from "../keys/fingerprint.ts";
import { MSG } from "../wire/messages.ts";
import { peerText } from "../wire/peer-text.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";

/**
 * What publickey authentication needs of a key: its public half as sent (a key blob, RFC 4253
 * §6.6, or an OpenSSH certificate), the signature algorithms it can make and a signer. A
 * `PrivateKey` is one; so is a key an ssh-agent holds (`agentIdentity` in keys/agent.ts).
 */
export interface Identity {
  /** The type the blob names: ssh-ed25519, ssh-rsa, ssh-ed25519-cert-v01@openssh.com, … */
  readonly type: string;
  /**
   * The blob sent in USERAUTH_REQUEST (the certificate's, for a certificate), and the comment
   * that names the key in messages when it has no `source`.
   */
  readonly publicKey: { readonly blob: Uint8Array; readonly comment: string };
  /**
   * Signature algorithms, preferred first. With more than one (RSA: rsa-sha2-512, -256, or
   * their certificate forms) the first the server lists in server-sig-algs is used; none: the
   * key is skipped.
   */
  readonly signatureAlgorithms: readonly string[];
  /** The SSH signature blob (`string algorithm, string signature`) over `data`. */
  sign(data: Uint8Array, algorithm: string): Uint8Array | Promise<Uint8Array>;
  /** The key's file, for messages (an agent key that matched a configured file is named by it). */
  readonly source?: string;
  /** Signed by an ssh-agent. */
  readonly agent?: boolean;
  /** For a certificate, the blob of the key inside: the fingerprint shown is taken over it, as ssh-keygen -l does. */
  readonly keyBlob?: Uint8Array;
}

/** A keyboard-interactive INFO_REQUEST (RFC 4256 §3.2); its text made safe to print (`peerText`). */
export interface InfoRequest {
  /** The request's name, often empty; escaped and cut at 256 characters. */
  readonly name: string;
  /** Text to show before the prompts, possibly empty; escaped with line breaks kept, cut at 4096 characters. */
  readonly instruction: string;
  /** The prompts in order, at most 64, each cut at 256 characters; `echo`: the answer may be shown as typed. */
  readonly prompts: readonly { readonly prompt: string; readonly echo: boolean }[];
}

/** The most prompts one INFO_REQUEST may carry, and the most INFO_REQUESTs one attempt may bring. */
export const MAX_INFO_PROMPTS = 64;
export const MAX_INFO_ROUNDS = 16;

/** One key offered, and what became of it (for messages). */
export interface KeyAttempt {
  /** `/path/key ssh-ed25519 SHA256:…` or `comment ssh-rsa SHA256:… (agent)`. */
  readonly key: string;
  readonly outcome: "refused" | "signature refused" | "not signed" | "skipped";
  /** Why it was not signed or skipped. */
  readonly detail?: string;
}

/** Who the client logs in as and with what: keys, password, keyboard-interactive answers (RFC 4252). */
export interface ClientAuthOptions {
  /** The user name sent in every USERAUTH_REQUEST (RFC 4252 §5). */
  username: string;
  /** Keys offered for publickey, in order; absent or empty: publickey is not tried. */
  identities?: readonly Identity[];
  /** A password, or a callback asked once when the server offers `password`. */
  password?: string | (() => Promise<string | undefined>);
  /**
   * Answers keyboard-interactive prompts (RFC 4256 §3.2): called for each INFO_REQUEST that
   * has prompts or text, with one answer expected per prompt; undefined: it cannot answer (empty answers go, as ssh sends them).
   * Absent: keyboard-interactive is not tried.
   */
  keyboardInteractive?: (request: InfoRequest) => Promise<string[] | undefined>;
  /**
   * How a user of ours offers a password (e.g. "set TUNNEL_PASSWORD"): added to the failure
   * message when the server allows passwords and none was given.
   */
  passwordHint?: string;
  /**
   * How a user of ours offers fewer keys (e.g. "name the right key and offer only it"): added
   * to the failure message when the server hung up after too many refused keys (sshd's
   * MaxAuthTries).
   */
  tooManyKeysHint?: string;
  /** Lines added to a failure message: keys that could not be loaded, an agent that was not reached. */
  notes?: readonly string[];
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
  method: "none" | "publickey" | "keyboard-interactive" | "password";
  /** The key that succeeded, for publickey. */
  key?: Identity;
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
  | { kind: "passwd-changereq"; prompt: string }
  | { kind: "info-request"; request: InfoRequest };

export class ClientAuth {
  private phase: "idle" | "service" | "auth" | "done" = "idle";
  /** A request is outstanding: only then may SUCCESS/FAILURE arrive. */
  private outstanding: string | undefined;
  private waiter: { resolve(r: Reply): void; reject(e: Error): void } | undefined;
  private serviceWaiter: { resolve(): void; reject(e: Error): void } | undefined;
  private failed: Error | undefined;
  /** Every key offered so far and answered, in order. */
  readonly attempts: KeyAttempt[] = [];
  /** The key offered whose answer has not come yet. */
  private offering: string | undefined;
  /** A password, or answers to keyboard-interactive prompts, went out. */
  private secretSent = false;

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
      } else if (type === MSG.USERAUTH_INFO_REQUEST && this.outstanding === "keyboard-interactive") {
        reply = { kind: "info-request", request: parseInfoRequest(r) };
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
    const triedKeys = new Set<Identity>();
    let passwordTried = false;
    let kbdTried = false;

    for (;;) {
      let progressed = false;
      if (methods.includes("publickey")) {
        for (const key of this.options.identities ?? []) {
          if (triedKeys.has(key)) continue;
          triedKeys.add(key);
          progressed = true;
          const r = await this.tryKey(key);
          if (r.kind === "success") return r.result;
          if (r.kind === "skipped") continue;
          methods = r.methods;
          if (r.partial) break;
          if (!methods.includes("publickey")) break;
        }
        if (!tried.includes("publickey") && (this.options.identities?.length ?? 0) > 0) tried.push("publickey");
      }
      const kbd = this.options.keyboardInteractive;
      if (!progressed && methods.includes("keyboard-interactive") && kbd && !kbdTried) {
        kbdTried = true;
        progressed = true;
        tried.push("keyboard-interactive");
        const r = await this.keyboardInteractive(kbd);
        if (r.kind === "success") return { method: "keyboard-interactive" };
        if (r.kind === "failure") methods = r.methods;
        continue;
      }
      if (!progressed && methods.includes("password") && this.options.password !== undefined && !passwordTried) {
        passwordTried = true;
        progressed = true;
        const pw = typeof this.options.password === "string" ? this.options.password : await this.options.password();
        if (pw !== undefined) {
          tried.push("password");
          this.secretSent = true;
          reply = await this.request("password", this.header("password").boolean(false).string(pw).bytes());
          if (reply.kind === "success") return { method: "password" };
          if (reply.kind === "passwd-changereq")
            throw authError("the server requires a password change; change it with ssh first");
          if (reply.kind === "failure") methods = reply.methods;
        }
      }
      if (!progressed) {
        const offered = this.describeOwn();
        const allowsPassword = methods.includes("password") || methods.includes("keyboard-interactive");
        const hint =
          allowsPassword && !this.secretSent && this.options.passwordHint
            ? `\nthe server accepts passwords: ${this.options.passwordHint}`
            : "";
        throw authError(
          `authentication failed for user "${this.options.username}": the server allows ${peerText(methods.join(", ")) || "(none)"}; we tried ${
            tried.join(", ") || "nothing"
          }${offered}${this.describeAttempts()}${hint}`,
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

  /** One line per key offered (what it was and what became of it), then the caller's notes. */
  private describeAttempts(): string {
    const notes = (this.options.notes ?? []).map((n) => `\n  ${n}`).join("");
    return `${this.attempts.map((a) => `\n  ${a.outcome}: ${a.key}${a.detail ? ` (${a.detail})` : ""}`).join("")}${notes}`;
  }

  /**
   * What to throw when the connection ended during authentication: a server that hangs up
   * because too many keys were refused (sshd's MaxAuthTries, 6 by default) becomes an
   * AUTH_FAILED naming the keys offered, then the caller's `tooManyKeysHint` on how to offer
   * fewer. Anything else is returned as is.
   */
  explain(err: Error): Error {
    if (this.phase !== "auth") return err;
    if (!(err instanceof SshError) || err.code !== "DISCONNECTED") return err;
    if (!/too many authentication failures/i.test(err.message)) return err;
    // sshd hangs up instead of answering the request that reached its limit.
    const last = this.offering ? `\n  no answer: ${this.offering}` : "";
    const count = this.attempts.length + (this.offering ? 1 : 0);
    const hint = this.options.tooManyKeysHint ? `: ${this.options.tooManyKeysHint}` : "";
    return new SshError(
      "AUTH_FAILED",
      `authentication failed for user "${this.options.username}": ${err.message} after ${count} keys were offered${this.describeAttempts()}${last}\nthe server stops after a few refused keys (sshd's MaxAuthTries, 6 by default)${hint}`,
      { reason: DisconnectReason.NO_MORE_AUTH_METHODS_AVAILABLE, cause: err },
    );
  }

  /**
   * RFC 4256 §3.1–3.4: request with an empty language tag and submethods, then answer each
   * INFO_REQUEST (prompts shown through the callback; one with no prompts and no text is
   * answered with no responses, as PAM's last round expects) until SUCCESS or FAILURE.
   */
  private async keyboardInteractive(
    answer: (request: InfoRequest) => Promise<string[] | undefined>,
  ): Promise<{ kind: "success" } | { kind: "failure"; methods: string[] }> {
    let reply = await this.request(
      "keyboard-interactive",
      this.header("keyboard-interactive").string("").string("").bytes(),
    );
    for (let round = 0; ; round++) {
      if (reply.kind === "success") return { kind: "success" };
      if (reply.kind === "failure") return { kind: "failure", methods: reply.methods };
      if (reply.kind !== "info-request") throw protocol("unexpected reply to a keyboard-interactive request");
      if (round >= MAX_INFO_ROUNDS)
        throw authError(`the server asked more than ${MAX_INFO_ROUNDS} rounds of keyboard-interactive questions`);
      const q = reply.request;
      const silent = q.prompts.length === 0 && q.name === "" && q.instruction === "";
      const given = silent ? [] : await answer(q);
      // Nothing to answer with: empty answers, one per prompt, as ssh sends when it could not
      // ask (OpenSSH's sshd drops a connection whose answer count differs from its prompts').
      const responses = given ?? q.prompts.map(() => "");
      if (responses.length !== q.prompts.length)
        throw new RangeError(
          `keyboardInteractive returned ${responses.length} answers for ${q.prompts.length} prompts`,
        );
      const w = new Writer(64).byte(MSG.USERAUTH_INFO_RESPONSE).uint32(responses.length);
      for (const a of responses) w.string(a);
      if (given !== undefined && responses.length > 0) this.secretSent = true;
      reply = await this.request("keyboard-interactive", w.bytes());
    }
  }

  /**
   * Picks the signature algorithm: the key's first when it has one; otherwise (RSA keys and
   * certificates) the first whose plain form the server announced in server-sig-algs (RFC 8332
   * §3.2, RFC 8308 §3.1; servers list plain names only), else the key's first.
   */
  private algorithmFor(key: Identity): string {
    const algs = key.signatureAlgorithms;
    const serverAlgs = this.transport.serverSigAlgs;
    if (algs.length > 1 && serverAlgs) {
      const pick = algs.find((a) => serverAlgs.includes(a.replace(CERT_SUFFIX, "")));
      if (pick) return pick;
    }
    return algs[0] as string;
  }

  private async tryKey(
    key: Identity,
  ): Promise<
    | { kind: "success"; result: AuthResult }
    | { kind: "failure"; methods: string[]; partial: boolean }
    | { kind: "skipped" }
  > {
    const label = describeIdentity(key);
    if (key.signatureAlgorithms.length === 0) {
      this.attempts.push({ key: label, outcome: "skipped", detail: "a key type we cannot sign with" });
      return { kind: "skipped" };
    }
    const algorithm = this.algorithmFor(key);
    const blob = key.publicKey.blob;
    this.offering = label;
    // RFC 4252 §7: ask whether the key is acceptable before signing.
    const query = await this.request(
      "publickey-query",
      this.header("publickey").boolean(false).string(algorithm).string(blob).bytes(),
    );
    this.offering = undefined;
    if (query.kind === "failure") {
      this.attempts.push({ key: label, outcome: "refused" });
      return { kind: "failure", methods: query.methods, partial: query.partial };
    }
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
    let signature: Uint8Array;
    try {
      signature = await key.sign(signed, algorithm);
    } catch (err) {
      // The signer failed (an agent refused, or went away): ssh(1) moves on to the next key.
      if (this.failed) throw this.failed;
      this.attempts.push({ key: label, outcome: "not signed", detail: (err as Error).message });
      return { kind: "skipped" };
    }
    this.offering = label;
    const reply = await this.request(
      "publickey",
      this.header("publickey").boolean(true).string(algorithm).string(blob).string(signature).bytes(),
    );
    this.offering = undefined;
    if (reply.kind === "success")
      return { kind: "success", result: { method: "publickey", key, signatureAlgorithm: algorithm } };
    if (reply.kind === "failure") {
      this.attempts.push({ key: label, outcome: "signature refused" });
      return { kind: "failure", methods: reply.methods, partial: reply.partial };
    }
    throw protocol("unexpected reply to a signed publickey request");
  }
}

const CERT_SUFFIX = "-cert-v01@openssh.com";

/**
 * `/path/key ssh-ed25519 SHA256:…`, `comment ssh-rsa SHA256:… (agent)`, as ssh -v names keys:
 * by file where there is one, else by comment; the fingerprint of the key (inside a certificate).
 */
export function describeIdentity(key: Identity): string {
  const fingerprint = fingerprintSha256(nobleProvider, key.keyBlob ?? key.publicKey.blob);
  const name = key.source ?? (peerText(key.publicKey.comment, { max: 120 }) || "(no comment)");
  return `${name} ${key.type} ${fingerprint}${key.agent ? " (agent)" : ""}`;
}

/**
 * SSH_MSG_USERAUTH_INFO_REQUEST after its type byte (RFC 4256 §3.2): name, instruction,
 * language tag, then the prompts — their count checked against what follows before any is
 * read, and capped.
 */
export function parseInfoRequest(r: Reader): InfoRequest {
  const name = r.utf8("keyboard-interactive name");
  const instruction = r.utf8("keyboard-interactive instruction");
  r.string("keyboard-interactive language tag");
  const count = r.uint32("number of prompts");
  if (count > MAX_INFO_PROMPTS)
    throw protocol(`keyboard-interactive request with ${count} prompts; at most ${MAX_INFO_PROMPTS} are accepted`);
  // Each prompt is at least a length and a boolean.
  if (count * 5 > r.remaining)
    throw protocol(`keyboard-interactive request claims ${count} prompts but only ${r.remaining} bytes follow`);
  const prompts: { prompt: string; echo: boolean }[] = [];
  for (let i = 0; i < count; i++) {
    const prompt = peerText(r.utf8(`keyboard-interactive prompt ${i + 1}`), { max: 256 });
    prompts.push({ prompt, echo: r.boolean(`keyboard-interactive echo ${i + 1}`) });
  }
  r.done("USERAUTH_INFO_REQUEST");
  return {
    name: peerText(name, { max: 256 }),
    instruction: peerText(instruction, { lines: true, max: MAX_BANNER_DISPLAY }),
    prompts,
  };
}
