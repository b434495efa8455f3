/**
 * Fuzzing support, crypto side: a `CryptoProvider` (packages/ssh/src/crypto/provider.ts) that is
 * deterministic and memoizing, so that a scripted handshake costs almost nothing when it is the
 * same as the last one, and every run is reproducible from its input alone.
 *
 * - Key generation draws from a seeded PRNG that `reset()` rewinds at the start of each run:
 *   both sides pick the same ephemeral keys in every run, so exchange hashes repeat.
 * - The public-key operations (X25519, ECDH, Ed25519, ECDSA) are pure functions of their
 *   arguments and are remembered by argument: a repeated handshake is a lookup, a mutated
 *   value is computed for real by the underlying provider (noble, or the runtime's accelerated
 *   one), whose behaviour — results, and which inputs throw — is kept exactly.
 * - Results are handed out as fresh copies: the protocol code wipes secrets after use.
 */
import type { CryptoProvider, EcCurveName, RandomSource } from "../../packages/ssh/src/crypto/provider.ts";
import { Rng } from "./mutate.ts";

/** X25519's base point u = 9 (RFC 7748 §4.1): a public key is X25519(secret, 9). */
const X25519_BASE = (() => {
  const b = new Uint8Array(32);
  b[0] = 9;
  return b;
})();

const SCALAR_BYTES: Record<EcCurveName, number> = { p256: 32, p384: 48, p521: 66 };

/** Most entries kept before the memo is dropped and started afresh (bounds its memory). */
const MEMO_MAX = 50_000;

function key(tag: string, ...parts: (Uint8Array | string)[]): string {
  let s = tag;
  for (const p of parts) {
    s += "|";
    if (typeof p === "string") s += p;
    else for (let i = 0; i < p.length; i += 4096) s += String.fromCharCode(...p.subarray(i, i + 4096));
  }
  return s;
}

type Outcome<T> = { value: T } | { error: unknown };

export interface FuzzCrypto {
  provider: CryptoProvider;
  random: RandomSource;
  /** Rewinds key generation and `random` to the fixed seed: call at the start of each run. */
  reset(): void;
  /** Public keys (hex) an Ed25519 or ECDSA signature verified for since the last reset. */
  readonly verifiedFor: Set<string>;
}

export function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export function fuzzCrypto(base: CryptoProvider, seed = 0x5eed): FuzzCrypto {
  let rng = new Rng(seed);
  const memo = new Map<string, Outcome<unknown>>();
  const verifiedFor = new Set<string>();

  function remember<T>(k: string, f: () => T): T {
    let o = memo.get(k) as Outcome<T> | undefined;
    if (!o) {
      try {
        o = { value: f() };
      } catch (error) {
        o = { error };
      }
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(k, o);
    }
    if ("error" in o) throw o.error;
    const v = o.value;
    return (v instanceof Uint8Array ? v.slice() : v) as T;
  }

  const secretScalar = (curve: EcCurveName): Uint8Array => {
    const s = rng.bytes(SCALAR_BYTES[curve]);
    // Below the group order whatever the draw: a clear top byte (P-521's order starts 0x01 0xff).
    s[0] = curve === "p521" ? 0 : 0x3f & (s[0] as number);
    if (curve === "p521") s[1] = 0x7f & (s[1] as number);
    s[s.length - 1] = (s[s.length - 1] as number) | 1;
    return s;
  };

  const provider: CryptoProvider = {
    ...base,
    name: `fuzz(${base.name})`,
    x25519: {
      generate() {
        const secretKey = rng.bytes(32);
        const publicKey = remember(key("x25519", secretKey, X25519_BASE), () =>
          base.x25519.shared(secretKey, X25519_BASE),
        );
        return { secretKey, publicKey };
      },
      shared: (secretKey, peerPublic) =>
        remember(key("x25519", secretKey, peerPublic), () => base.x25519.shared(secretKey, peerPublic)),
    },
    ecdh: {
      generate(curve) {
        const secretKey = secretScalar(curve);
        const publicKey = remember(key("ecpub", curve, secretKey), () => base.ecdsa.publicFromSecret(curve, secretKey));
        return { secretKey, publicKey };
      },
      shared: (curve, secretKey, peerPublic) =>
        remember(key("ecdh", curve, secretKey, peerPublic), () => base.ecdh.shared(curve, secretKey, peerPublic)),
      validatePoint: (curve, point) =>
        remember(key("ecvalid", curve, point), () => {
          base.ecdh.validatePoint(curve, point);
          return true;
        }) && undefined,
    },
    ed25519: {
      generate() {
        const secretKey = rng.bytes(32);
        return { secretKey, publicKey: provider.ed25519.publicFromSecret(secretKey) };
      },
      publicFromSecret: (seed) => remember(key("edpub", seed), () => base.ed25519.publicFromSecret(seed)),
      sign: (seed, msg) => remember(key("edsign", seed, msg), () => base.ed25519.sign(seed, msg)),
      verify: (pub, msg, sig) => {
        const ok = remember(key("edverify", pub, msg, sig), () => base.ed25519.verify(pub, msg, sig));
        if (ok) verifiedFor.add(hex(pub));
        return ok;
      },
    },
    ecdsa: {
      generate(curve) {
        const secretKey = secretScalar(curve);
        return { secretKey, publicKey: provider.ecdsa.publicFromSecret(curve, secretKey) };
      },
      publicFromSecret: (curve, secretKey) =>
        remember(key("ecpub", curve, secretKey), () => base.ecdsa.publicFromSecret(curve, secretKey)),
      sign: (curve, secretKey, msg) => {
        const both = remember(key("ecsign", curve, secretKey, msg), () => {
          const { r, s } = base.ecdsa.sign(curve, secretKey, msg);
          const joined = new Uint8Array(1 + r.length + s.length);
          joined[0] = r.length;
          joined.set(r, 1);
          joined.set(s, 1 + r.length);
          return joined;
        });
        const rl = both[0] as number;
        return { r: both.slice(1, 1 + rl), s: both.slice(1 + rl) };
      },
      verify: (curve, pub, msg, r, s) => {
        const ok = remember(key("ecverify", curve, pub, msg, r, s), () => base.ecdsa.verify(curve, pub, msg, r, s));
        if (ok) verifiedFor.add(hex(pub));
        return ok;
      },
    },
  };

  return {
    provider,
    random: (n) => rng.bytes(n),
    reset() {
      rng = new Rng(seed);
      verifiedFor.clear();
    },
    verifiedFor,
  };
}
