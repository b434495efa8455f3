/**
 * What a key exchange method talks through (algorithms/kex-method.ts `KexConn`): the engine
 * delivers the peer's KEX-method messages (30–49) here, and while the method works on one, the
 * transport reads nothing further (the next packet may be NEWKEYS, which needs the method's
 * keys). Input resumes when the method asks for its next message or has finished.
 */
import type { DhGroup } from "../algorithms/dh-groups.ts";
import { SIGNATURE_ALGORITHMS } from "../algorithms/hostkey.ts";
import type { KexConn, KexMagics } from "../algorithms/kex-method.ts";
import { kexFailed } from "../algorithms/kex-method-errors.ts";
import type { CryptoProvider, RandomSource } from "../crypto/provider.ts";
import { SshError } from "../errors.ts";
import { parsePublicKeyBlob } from "../keys/public-key.ts";
import type { PrivateKey, PublicKey } from "../keys/types.ts";

/** The transport's side of the flow control described above. */
export interface KexFlow {
  send(payload: Uint8Array): void;
  hold(): void;
  release(): void;
}

export class EngineKexConn implements KexConn {
  private queued: Uint8Array | undefined;
  private waiter: { resolve(p: Uint8Array): void; reject(e: Error): void } | undefined;
  private aborted: Error | undefined;
  /** Client: K_S as parsed by `checkHostKey`. */
  parsedHostKey: PublicKey | undefined;

  constructor(
    private readonly flow: KexFlow,
    readonly role: "client" | "server",
    readonly provider: CryptoProvider,
    readonly random: RandomSource,
    readonly magics: KexMagics,
    readonly hostKeyAlgorithm: string,
    readonly needBits: number,
    readonly dhGroups: readonly DhGroup[],
    private readonly hostKeys: readonly PrivateKey[],
  ) {}

  send(payload: Uint8Array): void {
    if (this.aborted) throw this.aborted;
    this.flow.send(payload);
  }

  /** The engine hands over one peer message; input stays held until the method asks again. */
  deliver(payload: Uint8Array): void {
    this.flow.hold();
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve(payload);
    } else this.queued = payload;
  }

  next(): Promise<Uint8Array> {
    if (this.aborted) return Promise.reject(this.aborted);
    const q = this.queued;
    if (q) {
      this.queued = undefined;
      return Promise.resolve(q);
    }
    const p = new Promise<Uint8Array>((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
    this.flow.release();
    return p;
  }

  /** The connection closed: a waiting method wakes with `err` (and wipes its secrets). */
  abort(err: Error): void {
    this.aborted = err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  checkHostKey(ks: Uint8Array): PublicKey {
    const sigAlg = SIGNATURE_ALGORITHMS.get(this.hostKeyAlgorithm);
    if (!sigAlg) throw kexFailed(`negotiated unknown host key algorithm ${this.hostKeyAlgorithm}`);
    // RFC 4253 §8: K_S is a key of the negotiated host key type, with no trailing bytes.
    const key = parsePublicKeyBlob(ks);
    if (key.type !== sigAlg.keyType) {
      throw kexFailed(
        `server host key is ${key.type}, but ${this.hostKeyAlgorithm} was negotiated (expected a ${sigAlg.keyType} key)`,
      );
    }
    this.parsedHostKey = key;
    return key;
  }

  private hostKey(): PrivateKey {
    const key = this.hostKeys.find((k) => k.signatureAlgorithms.includes(this.hostKeyAlgorithm));
    if (!key) throw kexFailed(`no host key for ${this.hostKeyAlgorithm}`);
    return key;
  }

  hostKeyBlob(): Uint8Array {
    return this.hostKey().publicKey.blob;
  }

  sign(h: Uint8Array): Uint8Array {
    return this.hostKey().sign(h, this.hostKeyAlgorithm);
  }
}

export const closedDuringKex = () => new SshError("CONNECTION_LOST", "the connection closed during the key exchange");
