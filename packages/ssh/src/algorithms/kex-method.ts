/**
 * The key exchange method contract: what one method (`kex-*.ts`) implements and what the
 * transport gives it (the shape of Go x/crypto/ssh's `kexAlgorithm`, written for this code).
 *
 * How it fits together:
 *
 * - `transport/kex-engine.ts` sends and reads KEXINIT, negotiates (RFC 4253 §7.1), and then
 *   calls `method.client(conn)` or `method.server(conn)` once per exchange.
 * - The method runs its own messages, as many rounds as it needs (RFC 4253 §8 and RFC 5656 §4
 *   are one round, RFC 4419 group exchange two): `conn.send(payload)` sends one message of
 *   the KEX-method range 30–49 (payload starts with the message number), `await conn.next()`
 *   returns the peer's next message of that range. Input is held while the method works on a
 *   message, so nothing after it (NEWKEYS, say) is read before the method asks again.
 * - It resolves with `KexResult`: the exchange hash H, the shared secret K encoded as it enters
 *   the hash (mpint, or string for the post-quantum hybrids), the server's host key blob K_S and
 *   the signature over H. It rejects with an `SshError` (`KEX_FAILED` for a bad value).
 * - The engine, not the method, verifies the signature and asks the host-key verifier
 *   (client), derives keys (RFC 4253 §7.2) and hands them to the transport, which alone
 *   switches keys and sequence numbers at NEWKEYS (RFC 4253 §7.3).
 * - Every ephemeral secret is drawn from `conn.random`, the transport's injected randomness,
 *   so that a session with fixed randomness replays byte for byte.
 * - Cost before trust (docs/SECURITY.md): check every peer value's length (exact lengths for
 *   fixed-size values) before any arithmetic on it; client methods call `conn.checkHostKey(K_S)`
 *   before computing K.
 *
 * One-round methods whose values are a client string and a server string (ECDH, X25519, the
 * hybrids, fixed-group DH with mpints) need not write the message flow: they implement
 * `KexAlgorithm` (types.ts: `createClient` / `createServer`) and get `client`/`server` from
 * `oneRound()` in `kex-one-round.ts`. A hybrid of a KEM and X25519 (draft-ietf-sshm-mlkem-hybrid-kex,
 * OpenSSH PROTOCOL's sntrup761x25519-sha512) is one `Kem` object passed to `hybridKex()` in
 * `kex-hybrid.ts`. Register a method in `kex.ts` (KEX_METHODS) and name it once in `kex-names.ts`.
 */
import type { CryptoProvider, HashName, RandomSource } from "../crypto/provider.ts";
import type { PublicKey } from "../keys/types.ts";
import type { DhGroup } from "./dh-groups.ts";

/** The strings every exchange hash starts with (RFC 4253 §8): V_C, V_S, I_C, I_S. */
export interface KexMagics {
  /** Identification lines without CR LF. */
  readonly clientVersion: string;
  readonly serverVersion: string;
  /** KEXINIT payloads, message number included. */
  readonly clientKexInit: Uint8Array;
  readonly serverKexInit: Uint8Array;
}

/** What the transport gives a method for one exchange, both roles. */
export interface KexConn {
  readonly role: "client" | "server";
  readonly provider: CryptoProvider;
  readonly random: RandomSource;
  readonly magics: KexMagics;
  /** The negotiated host key (signature) algorithm, e.g. "ssh-ed25519". */
  readonly hostKeyAlgorithm: string;
  /**
   * The strength in bits the negotiated ciphers and MACs need (the largest of their key, block,
   * IV and MAC key sizes, as OpenSSH's dh_need): group exchange sizes its request from it.
   */
  readonly needBits: number;
  /** Server: the groups group exchange may offer (a moduli file's, or the built-in list). */
  readonly dhGroups: readonly DhGroup[];
  /** Sends one KEX-method message (30–49), its message number first. */
  send(payload: Uint8Array): void;
  /** The peer's next KEX-method message (30–49), message number first. */
  next(): Promise<Uint8Array>;
  /**
   * Client: parses K_S and checks it is a key of the negotiated type (RFC 4253 §8), cheaply,
   * before the method spends arithmetic on the reply. Throws `SshError` otherwise.
   */
  checkHostKey(ks: Uint8Array): PublicKey;
  /** Server: our host key blob K_S for the negotiated algorithm. */
  hostKeyBlob(): Uint8Array;
  /** Server: the signature blob over H with our host key, in the negotiated algorithm. */
  sign(h: Uint8Array): Uint8Array;
}

export interface KexResult {
  /** The exchange hash H. */
  readonly h: Uint8Array;
  /** K, encoded as it enters H and the key derivation (mpint or string, length included). */
  readonly k: Uint8Array;
  /** The server's host key blob K_S. */
  readonly hostKey: Uint8Array;
  /** The server's signature blob over H (the client verifies it in the engine). */
  readonly signature: Uint8Array;
}

export interface KexMethod {
  /** The wire name (from kex-names.ts). */
  readonly name: string;
  /** The method's hash: H and the key derivation use it (RFC 4253 §7.2). */
  readonly hash: HashName;
  /** True for methods that resist a quantum adversary recording today (hybrids with a KEM). */
  readonly postQuantum: boolean;
  client(conn: KexConn): Promise<KexResult>;
  server(conn: KexConn): Promise<KexResult>;
}
