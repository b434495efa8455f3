/**
 * Transport layer: the key-exchange flow for both roles (what Go x/crypto/ssh keeps in
 * handshake.go). The method's own messages are the method's (algorithms/kex-method.ts); the
 * switch of keys and sequence numbers is the transport's (transport.ts).
 *
 * - RFC 4253 §7 (KEXINIT, negotiation, first_kex_packet_follows), §7.2 (key derivation),
 *   §7.3 (NEWKEYS), §9 (re-exchange started by either side at any time).
 * - Strict KEX, OpenSSH PROTOCOL §1.10 (CVE-2023-48795 "Terrapin"): in the initial exchange,
 *   KEXINIT must be the first packet and nothing but KEX messages may arrive before NEWKEYS;
 *   sequence numbers reset to zero after every NEWKEYS.
 * - Ext-info, RFC 8308: `ext-info-c` / `ext-info-s` in the first KEXINIT (§2.1); the server's
 *   EXT_INFO (`server-sig-algs`) right after its first NEWKEYS (§2.4); and, as server, the
 *   client's EXT_INFO, accepted only as the very next packet after the client's first NEWKEYS
 *   (§2.3) and refused anywhere else.
 */

import { CIPHERS } from "../algorithms/cipher.ts";
import { BUILT_IN_GROUPS } from "../algorithms/dh-groups.ts";
import { KEX_METHODS } from "../algorithms/kex.ts";
import type { KexMethod, KexResult } from "../algorithms/kex-method.ts";
import { kexFailed } from "../algorithms/kex-method-errors.ts";
import { equalBytes } from "../crypto/provider.ts";
import { DisconnectReason, SshError } from "../errors.ts";
import { fingerprintSha256 } from "../keys/fingerprint.ts";
import { isKexMethodMessage, MSG } from "../wire/messages.ts";
import { encodeServerExtInfo, readExtInfo } from "./ext-info.ts";
import { askVerifier, checkExchangeSignature } from "./host-key-check.ts";
import { closedDuringKex, EngineKexConn } from "./kex-conn.ts";
import type { KexEngineHost } from "./kex-host.ts";
import {
  decodeKexInit,
  EXT_INFO_C,
  encodeKexInit,
  firstKexPseudoAlgorithms,
  guessWasRight,
  type Negotiated,
  negotiate,
  ourKexInit,
  STRICT_KEX_C,
  STRICT_KEX_S,
} from "./kexinit.ts";
import { RekeyMeter } from "./rekey.ts";
import { deriveSessionKeys, needBits } from "./session-keys.ts";
import type { TransportOptions } from "./transport.ts";
import { emptyTransportInfo, type TransportInfo } from "./transport-info.ts";

export type { KexEngineHost } from "./kex-host.ts";
export type { TransportInfo } from "./transport-info.ts";

/** One exchange, from the peer's KEXINIT on: every field is known once it exists. */
interface Exchange {
  readonly peerInit: Uint8Array;
  readonly negotiated: Negotiated;
  readonly method: KexMethod;
  readonly conn: EngineKexConn;
  /** The peer's server_host_key_algorithms (for the host-key verifier). */
  readonly peerHostKeyAlgorithms: readonly string[];
  /** RFC 4253 §7: the peer guessed wrong; drop its next KEX-method packet. */
  ignoreNext: boolean;
  /** The method finished and the new keys are prepared. */
  keysReady: boolean;
}

/** One round: from our KEXINIT to both NEWKEYS. */
interface Round {
  readonly ourInit: Uint8Array;
  exchange: Exchange | undefined;
  sentNewKeys: boolean;
  receivedNewKeys: boolean;
}

const kexStrictViolation = (what: string) =>
  new SshError("STRICT_KEX_VIOLATION", `strict KEX violation: ${what}`, { reason: DisconnectReason.PROTOCOL_ERROR });
const protocol = (what: string) => new SshError("PROTOCOL_ERROR", what, { reason: DisconnectReason.PROTOCOL_ERROR });
const isGeneric = (type: number) =>
  type === MSG.DISCONNECT || type === MSG.IGNORE || type === MSG.DEBUG || type === MSG.UNIMPLEMENTED;

export class KexEngine {
  sessionId: Uint8Array | undefined;
  serverSigAlgs: string[] | undefined;
  strict = false;
  private round: Round | undefined;
  private firstDone = false;
  private disposed = false;
  /** Packets received before the peer's first KEXINIT (strict KEX: must be zero). */
  private packetsBeforeKexInit = 0;
  private peerKexInitSeen = false;
  private firstHostKey: Uint8Array | undefined;
  private peerOfferedExtInfo = false;
  /** Server: we sent `ext-info-s` in our first KEXINIT (RFC 8308 §2.1). */
  private offeredExtInfoS = false;
  /** Server: the packet being handled is the first after the client's first NEWKEYS (RFC 8308 §2.3). */
  private clientExtInfoNext = false;
  private readonly peerExtensions = new Map<string, Uint8Array>();
  private readonly meter: RekeyMeter;
  readonly info: TransportInfo;

  constructor(
    private readonly host: KexEngineHost,
    private readonly options: TransportOptions,
  ) {
    this.meter = new RekeyMeter(options, () => {
      if (this.firstDone && !this.round) this.start();
    });
    this.info = emptyTransportInfo(this.peerExtensions);
    if (options.role === "server" && (options.hostKeys?.length ?? 0) === 0) {
      throw new TypeError("server transport needs at least one host key in options.hostKeys");
    }
    if (options.role === "client" && !options.verifyHostKey) {
      throw new TypeError("client transport needs options.verifyHostKey: host-key verification is mandatory");
    }
  }

  /** Outgoing upper-layer messages must wait: we sent KEXINIT and not yet NEWKEYS (RFC 4253 §7.1). */
  get outgoingBlocked(): boolean {
    return this.round !== undefined && !this.round.sentNewKeys;
  }

  // ---- starting a round --------------------------------------------------------------------

  start(): void {
    if (this.round) return;
    const o = this.options;
    const role = this.host.role;
    // RFC 8308 §2.1 and PROTOCOL §1.10: pseudo-algorithms only in the first KEXINIT.
    if (!this.firstDone) this.offeredExtInfoS = role === "server";
    const hostKey = role === "client" ? o.algorithms.hostKey : this.serverHostKeyAlgorithms();
    const pseudo = this.firstDone ? [] : firstKexPseudoAlgorithms(role, o.strictKex !== false);
    const ourInit = encodeKexInit(ourKexInit(o.random(16), o.algorithms, hostKey, pseudo));
    this.round = { ourInit, exchange: undefined, sentNewKeys: false, receivedNewKeys: false };
    this.host.sendTransport(ourInit);
  }

  /** Host key algorithms our keys can sign with, in the configured order. */
  private serverHostKeyAlgorithms(): string[] {
    const can = new Set((this.options.hostKeys ?? []).flatMap((k) => k.signatureAlgorithms));
    return this.options.algorithms.hostKey.filter((a) => can.has(a));
  }

  countIn(n: number): void {
    this.meter.countIn(n);
  }
  countOut(n: number): void {
    this.meter.countOut(n);
  }

  /** Start a re-exchange now (tests, and the user's explicit rekey). */
  rekey(): void {
    if (!this.firstDone) throw new SshError("PROTOCOL_ERROR", "cannot rekey before the first key exchange completed");
    this.start();
  }

  // ---- incoming ----------------------------------------------------------------------------

  /**
   * Called for every incoming packet before anything else. Returns true if the engine consumed
   * it. Throws for messages not allowed now.
   */
  filterIncoming(type: number, payload: Uint8Array): boolean {
    // RFC 8308 §2.3: the client's EXT_INFO must be the next packet after its first NEWKEYS;
    // whatever this packet is, that moment has passed once it is handled.
    const clientExtInfoAllowed = this.clientExtInfoNext;
    this.clientExtInfoNext = false;
    if (!this.peerKexInitSeen) {
      // Before the peer's first KEXINIT only generic transport messages are meaningful.
      if (type === MSG.KEXINIT) {
        this.peerKexInitSeen = true;
        this.onKexInit(payload);
        return true;
      }
      this.packetsBeforeKexInit++;
      if (isGeneric(type)) return false;
      throw protocol(`expected KEXINIT, got message type ${type} before the key exchange`);
    }
    const round = this.round;
    const ex = round?.exchange;
    if (round && ex && !round.receivedNewKeys) {
      // Strict KEX: during the initial exchange only KEX messages (PROTOCOL §1.10).
      if (this.strict && !this.firstDone && type !== MSG.NEWKEYS && !isKexMethodMessage(type)) {
        throw kexStrictViolation(`unexpected message type ${type} during the initial key exchange`);
      }
      // RFC 4253 §7.1: between KEXINIT and NEWKEYS only transport-generic (not service) and KEX messages.
      if (type === MSG.KEXINIT) throw protocol("received a second KEXINIT during a key exchange");
      if (isKexMethodMessage(type)) {
        this.onKexMethodMessage(ex, type, payload);
        return true;
      }
      if (type === MSG.NEWKEYS) {
        this.onNewKeys(round, ex, payload);
        return true;
      }
      if (type >= 1 && type <= 4) return false;
      throw protocol(`message type ${type} is not allowed during a key exchange`);
    }
    if (type === MSG.KEXINIT) {
      this.onKexInit(payload);
      return true;
    }
    if (type === MSG.NEWKEYS || isKexMethodMessage(type)) {
      throw protocol(`unexpected key exchange message type ${type} outside a key exchange`);
    }
    if (!this.firstDone && !isGeneric(type)) {
      throw protocol(`message type ${type} arrived before the key exchange completed`);
    }
    if (type === MSG.EXT_INFO) {
      this.onExtInfo(payload, clientExtInfoAllowed);
      return true;
    }
    return false;
  }

  private onKexInit(payload: Uint8Array): void {
    const first = !this.firstDone;
    const peer = decodeKexInit(payload);
    if (!this.round) this.start(); // RFC 4253 §9: the peer may start a re-exchange at any time.
    const round = this.round as Round;
    const ours = decodeKexInit(round.ourInit);
    const isClient = this.host.role === "client";
    const [client, server] = isClient ? [ours, peer] : [peer, ours];
    if (first) {
      // Only the first KEXINIT counts for strict KEX and ext-info (PROTOCOL §1.10, RFC 8308 §2.1).
      this.strict = client.kex.includes(STRICT_KEX_C) && server.kex.includes(STRICT_KEX_S);
      this.info.strictKex = this.strict;
      if (this.strict && this.packetsBeforeKexInit > 0) throw kexStrictViolation("KEXINIT was not the first packet");
      this.peerOfferedExtInfo = !isClient && client.kex.includes(EXT_INFO_C);
      const peerLine = this.host.peerVersion?.line ?? "";
      this.info.clientVersion = isClient ? this.host.ourVersion : peerLine;
      this.info.serverVersion = isClient ? peerLine : this.host.ourVersion;
    }
    const negotiated = negotiate(client, server, this.host.role, (c) => CIPHERS.get(c)?.aead === true);
    const method = KEX_METHODS.get(negotiated.kex);
    if (!method) throw kexFailed(`negotiated unknown key exchange ${negotiated.kex}`);
    const peerInit = payload.slice();
    const o = this.options;
    const conn = new EngineKexConn(
      { send: (p) => this.host.sendTransport(p), hold: () => this.host.hold(), release: () => this.host.release() },
      this.host.role,
      o.provider,
      o.random,
      {
        clientVersion: this.info.clientVersion,
        serverVersion: this.info.serverVersion,
        clientKexInit: isClient ? round.ourInit : peerInit,
        serverKexInit: isClient ? peerInit : round.ourInit,
      },
      negotiated.hostKey,
      needBits(negotiated),
      o.dhGroups ?? BUILT_IN_GROUPS,
      o.hostKeys ?? [],
    );
    const ex: Exchange = {
      peerInit,
      negotiated,
      method,
      conn,
      peerHostKeyAlgorithms: peer.hostKey,
      ignoreNext: peer.firstKexPacketFollows && !guessWasRight(client, server, negotiated),
      keysReady: false,
    };
    round.exchange = ex;
    const run = isClient ? method.client(conn) : method.server(conn);
    run.then(
      (result) => {
        if (this.disposed) return;
        try {
          if (isClient) this.clientFinish(ex, result);
          else this.serverFinish(ex, result);
        } catch (err) {
          this.host.fail(err as Error);
        }
      },
      (err: unknown) => {
        if (!this.disposed) this.host.fail(err as Error);
      },
    );
  }

  private onKexMethodMessage(ex: Exchange, type: number, payload: Uint8Array): void {
    if (ex.ignoreNext) {
      ex.ignoreNext = false;
      return;
    }
    if (ex.keysReady) throw protocol(`unexpected key exchange message ${type} after the reply`);
    ex.conn.deliver(payload);
  }

  /** Client: the method's result. Verify the signature over H, then the host key, then NEWKEYS. */
  private clientFinish(ex: Exchange, result: KexResult): void {
    const neg = ex.negotiated;
    const ks = result.hostKey;
    const key = ex.conn.parsedHostKey ?? ex.conn.checkHostKey(ks);
    checkExchangeSignature(this.options.provider, neg.hostKey, ks, result.h, result.signature);
    this.prepareKeys(ex, result);
    const fingerprint = fingerprintSha256(this.options.provider, ks);
    if (this.firstHostKey) {
      // A re-exchange must present the same host key (what OpenSSH enforces too).
      if (!equalBytes(this.firstHostKey, ks)) {
        throw new SshError("HOST_KEY_CHANGED", `server host key changed during re-exchange (now ${fingerprint})`, {
          reason: DisconnectReason.HOST_KEY_NOT_VERIFIABLE,
        });
      }
      this.sendNewKeys();
      this.host.release();
      return;
    }
    this.info.hostKey = key;
    this.info.hostKeyFingerprint = fingerprint;
    // Mandatory verification before NEWKEYS, hence before any USERAUTH (RFC 4251 §4.1, §9.3.4).
    // Input stays held until the verdict.
    this.host.hold();
    askVerifier(this.options, neg.hostKey, key, fingerprint, ex.peerHostKeyAlgorithms).then(
      () => {
        if (this.disposed) return;
        this.firstHostKey = ks;
        this.sendNewKeys();
        this.host.release();
      },
      (err: Error) => this.host.fail(err),
    );
  }

  /** Server: the method signed H and sent its reply; NEWKEYS follows at once. */
  private serverFinish(ex: Exchange, result: KexResult): void {
    this.prepareKeys(ex, result);
    this.info.hostKey = (this.options.hostKeys ?? []).find((k) =>
      k.signatureAlgorithms.includes(ex.negotiated.hostKey),
    )?.publicKey;
    this.info.hostKeyFingerprint = fingerprintSha256(this.options.provider, result.hostKey);
    this.sendNewKeys();
    this.host.release();
  }

  /** RFC 4253 §7.2: keys from K, H and the session id (H of the first exchange). */
  private prepareKeys(ex: Exchange, result: KexResult): void {
    if (!this.sessionId) this.sessionId = result.h;
    const keys = deriveSessionKeys(
      this.options.provider,
      ex.method.hash,
      result.k,
      result.h,
      this.sessionId,
      ex.negotiated,
      this.host.role,
    );
    this.host.prepareKeyChange(keys.sealer, keys.opener);
    ex.keysReady = true;
    this.info.negotiated = ex.negotiated;
  }

  private sendNewKeys(): void {
    const round = this.round as Round;
    // Strict KEX: the sending sequence number resets after each NEWKEYS (PROTOCOL §1.10).
    const impl = this.host.sendNewKeys(this.strict);
    round.sentNewKeys = true;
    if (this.host.role === "client") this.info.implC2S = impl;
    else this.info.implS2C = impl;
    // RFC 8308 §2.4: the server's EXT_INFO goes right after its first NEWKEYS.
    if (this.host.role === "server" && !this.firstDone && this.peerOfferedExtInfo) {
      this.host.sendTransport(encodeServerExtInfo(this.serverHostKeyAlgorithms()));
    }
    this.maybeFinish();
  }

  private onNewKeys(round: Round, ex: Exchange, payload: Uint8Array): void {
    if (payload.length !== 1) throw protocol("NEWKEYS has trailing bytes");
    if (!ex.keysReady) throw protocol("received NEWKEYS before the key exchange reply");
    // Strict KEX: the receiving sequence number resets after each NEWKEYS (PROTOCOL §1.10).
    const impl = this.host.receiveNewKeys(this.strict);
    round.receivedNewKeys = true;
    if (this.host.role === "client") this.info.implS2C = impl;
    else this.info.implC2S = impl;
    // RFC 8308 §2.3: a client told ext-info-s may send EXT_INFO as its next packet.
    if (this.host.role === "server" && !this.firstDone && this.offeredExtInfoS) this.clientExtInfoNext = true;
    this.maybeFinish();
  }

  private maybeFinish(): void {
    const round = this.round;
    if (!round?.sentNewKeys || !round.receivedNewKeys) return;
    const first = !this.firstDone;
    this.round = undefined;
    this.firstDone = true;
    this.meter.reset();
    this.info.kexCount++;
    this.host.flushQueue();
    this.options.onKexDone?.(first);
  }

  /** RFC 8308 §2.3 (what we act on: ext-info.ts); from a client only right after its first NEWKEYS. */
  private onExtInfo(payload: Uint8Array, allowedFromClient: boolean): void {
    if (this.host.role === "server" && !allowedFromClient) {
      throw protocol(
        "client sent EXT_INFO at the wrong time: RFC 8308 §2.3 allows it only as the next packet after the client's first NEWKEYS",
      );
    }
    const sigAlgs = readExtInfo(payload, this.peerExtensions);
    if (sigAlgs && this.host.role === "client") this.serverSigAlgs = sigAlgs;
  }

  dispose(): void {
    this.disposed = true;
    this.round?.exchange?.conn.abort(closedDuringKex());
  }
}
