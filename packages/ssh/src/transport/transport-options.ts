/** The transport's options and limits (RFC 4253): what a client or server connection is built from. */
import type { DhGroup } from "../algorithms/dh-groups.ts";
import type { CryptoProvider, RandomSource } from "../crypto/provider.ts";
import type { SshError } from "../errors.ts";
import type { HostKeyVerifier, PrivateKey } from "../keys/types.ts";
import type { Conn } from "../runtime/types.ts";

/** Rekey after this many bytes each way (1 GiB, docs/SECURITY.md; RFC 4344 §3.2 block limits are higher for AES). */
export const DEFAULT_REKEY_BYTES = 2 ** 30;
/** Rekey after an hour (RFC 4253 §9 recommends one hour). */
export const DEFAULT_REKEY_MS = 60 * 60 * 1000;
/** How long a closed connection waits for the peer to close its side before tearing down. */
export const LINGER_MS = 2000;
/** Outgoing upper-layer bytes that may wait during a key exchange. */
export const DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024;

/** Algorithm name lists in preference order, one per negotiation (RFC 4253 §7.1). */
export interface AlgorithmLists {
  /** Key exchange methods (kex_algorithms); the first KEXINIT adds the strict-KEX and ext-info names. */
  kex: readonly string[];
  /** Host key algorithms (server_host_key_algorithms); a server offers only those its host keys can sign with. */
  hostKey: readonly string[];
  /** Ciphers, offered the same for both directions (encryption_algorithms_*). */
  cipher: readonly string[];
  /** MACs, offered the same for both directions (mac_algorithms_*); not used with an AEAD cipher. */
  mac: readonly string[];
}

export interface TransportOptions {
  role: "client" | "server";
  conn: Conn;
  algorithms: AlgorithmLists;
  provider: CryptoProvider;
  random: RandomSource;
  /** Software version for our identification line. */
  software?: string;
  /** Client: where we connected, for the verifier. */
  host?: string;
  port?: number;
  /** Client: mandatory host-key check. */
  verifyHostKey?: HostKeyVerifier;
  /** Server: host keys to sign the exchange hash with. */
  hostKeys?: readonly PrivateKey[];
  /** Server: groups for diffie-hellman-group-exchange (a moduli file's); the built-in list if absent. */
  dhGroups?: readonly DhGroup[];
  rekeyBytes?: number;
  rekeyMs?: number;
  maxQueueBytes?: number;
  /** Offer strict KEX (default true). Off only to test against peers without it. */
  strictKex?: boolean;
  /** Clock, injectable for tests. */
  now?: () => number;
  /** Upper-layer messages (service, auth, connection). Return false if the type is unknown. */
  onMessage(payload: Uint8Array): boolean;
  /** Called once when the transport is gone; `error` unless we closed it cleanly. */
  onClose(error?: SshError | Error): void;
  /** SSH_MSG_DEBUG with always_display, and server banners before the version line. */
  onDebug?(message: string): void;
  /** Called after every completed key exchange (first one included). */
  onKexDone?(first: boolean): void;
  /** Backpressure: the socket drained. */
  onDrain?(): void;
}
