/**
 * Post-quantum hybrid key exchange: a KEM combined with X25519, in the one-round flow of
 * kex-one-round.ts. draft-ietf-sshm-mlkem-hybrid-kex §2 (mlkem768x25519-sha256) and OpenSSH
 * PROTOCOL / draft-ietf-sshm-ntruprime-ssh §2 (sntrup761x25519-sha512) share this shape:
 *
 * - client value C_INIT = KEM public key ‖ X25519 public key;
 * - server value S_REPLY = KEM ciphertext ‖ X25519 public key;
 * - K = HASH(KEM shared secret ‖ X25519 shared secret), encoded as an SSH `string`, not an
 *   mpint, in H and in the key derivation.
 *
 * Both values have one exact length, checked before any arithmetic (docs/SECURITY.md, cost
 * before trust); the X25519 part refuses an all-zero result (RFC 7748 §6.1, RFC 8731 §3); the
 * KEM's own validity checks (FIPS 203 §7.2's modulus check on an ML-KEM key) run in `encapsulate`.
 */
import { type CryptoProvider, type HashName, type RandomSource, wipe } from "../crypto/provider.ts";
import { Writer } from "../wire/writer.ts";
import { x25519KeyPair, x25519Shared } from "./kex-curve25519.ts";
import { kexFailed } from "./kex-method-errors.ts";
import { type OneRoundKex, oneRound } from "./kex-one-round.ts";
import type { KexAlgorithm, KexClient, KexServer } from "./types.ts";

/** A key encapsulation mechanism, every secret drawn from the injected randomness. */
export interface Kem {
  /** For messages, e.g. "ML-KEM-768". */
  readonly name: string;
  readonly publicKeyLength: number;
  readonly ciphertextLength: number;
  keygen(random: RandomSource): { publicKey: Uint8Array; secretKey: Uint8Array };
  /** Throws if `publicKey` is not a valid key (the caller has checked its length). */
  encapsulate(publicKey: Uint8Array, random: RandomSource): { ciphertext: Uint8Array; sharedSecret: Uint8Array };
  /** `ciphertext` has the exact length; implicit rejection gives a pseudorandom secret. */
  decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

const X25519_LENGTH = 32;

/** K = HASH(kemSecret ‖ x25519Secret) as an SSH string (both inputs are wiped). */
export function hybridSharedSecret(
  provider: CryptoProvider,
  hash: HashName,
  kemSecret: Uint8Array,
  x25519Secret: Uint8Array,
): Uint8Array {
  const joined = new Uint8Array(kemSecret.length + x25519Secret.length);
  joined.set(kemSecret);
  joined.set(x25519Secret, kemSecret.length);
  const digest = provider.hash(hash, joined);
  const k = new Writer(digest.length + 4).string(digest).bytes();
  wipe(joined, kemSecret, x25519Secret, digest);
  return k;
}

function checkLength(kem: Kem, value: Uint8Array, who: "client" | "server"): void {
  const [want, what] =
    who === "client"
      ? [kem.publicKeyLength + X25519_LENGTH, `${kem.name} public key and an X25519 public key`]
      : [kem.ciphertextLength + X25519_LENGTH, `${kem.name} ciphertext and an X25519 public key`];
  if (value.length !== want) {
    throw kexFailed(`${who}'s hybrid key exchange value is ${value.length} bytes; expected ${want} (a ${what})`);
  }
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function hybridValueExchange(name: string, kem: Kem, hash: HashName): KexAlgorithm {
  return {
    name,
    hash,
    createClient(provider: CryptoProvider, random: RandomSource): KexClient {
      const pq = kem.keygen(random);
      const cl = x25519KeyPair(provider, random);
      return {
        clientValue: join(pq.publicKey, cl.publicKey),
        finish: (serverValue) => {
          checkLength(kem, serverValue, "server");
          const ct = serverValue.subarray(0, kem.ciphertextLength);
          const peer = serverValue.subarray(kem.ciphertextLength);
          const x = x25519Shared(provider, cl.secretKey, peer, "server");
          const s = kem.decapsulate(ct, pq.secretKey);
          return hybridSharedSecret(provider, hash, s, x);
        },
        dispose: () => wipe(pq.secretKey, cl.secretKey),
      };
    },
    createServer(provider: CryptoProvider, random: RandomSource): KexServer {
      let secretKey: Uint8Array | undefined;
      return {
        respond: (clientValue) => {
          checkLength(kem, clientValue, "client");
          const pk = clientValue.subarray(0, kem.publicKeyLength);
          const peer = clientValue.subarray(kem.publicKeyLength);
          let enc: { ciphertext: Uint8Array; sharedSecret: Uint8Array };
          try {
            enc = kem.encapsulate(pk, random);
          } catch {
            throw kexFailed(`client's ${kem.name} public key is not valid (FIPS 203 §7.2 encapsulation key check)`);
          }
          const cl = x25519KeyPair(provider, random);
          secretKey = cl.secretKey;
          const x = x25519Shared(provider, cl.secretKey, peer, "client");
          return {
            serverValue: join(enc.ciphertext, cl.publicKey),
            sharedSecret: hybridSharedSecret(provider, hash, enc.sharedSecret, x),
          };
        },
        dispose: () => wipe(secretKey),
      };
    },
  };
}

/** A hybrid method, its message flow included; post-quantum by construction. */
export function hybridKex(name: string, kem: Kem, hash: HashName): OneRoundKex {
  return oneRound(hybridValueExchange(name, kem, hash), true);
}
