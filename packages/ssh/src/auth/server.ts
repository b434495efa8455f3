/**
 * Auth layer, server side (RFC 4252): SERVICE_REQUEST for `ssh-userauth` (RFC 4253 §10),
 * then `none` (§5.2), `publickey` (§7: PK_OK for queries, signature checked over the session
 * id and request), `password` (§8). A bounded number of failed attempts (OpenSSH's
 * MaxAuthTries is 6); no state a client can skip: nothing above auth is reachable before
 * USERAUTH_SUCCESS, and the user name and service cannot change mid-way (§5).
 */

import { SIGNATURE_ALGORITHMS } from "../algorithms/hostkey.ts";
import type { CryptoProvider } from "../crypto/provider.ts";
import { DisconnectReason, SshError } from "../errors.ts";
import { parsePublicKeyBlob } from "../keys/public-key.ts";
import type { PublicKey } from "../keys/types.ts";
import { MSG } from "../wire/messages.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";

export const DEFAULT_MAX_AUTH_TRIES = 6;

/** What a server lets in: each method the callbacks given accept (RFC 4252); absent methods are refused. */
export interface ServerAuthPolicy {
  /** Is this key allowed for this user? Return options the key carries (e.g. permitopen), or false. */
  publicKey?(
    user: string,
    key: PublicKey,
  ): false | { options?: readonly string[] } | Promise<false | { options?: readonly string[] }>;
  /** Is this password right for this user? Absent: `password` is not offered. Requests to change it are refused. */
  password?(user: string, password: string): boolean | Promise<boolean>;
  /** Accept `none` (only for tests and demos). */
  allowNone?: boolean;
  /**
   * Failed attempts (refused key, bad signature, wrong password, unknown method; `none` does not
   * count) at which the connection ends with AUTH_FAILED. Default 6, as OpenSSH's MaxAuthTries.
   */
  maxTries?: number;
  /** Sent once as USERAUTH_BANNER (RFC 4252 §5.4) before the reply to the first request; absent or empty: none. */
  banner?: string;
}

export interface ServerAuthResult {
  user: string;
  method: "none" | "publickey" | "password";
  key?: PublicKey;
  keyOptions?: readonly string[];
}

export interface ServerAuthTransport {
  send(payload: Uint8Array): void;
  readonly sessionId: Uint8Array | undefined;
  readonly provider: CryptoProvider;
}

const protocol = (m: string) => new SshError("PROTOCOL_ERROR", m, { reason: DisconnectReason.PROTOCOL_ERROR });

export class ServerAuth {
  private serviceAccepted = false;
  private user: string | undefined;
  private failures = 0;
  private busy = false;
  private bannerSent = false;
  result: ServerAuthResult | undefined;
  onSuccess: ((r: ServerAuthResult) => void) | undefined;

  constructor(
    private readonly transport: ServerAuthTransport,
    private readonly policy: ServerAuthPolicy,
  ) {}

  get done(): boolean {
    return this.result !== undefined;
  }

  private methods(): string[] {
    const m: string[] = [];
    if (this.policy.publicKey) m.push("publickey");
    if (this.policy.password) m.push("password");
    return m;
  }

  /** Returns true if the message was an auth-phase message. Throws on violations. */
  handle(payload: Uint8Array): boolean {
    const type = payload[0] as number;
    if (type === MSG.SERVICE_REQUEST) {
      const name = new Reader(payload, 1).ascii("service name");
      if (name !== "ssh-userauth" || this.serviceAccepted) {
        throw new SshError("PROTOCOL_ERROR", `service "${name}" is not available`, {
          reason: DisconnectReason.SERVICE_NOT_AVAILABLE,
        });
      }
      this.serviceAccepted = true;
      this.transport.send(new Writer(32).byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").bytes());
      return true;
    }
    if (type === MSG.USERAUTH_REQUEST) {
      if (!this.serviceAccepted) throw protocol("USERAUTH_REQUEST before SERVICE_REQUEST");
      // RFC 4252 §5.1: after success, further requests are silently ignored.
      if (this.result) return true;
      if (this.busy) throw protocol("a new USERAUTH_REQUEST arrived while the previous one was being checked");
      this.busy = true;
      this.onRequest(payload).then(
        () => {
          this.busy = false;
        },
        (err: Error) => {
          this.busy = false;
          this.fatal?.(err);
        },
      );
      return true;
    }
    if (type >= 50 && type <= 79) throw protocol(`client sent server-only authentication message ${type}`);
    if (type >= 80 && !this.result) throw protocol(`connection-layer message ${type} before authentication`);
    return false;
  }

  /** Set by the server front: closes the connection. */
  fatal: ((err: Error) => void) | undefined;

  private fail(partial = false): void {
    this.transport.send(new Writer(64).byte(MSG.USERAUTH_FAILURE).nameList(this.methods()).boolean(partial).bytes());
  }

  private countFailure(): void {
    this.failures++;
    if (this.failures >= (this.policy.maxTries ?? DEFAULT_MAX_AUTH_TRIES)) {
      throw new SshError("AUTH_FAILED", "too many authentication failures", {
        reason: DisconnectReason.NO_MORE_AUTH_METHODS_AVAILABLE,
      });
    }
  }

  private succeed(r: ServerAuthResult): void {
    this.result = r;
    this.transport.send(Uint8Array.of(MSG.USERAUTH_SUCCESS));
    this.onSuccess?.(r);
  }

  private async onRequest(payload: Uint8Array): Promise<void> {
    const r = new Reader(payload, 1);
    const user = r.utf8("user name");
    const service = r.ascii("service name");
    const method = r.ascii("method name");
    if (service !== "ssh-connection") {
      throw new SshError("PROTOCOL_ERROR", `service "${service}" is not available`, {
        reason: DisconnectReason.SERVICE_NOT_AVAILABLE,
      });
    }
    // RFC 4252 §5: the user name may not change between requests (OpenSSH disconnects too).
    if (this.user !== undefined && this.user !== user) throw protocol("user name changed during authentication");
    this.user = user;
    if (this.policy.banner && !this.bannerSent) {
      this.bannerSent = true;
      this.transport.send(new Writer(256).byte(MSG.USERAUTH_BANNER).string(this.policy.banner).string("").bytes());
    }
    if (method === "none") {
      if (this.policy.allowNone) return this.succeed({ user, method: "none" });
      return this.fail(); // the method list, not a counted failure (OpenSSH does the same)
    }
    if (method === "publickey" && this.policy.publicKey) {
      const signed = r.boolean("has signature");
      const algorithm = r.ascii("public key algorithm");
      const blob = r.string("public key blob").slice();
      const signature = signed ? r.string("signature").slice() : undefined;
      r.done("publickey request");
      const sigAlg = SIGNATURE_ALGORITHMS.get(algorithm);
      let key: PublicKey | undefined;
      try {
        key = parsePublicKeyBlob(blob);
      } catch {
        key = undefined;
      }
      if (!sigAlg || !key || key.type !== sigAlg.keyType) {
        this.countFailure();
        return this.fail();
      }
      const allowed = await this.policy.publicKey(user, key);
      if (!allowed) {
        this.countFailure();
        return this.fail();
      }
      if (!signature) {
        this.transport.send(
          new Writer(blob.length + 64).byte(MSG.USERAUTH_PK_OK).string(algorithm).string(blob).bytes(),
        );
        return;
      }
      const sessionId = this.transport.sessionId as Uint8Array;
      const data = new Writer(blob.length + 256)
        .string(sessionId)
        .byte(MSG.USERAUTH_REQUEST)
        .string(user)
        .string(service)
        .string("publickey")
        .boolean(true)
        .string(algorithm)
        .string(blob)
        .bytes();
      if (!sigAlg.verify(this.transport.provider, blob, data, signature)) {
        this.countFailure();
        return this.fail();
      }
      return this.succeed({
        user,
        method: "publickey",
        key,
        ...(allowed.options ? { keyOptions: allowed.options } : {}),
      });
    }
    if (method === "password" && this.policy.password) {
      const change = r.boolean("password change flag");
      const password = r.utf8("password");
      if (change) r.utf8("new password");
      r.done("password request");
      if (!change && (await this.policy.password(user, password))) return this.succeed({ user, method: "password" });
      this.countFailure();
      return this.fail();
    }
    this.countFailure();
    return this.fail();
  }
}
