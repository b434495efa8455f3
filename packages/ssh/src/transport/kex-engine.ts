/**
 * Transport layer: the key-exchange state machine for both roles.
 *
 * - RFC 4253 §7 (KEXINIT, negotiation, first_kex_packet_follows), §7.2 (key derivation),
 *   §7.3 (NEWKEYS), §8 and RFC 5656 §4 / RFC 8731 (the ECDH-style INIT/REPLY exchange,
 *   messages 30/31), §9 (re-exchange started by either side at any time).
 * - Strict KEX, OpenSSH PROTOCOL §1.10 (CVE-2023-48795 "Terrapin"): in the initial exchange,
 *   KEXINIT must be the first packet and nothing but KEX messages may arrive before NEWKEYS;
 *   sequence numbers reset to zero after every NEWKEYS.
 * - Ext-info, RFC 8308: `ext-info-c` / `ext-info-s` in the first KEXINIT (§2.1); the server's
 *   EXT_INFO (`server-sig-algs`) right after its first NEWKEYS (§2.4); and, as server, the
 *   client's EXT_INFO, accepted only as the very next packet after the client's first NEWKEYS
 *   (§2.3) and refused anywhere else.
 */

import { CIPHERS } from "../algorithms/cipher.ts";
import { DEFAULT_HOST_KEY_ALGORITHMS, SIGNATURE_ALGORITHMS } from "../algorithms/hostkey.ts";
import { deriveKey, exchangeHash } from "../algorithms/kdf.ts";
import { KEX_ALGORITHMS } from "../algorithms/kex.ts";
import { MACS } from "../algorithms/mac.ts";
import type { CipherAlgorithm, KexAlgorithm, KexClient, PacketOpener, PacketSealer } from "../algorithms/types.ts";
import { equalBytes } from "../crypto/provider.ts";
import { DisconnectReason, SshError } from "../errors.ts";
import { fingerprintSha256 } from "../keys/fingerprint.ts";
import { parsePublicKeyBlob } from "../keys/public-key.ts";
import type { PublicKey } from "../keys/types.ts";
import { MSG } from "../wire/messages.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";
import {
  decodeKexInit,
  EXT_INFO_C,
  EXT_INFO_S,
  encodeKexInit,
  guessWasRight,
  type KexInit,
  type Negotiated,
  negotiate,
  STRICT_KEX_C,
  STRICT_KEX_S,
} from "./kexinit.ts";
import type { PacketReader, PacketWriter } from "./packet.ts";
import type { TransportOptions } from "./transport.ts";

/** What the engine needs from the transport. */
export interface KexEngineHost {
  readonly role: "client" | "server";
  readonly reader: PacketReader;
  readonly writer: PacketWriter;
  readonly ourVersion: string;
  readonly peerVersion: { line: string } | undefined;
  sendTransport(payload: Uint8Array): void;
  flushQueue(): void;
  hold(): void;
  release(): void;
  fail(err: Error): void;
}

export interface TransportInfo {
  clientVersion: string;
  serverVersion: string;
  negotiated: Negotiated | undefined;
  strictKex: boolean;
  hostKey: PublicKey | undefined;
  hostKeyFingerprint: string | undefined;
  /** Which implementation carries each direction ("noble", or an accelerator). */
  implC2S: string;
  implS2C: string;
  kexCount: number;
  /**
   * The extensions the peer announced in EXT_INFO (RFC 8308 §2.3), name → raw value; a later
   * EXT_INFO replaces the names it carries. Empty if it sent none.
   */
  peerExtensions: ReadonlyMap<string, Uint8Array>;
}

interface Round {
  ourInit: Uint8Array;
  peerInit?: Uint8Array;
  /** The peer's server_host_key_algorithms (for the host-key verifier). */
  peerHostKeyAlgorithms?: readonly string[];
  negotiated?: Negotiated;
  /** RFC 4253 §7: the peer guessed wrong; drop its next KEX-method packet. */
  ignoreNext: boolean;
  method?: KexAlgorithm;
  client?: KexClient;
  /** Keys derived and ready for NEWKEYS. */
  pendingSealer?: PacketSealer;
  pendingOpener?: PacketOpener;
  sentNewKeys: boolean;
  receivedNewKeys: boolean;
}

const kexStrictViolation = (what: string) =>
  new SshError("STRICT_KEX_VIOLATION", `strict KEX violation: ${what}`, { reason: DisconnectReason.PROTOCOL_ERROR });
const kexFailed = (what: string) => new SshError("KEX_FAILED", what, { reason: DisconnectReason.KEY_EXCHANGE_FAILED });
const protocol = (what: string) => new SshError("PROTOCOL_ERROR", what, { reason: DisconnectReason.PROTOCOL_ERROR });

export class KexEngine {
  sessionId: Uint8Array | undefined;
  serverSigAlgs: string[] | undefined;
  strict = false;
  private round: Round | undefined;
  private firstDone = false;
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
  private bytesIn = 0;
  private bytesOut = 0;
  private lastKexAt: number;
  private readonly rekeyBytes: number;
  private readonly rekeyMs: number;
  private readonly now: () => number;
  readonly info: TransportInfo;

  constructor(
    private readonly host: KexEngineHost,
    private readonly options: TransportOptions,
  ) {
    this.rekeyBytes = options.rekeyBytes ?? 2 ** 30;
    this.rekeyMs = options.rekeyMs ?? 3_600_000;
    this.now = options.now ?? Date.now;
    this.lastKexAt = this.now();
    this.info = {
      clientVersion: "",
      serverVersion: "",
      negotiated: undefined,
      strictKex: false,
      hostKey: undefined,
      hostKeyFingerprint: undefined,
      implC2S: "none",
      implS2C: "none",
      kexCount: 0,
      peerExtensions: this.peerExtensions,
    };
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
    const first = !this.firstDone;
    const kex = [...o.algorithms.kex];
    // RFC 8308 §2.1 and PROTOCOL §1.10: pseudo-algorithms only in the first KEXINIT.
    if (first) {
      const strict = o.strictKex === false ? [] : [this.host.role === "client" ? STRICT_KEX_C : STRICT_KEX_S];
      kex.push(this.host.role === "client" ? EXT_INFO_C : EXT_INFO_S, ...strict);
      this.offeredExtInfoS = this.host.role === "server";
    }
    const hostKey = this.host.role === "client" ? [...o.algorithms.hostKey] : this.serverHostKeyAlgorithms();
    const init: KexInit = {
      cookie: o.random(16),
      kex,
      hostKey,
      cipherC2S: [...o.algorithms.cipher],
      cipherS2C: [...o.algorithms.cipher],
      macC2S: [...o.algorithms.mac],
      macS2C: [...o.algorithms.mac],
      compressionC2S: ["none"],
      compressionS2C: ["none"],
      languagesC2S: [],
      languagesS2C: [],
      firstKexPacketFollows: false,
    };
    const ourInit = encodeKexInit(init);
    this.round = { ourInit, ignoreNext: false, sentNewKeys: false, receivedNewKeys: false };
    this.host.sendTransport(ourInit);
  }

  /** Host key algorithms our keys can sign with, in the configured order. */
  private serverHostKeyAlgorithms(): string[] {
    const can = new Set((this.options.hostKeys ?? []).flatMap((k) => k.signatureAlgorithms));
    return this.options.algorithms.hostKey.filter((a) => can.has(a));
  }

  countIn(n: number): void {
    this.bytesIn += n;
    this.maybeRekey();
  }
  countOut(n: number): void {
    this.bytesOut += n;
    this.maybeRekey();
  }

  /** RFC 4253 §9: re-exchange after 1 GiB either way or an hour. */
  private maybeRekey(): void {
    if (!this.firstDone || this.round) return;
    if (
      this.bytesIn >= this.rekeyBytes ||
      this.bytesOut >= this.rekeyBytes ||
      this.now() - this.lastKexAt >= this.rekeyMs
    ) {
      this.start();
    }
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
      if (type === MSG.DISCONNECT || type === MSG.IGNORE || type === MSG.DEBUG || type === MSG.UNIMPLEMENTED)
        return false;
      throw protocol(`expected KEXINIT, got message type ${type} before the key exchange`);
    }
    const round = this.round;
    const inPeerKex = round?.peerInit !== undefined && !round.receivedNewKeys;
    if (inPeerKex) {
      // Strict KEX: during the initial exchange only KEX messages (PROTOCOL §1.10).
      if (this.strict && !this.firstDone && type !== MSG.NEWKEYS && !(type >= 30 && type <= 49)) {
        throw kexStrictViolation(`unexpected message type ${type} during the initial key exchange`);
      }
      // RFC 4253 §7.1: between KEXINIT and NEWKEYS only transport-generic (not service) and KEX messages.
      if (type === MSG.KEXINIT) throw protocol("received a second KEXINIT during a key exchange");
      if (type >= 30 && type <= 49) {
        this.onKexMethodMessage(type, payload);
        return true;
      }
      if (type === MSG.NEWKEYS) {
        this.onNewKeys(payload);
        return true;
      }
      if (type >= 1 && type <= 4) return false;
      throw protocol(`message type ${type} is not allowed during a key exchange`);
    }
    if (type === MSG.KEXINIT) {
      this.onKexInit(payload);
      return true;
    }
    if (type === MSG.NEWKEYS || (type >= 30 && type <= 49)) {
      throw protocol(`unexpected key exchange message type ${type} outside a key exchange`);
    }
    if (
      !this.firstDone &&
      type !== MSG.DISCONNECT &&
      type !== MSG.IGNORE &&
      type !== MSG.DEBUG &&
      type !== MSG.UNIMPLEMENTED
    ) {
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
    round.peerInit = payload.slice();
    round.peerHostKeyAlgorithms = peer.hostKey;
    const ours = decodeKexInit(round.ourInit);
    const [client, server] = this.host.role === "client" ? [ours, peer] : [peer, ours];
    if (first) {
      // Only the first KEXINIT counts for strict KEX and ext-info (PROTOCOL §1.10, RFC 8308 §2.1).
      const strict = client.kex.includes(STRICT_KEX_C) && server.kex.includes(STRICT_KEX_S);
      this.strict = strict;
      this.info.strictKex = strict;
      if (this.strict && this.packetsBeforeKexInit > 0) {
        throw kexStrictViolation("KEXINIT was not the first packet");
      }
      this.peerOfferedExtInfo = this.host.role === "server" && client.kex.includes(EXT_INFO_C);
      this.info.clientVersion =
        this.host.role === "client" ? this.host.ourVersion : (this.host.peerVersion?.line ?? "");
      this.info.serverVersion =
        this.host.role === "client" ? (this.host.peerVersion?.line ?? "") : this.host.ourVersion;
    }
    const negotiated = negotiate(client, server, this.host.role, (c) => CIPHERS.get(c)?.aead === true);
    round.negotiated = negotiated;
    if (peer.firstKexPacketFollows && !guessWasRight(client, server, negotiated)) round.ignoreNext = true;
    const method = KEX_ALGORITHMS.get(negotiated.kex);
    if (!method) throw kexFailed(`negotiated unknown key exchange ${negotiated.kex}`);
    round.method = method;
    if (this.host.role === "client") {
      const kexClient = method.createClient(this.options.provider, this.options.random);
      round.client = kexClient;
      this.host.sendTransport(new Writer(1300).byte(MSG.KEX_ECDH_INIT).string(kexClient.clientValue).bytes());
    }
  }

  private onKexMethodMessage(type: number, payload: Uint8Array): void {
    const round = this.round as Round;
    if (round.ignoreNext) {
      round.ignoreNext = false;
      return;
    }
    if (round.pendingSealer) throw protocol(`unexpected key exchange message ${type} after the reply`);
    if (this.host.role === "client") {
      if (type !== MSG.KEX_ECDH_REPLY) throw protocol(`expected KEX reply (31), got message type ${type}`);
      this.onReply(payload);
    } else {
      if (type !== MSG.KEX_ECDH_INIT) throw protocol(`expected KEX init (30), got message type ${type}`);
      this.onInit(payload);
    }
  }

  /** Client: SSH_MSG_KEX_ECDH_REPLY / KEXDH_REPLY (RFC 5656 §4, RFC 4253 §8). */
  private onReply(payload: Uint8Array): void {
    const round = this.round as Round;
    const neg = round.negotiated as Negotiated;
    const method = round.method as KexAlgorithm;
    const r = new Reader(payload, 1);
    const ks = r.string("server host key").slice();
    const serverValue = r.string("server KEX value").slice();
    const signature = r.string("exchange hash signature").slice();
    r.done("KEX reply");
    const sigAlg = SIGNATURE_ALGORITHMS.get(neg.hostKey);
    if (!sigAlg) throw kexFailed(`negotiated unknown host key algorithm ${neg.hostKey}`);
    // RFC 4253 §8: K_S is a key of the negotiated host key type, with no trailing bytes.
    const key = parsePublicKeyBlob(ks);
    if (key.type !== sigAlg.keyType) {
      throw kexFailed(
        `server host key is ${key.type}, but ${neg.hostKey} was negotiated (expected a ${sigAlg.keyType} key)`,
      );
    }
    const client = round.client as KexClient;
    const k = client.finish(serverValue);
    const h = exchangeHash(this.options.provider, method.hash, {
      vc: this.info.clientVersion,
      vs: this.info.serverVersion,
      ic: round.ourInit,
      is: round.peerInit as Uint8Array,
      ks,
      clientValue: client.clientValue,
      serverValue,
      k,
    });
    if (!sigAlg.verify(this.options.provider, ks, h, signature)) {
      throw new SshError("BAD_SIGNATURE", `server's ${neg.hostKey} signature over the exchange hash did not verify`, {
        reason: DisconnectReason.KEY_EXCHANGE_FAILED,
      });
    }
    this.deriveKeys(k, h, method);
    const fingerprint = fingerprintSha256(this.options.provider, ks);
    if (this.firstHostKey) {
      // A re-exchange must present the same host key (what OpenSSH enforces too).
      if (!equalBytes(this.firstHostKey, ks)) {
        throw new SshError("HOST_KEY_CHANGED", `server host key changed during re-exchange (now ${fingerprint})`, {
          reason: DisconnectReason.HOST_KEY_NOT_VERIFIABLE,
        });
      }
      this.sendNewKeys();
      return;
    }
    this.info.hostKey = key;
    this.info.hostKeyFingerprint = fingerprint;
    // Mandatory verification before NEWKEYS, hence before any USERAUTH (RFC 4251 §4.1, §9.3.4).
    this.host.hold();
    const verify = this.options.verifyHostKey as NonNullable<TransportOptions["verifyHostKey"]>;
    let verdict: Promise<boolean>;
    try {
      verdict = Promise.resolve(
        verify({
          host: this.options.host ?? "",
          port: this.options.port ?? 22,
          algorithm: neg.hostKey,
          key,
          fingerprint,
          serverHostKeyAlgorithms: round.peerHostKeyAlgorithms ?? [],
        }),
      );
    } catch (err) {
      verdict = Promise.reject(err);
    }
    verdict.then(
      (ok) => {
        if (ok !== true) {
          this.host.fail(
            new SshError("HOST_KEY_REJECTED", `host key ${fingerprint} (${key.type}) was rejected`, {
              reason: DisconnectReason.HOST_KEY_NOT_VERIFIABLE,
            }),
          );
          return;
        }
        this.firstHostKey = ks;
        this.sendNewKeys();
        this.host.release();
      },
      (err: unknown) => {
        const e =
          err instanceof SshError
            ? err
            : new SshError("HOST_KEY_REJECTED", `host key check failed: ${(err as Error)?.message ?? String(err)}`, {
                reason: DisconnectReason.HOST_KEY_NOT_VERIFIABLE,
              });
        this.host.fail(e);
      },
    );
  }

  /** Server: SSH_MSG_KEX_ECDH_INIT / KEXDH_INIT. */
  private onInit(payload: Uint8Array): void {
    const round = this.round as Round;
    const neg = round.negotiated as Negotiated;
    const method = round.method as KexAlgorithm;
    const r = new Reader(payload, 1);
    const clientValue = r.string("client KEX value").slice();
    r.done("KEX init");
    const key = (this.options.hostKeys ?? []).find((k) => k.signatureAlgorithms.includes(neg.hostKey));
    if (!key) throw kexFailed(`no host key for ${neg.hostKey}`);
    const server = method.createServer(this.options.provider, this.options.random);
    const { serverValue, sharedSecret: k } = server.respond(clientValue);
    server.dispose();
    const ks = key.publicKey.blob;
    const h = exchangeHash(this.options.provider, method.hash, {
      vc: this.info.clientVersion,
      vs: this.info.serverVersion,
      ic: round.peerInit as Uint8Array,
      is: round.ourInit,
      ks,
      clientValue,
      serverValue,
      k,
    });
    const signature = key.sign(h, neg.hostKey);
    this.host.sendTransport(
      new Writer(2048).byte(MSG.KEX_ECDH_REPLY).string(ks).string(serverValue).string(signature).bytes(),
    );
    this.deriveKeys(k, h, method);
    this.info.hostKey = key.publicKey;
    this.info.hostKeyFingerprint = fingerprintSha256(this.options.provider, ks);
    this.sendNewKeys();
  }

  /** RFC 4253 §7.2: IVs A/B, keys C/D, MAC keys E/F from K, H and the session id. */
  private deriveKeys(k: Uint8Array, h: Uint8Array, method: KexAlgorithm): void {
    const round = this.round as Round;
    const neg = round.negotiated as Negotiated;
    if (!this.sessionId) this.sessionId = h; // RFC 4253 §7.2: H of the first exchange
    const p = this.options.provider;
    const sid = this.sessionId;
    const make = (cipherName: string, macName: string, ivL: string, keyL: string, macL: string) => {
      const cipher = CIPHERS.get(cipherName) as CipherAlgorithm;
      const iv = deriveKey(p, method.hash, k, h, ivL, sid, cipher.ivLength);
      const key = deriveKey(p, method.hash, k, h, keyL, sid, cipher.keyLength);
      const mac = cipher.aead ? undefined : MACS.get(macName);
      if (!cipher.aead && !mac) throw kexFailed(`negotiated unknown MAC ${macName}`);
      return {
        cipher,
        keys: {
          key,
          iv,
          ...(mac ? { mac: { algorithm: mac, key: deriveKey(p, method.hash, k, h, macL, sid, mac.keyLength) } } : {}),
        },
      };
    };
    const c2s = make(neg.cipherC2S, neg.macC2S, "A", "C", "E");
    const s2c = make(neg.cipherS2C, neg.macS2C, "B", "D", "F");
    const [out, inn] = this.host.role === "client" ? [c2s, s2c] : [s2c, c2s];
    round.pendingSealer = out.cipher.createSealer(out.keys, p);
    round.pendingOpener = inn.cipher.createOpener(inn.keys, p);
    this.info.negotiated = neg;
  }

  private sendNewKeys(): void {
    const round = this.round as Round;
    this.host.sendTransport(Uint8Array.of(MSG.NEWKEYS));
    const w = this.host.writer;
    w.sealer.dispose();
    w.sealer = round.pendingSealer as PacketSealer;
    // Strict KEX: the sending sequence number resets after each NEWKEYS (PROTOCOL §1.10).
    if (this.strict) w.seq = 0;
    round.sentNewKeys = true;
    if (this.host.role === "client") this.info.implC2S = w.sealer.impl;
    else this.info.implS2C = w.sealer.impl;
    // RFC 8308 §2.4: the server's EXT_INFO goes right after its first NEWKEYS.
    if (this.host.role === "server" && !this.firstDone && this.peerOfferedExtInfo) this.sendExtInfo();
    this.maybeFinish();
  }

  private onNewKeys(payload: Uint8Array): void {
    const round = this.round as Round;
    if (payload.length !== 1) throw protocol("NEWKEYS has trailing bytes");
    if (!round.pendingOpener) throw protocol("received NEWKEYS before the key exchange reply");
    const r = this.host.reader;
    r.opener.dispose();
    r.opener = round.pendingOpener;
    // Strict KEX: the receiving sequence number resets after each NEWKEYS (PROTOCOL §1.10).
    if (this.strict) r.seq = 0;
    round.receivedNewKeys = true;
    if (this.host.role === "client") this.info.implS2C = r.opener.impl;
    else this.info.implC2S = r.opener.impl;
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
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.lastKexAt = this.now();
    this.info.kexCount++;
    this.host.flushQueue();
    this.options.onKexDone?.(first);
  }

  private sendExtInfo(): void {
    const algs = this.serverHostKeyAlgorithms();
    // What we verify for user auth: every default signature algorithm (RFC 8308 §3.1).
    const sigAlgs = [...new Set([...algs, ...DEFAULT_HOST_KEY_ALGORITHMS])];
    this.host.sendTransport(
      new Writer(256).byte(MSG.EXT_INFO).uint32(1).string("server-sig-algs").nameList(sigAlgs).bytes(),
    );
  }

  /**
   * RFC 8308 §2.3: extensions, kept by name in `info.peerExtensions`. As client we act on
   * `server-sig-algs` (§3.1); as server on none (delay-compression and no-flow-control,
   * §3.2–§3.3, apply only if we announce them too, and we do not; elevation, §3.4, means
   * nothing without shells), but the client's EXT_INFO is legal at one moment only:
   * `allowedFromClient`, the packet right after its first NEWKEYS.
   */
  private onExtInfo(payload: Uint8Array, allowedFromClient: boolean): void {
    if (this.host.role === "server" && !allowedFromClient) {
      throw protocol(
        "client sent EXT_INFO at the wrong time: RFC 8308 §2.3 allows it only as the next packet after the client's first NEWKEYS",
      );
    }
    const r = new Reader(payload, 1);
    const n = r.uint32("extension count");
    // The count is the peer's: nothing is allocated from it, each entry is read from the packet.
    for (let i = 0; i < n; i++) {
      const name = r.ascii("extension name");
      const value = r.string("extension value").slice();
      this.peerExtensions.set(name, value);
      if (name === "server-sig-algs" && this.host.role === "client")
        this.serverSigAlgs = new Reader(encodeString(value)).nameList("server-sig-algs");
    }
  }

  dispose(): void {
    const round = this.round;
    round?.client?.dispose();
    round?.pendingSealer?.dispose();
    round?.pendingOpener?.dispose();
    this.host.writer.sealer.dispose();
    this.host.reader.opener.dispose();
  }
}

function encodeString(b: Uint8Array): Uint8Array {
  return new Writer(b.length + 4).string(b).bytes();
}
