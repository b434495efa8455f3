/**
 * Algorithm contracts shared by the registries (`cipher.ts`, `mac.ts`, `kex.ts`,
 * `hostkey.ts`) and the transport. Registries are keyed by the SSH wire name.
 */
import type { CryptoProvider, HashName, RandomSource } from "../crypto/provider.ts";

/**
 * One direction of packet protection (RFC 4253 §6, RFC 5647 §7, OpenSSH PROTOCOL.chacha20poly1305,
 * OpenSSH PROTOCOL §1.5 for -etm MACs). A plain (unencrypted) direction is also a sealer.
 */
export interface PacketSealer {
  /** Padding alignment: the padded part must be a multiple of max(8, blockSize). */
  readonly blockSize: number;
  /**
   * True where the length field travels apart from the aligned part (AEAD modes, -etm MACs):
   * then `packet_length` itself is the multiple of the block size; otherwise 4 + packet_length is.
   */
  readonly lengthApart: boolean;
  /** Bytes appended after the packet (tag or MAC). */
  readonly overhead: number;
  /** Name of the implementation carrying this direction (noble, or an accelerator). */
  readonly impl: string;
  /**
   * `packet` is the plaintext `uint32 packet_length | byte padding_length | payload | padding`.
   * Returns the bytes to send (`packet.length + overhead`). May encrypt `packet` in place.
   */
  seal(seq: number, packet: Uint8Array): Uint8Array;
  /**
   * Optional, for sealers whose cipher streams: the same packet given in parts, `head`
   * (`packet_length | padding_length |` the payload's first bytes), `body` (the rest of the
   * payload) and `padding`, sealed without first copying them together. Returns the bytes to
   * send, in one piece or several (to be sent in order; the socket gathers them).
   */
  sealParts?(seq: number, head: Uint8Array, body: Uint8Array, padding: Uint8Array): Uint8Array | Uint8Array[];
  /** Wipe keys. */
  dispose(): void;
}

export interface PacketOpener {
  readonly blockSize: number;
  readonly lengthApart: boolean;
  readonly overhead: number;
  readonly impl: string;
  /** How many leading bytes `peekLength` needs (4, or the cipher block size for CTR+MAC). */
  readonly headerSize: number;
  /**
   * Returns `packet_length` from the first `headerSize` bytes. Must not modify `header`.
   * The caller checks the value against its cap before allocating anything.
   */
  peekLength(seq: number, header: Uint8Array): number;
  /**
   * `wire` holds exactly `4 + packet_length + overhead` bytes as received.
   * Returns the plaintext `byte padding_length | payload | padding` (no length field).
   * Throws `SshError` code `MAC_ERROR` on an authentication failure, saying only that.
   */
  open(seq: number, wire: Uint8Array): Uint8Array;
  dispose(): void;
}

export interface MacAlgorithm {
  readonly name: string;
  readonly hash: HashName;
  readonly keyLength: number;
  readonly macLength: number;
  /** encrypt-then-MAC (OpenSSH PROTOCOL §1.5). */
  readonly etm: boolean;
}

export interface DirectionKeys {
  key: Uint8Array;
  iv: Uint8Array;
  /** Present for non-AEAD ciphers. */
  mac?: { algorithm: MacAlgorithm; key: Uint8Array };
}

export interface CipherAlgorithm {
  readonly name: string;
  readonly keyLength: number;
  readonly ivLength: number;
  readonly blockSize: number;
  /** AEAD ciphers carry their own integrity: the negotiated MAC is ignored (RFC 5647 §5.1). */
  readonly aead: boolean;
  createSealer(keys: DirectionKeys, provider: CryptoProvider): PacketSealer;
  createOpener(keys: DirectionKeys, provider: CryptoProvider): PacketOpener;
}

/**
 * Client half of one key exchange (RFC 4253 §8, RFC 5656 §4, RFC 8731 §3).
 * Values are the *contents* of the SSH `string`/`mpint` fields (without the length prefix):
 * e / Q_C from the client, f / Q_S from the server.
 */
export interface KexClient {
  /** Contents of the client's public value field for SSH_MSG_KEX*_INIT (message 30). */
  readonly clientValue: Uint8Array;
  /**
   * Validates the server value and returns the shared secret K fully encoded as it goes into
   * the exchange hash and key derivation (mpint, or string for hybrid methods), length included.
   * Throws `SshError` `KEX_FAILED` on a bad value (wrong length, not on curve, out of range, all-zero).
   */
  finish(serverValue: Uint8Array): Uint8Array;
  dispose(): void;
}

export interface KexServer {
  /** Validates the client's value; returns the server's value contents and the encoded K. */
  respond(clientValue: Uint8Array): { serverValue: Uint8Array; sharedSecret: Uint8Array };
  dispose(): void;
}

export interface KexAlgorithm {
  readonly name: string;
  readonly hash: HashName;
  createClient(provider: CryptoProvider, random: RandomSource): KexClient;
  createServer(provider: CryptoProvider, random: RandomSource): KexServer;
}

/**
 * A signature algorithm for host keys and user keys (RFC 4253 §6.6, RFC 5656 §3, RFC 8332, RFC 8709).
 * `name` is the signature algorithm name (e.g. "rsa-sha2-256"); `keyType` the key blob's type ("ssh-rsa").
 */
export interface SignatureAlgorithm {
  readonly name: string;
  readonly keyType: string;
  /**
   * `signature` is the full SSH signature blob (`string name, string sig`). Returns false for
   * any mismatch — wrong algorithm name in the blob, bad encoding, trailing bytes, bad signature.
   * Throws `SshError` `KEY_FORMAT` only if `publicKeyBlob` is malformed or of another key type.
   */
  verify(provider: CryptoProvider, publicKeyBlob: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean;
}
