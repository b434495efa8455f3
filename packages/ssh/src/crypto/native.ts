/**
 * Accelerators from the runtime's own crypto (`node:crypto`, which Node, Bun and Deno
 * provide), behind the provider seam (DESIGN.md `crypto/`). Each primitive is taken over only
 * after it reproduces noble's output on known answers at load, so a runtime whose
 * implementation is missing or wrong (Bun's node:crypto has no ChaCha20, for instance) falls
 * back to noble for that primitive alone.
 */
import * as nc from "node:crypto";
import { nobleProvider } from "./noble.ts";
import { type CryptoProvider, equalBytes, type HashName, type Primitive } from "./provider.ts";

const u8 = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const NODE_HASH: Record<HashName, string> = { sha1: "sha1", sha256: "sha256", sha384: "sha384", sha512: "sha512" };

function tryKat(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}

/** Deterministic test input (no randomness at load). */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + seed * 17 + 7) & 0xff;
  return out;
}

const gcmName = (key: Uint8Array) => `aes-${key.length * 8}-gcm` as nc.CipherGCMTypes;

const nodeGcm = {
  encrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    const c = nc.createCipheriv(gcmName(key), key, iv);
    c.setAAD(aad);
    const a = c.update(plaintext);
    const b = c.final();
    const tag = c.getAuthTag();
    const out = new Uint8Array(a.length + b.length + tag.length);
    out.set(a);
    out.set(b, a.length);
    out.set(tag, a.length + b.length);
    return out;
  },
  decrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, aad: Uint8Array): Uint8Array {
    if (data.length < 16) throw new Error("ciphertext shorter than the tag");
    const d = nc.createDecipheriv(gcmName(key), key, iv);
    d.setAAD(aad);
    d.setAuthTag(data.subarray(data.length - 16));
    const a = d.update(data.subarray(0, data.length - 16));
    const b = d.final(); // throws on a bad tag
    if (b.length === 0) return u8(a);
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  },
};

function nodeCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = nc.createCipheriv(`aes-${key.length * 8}-ctr`, key, iv);
  return u8(c.update(data));
}

/** Builds the accelerated provider for this runtime; `report` lists what was taken over. */
export function createNativeProvider(base: CryptoProvider = nobleProvider): {
  provider: CryptoProvider;
  accelerated: Primitive[];
} {
  const accelerated: Primitive[] = [];
  const p: { -readonly [K in keyof CryptoProvider]: CryptoProvider[K] } = { ...base };

  const gcmOk = tryKat(() =>
    [16, 32].every((kl) => {
      const key = pattern(kl, 1);
      const iv = pattern(12, 2);
      const aad = pattern(4, 3);
      const msg = pattern(1000, 4);
      const want = base.aesGcmEncrypt(key, iv, msg, aad);
      const got = nodeGcm.encrypt(key, iv, msg, aad);
      if (!equalBytes(want, got) || !equalBytes(nodeGcm.decrypt(key, iv, got, aad), msg)) return false;
      const bad = got.slice();
      bad[5] = (bad[5] as number) ^ 1;
      try {
        nodeGcm.decrypt(key, iv, bad, aad);
        return false; // a tampered message must not open
      } catch {
        return true;
      }
    }),
  );
  if (gcmOk) {
    p.aesGcmEncrypt = nodeGcm.encrypt;
    p.aesGcmDecrypt = nodeGcm.decrypt;
    accelerated.push("aes-gcm");
  }

  const ctrOk = tryKat(() =>
    [16, 24, 32].every((kl) => {
      const key = pattern(kl, 5);
      const iv = new Uint8Array(16).fill(0xff); // counter wrap across the 128-bit boundary
      const msg = pattern(4096, 6);
      return equalBytes(base.aesCtr(key, iv, msg), nodeCtr(key, iv, msg));
    }),
  );
  if (ctrOk) {
    p.aesCtr = nodeCtr;
    accelerated.push("aes-ctr");
  }

  const hmacOk = tryKat(() =>
    (["sha256", "sha512"] as const).every((h) => {
      const key = pattern(40, 7);
      const msg = pattern(777, 8);
      const got = u8(nc.createHmac(NODE_HASH[h], key).update(msg).digest());
      return equalBytes(base.hmac(h, key, msg), got);
    }),
  );
  if (hmacOk) {
    p.hmac = (name, key, data) => u8(nc.createHmac(NODE_HASH[name], key).update(data).digest());
    p.hmacStream = (name, key) => {
      const k = key.slice();
      return {
        mac(parts) {
          const h = nc.createHmac(NODE_HASH[name], k);
          for (const part of parts) h.update(part);
          return u8(h.digest());
        },
        dispose() {
          k.fill(0);
        },
      };
    };
    accelerated.push("hmac");
  }

  const hashOk = tryKat(() =>
    (["sha256", "sha384", "sha512"] as const).every((h) => {
      const msg = pattern(999, 9);
      return equalBytes(base.hash(h, msg), u8(nc.createHash(NODE_HASH[h]).update(msg).digest()));
    }),
  );
  if (hashOk) {
    p.hash = (name, data) => u8(nc.createHash(NODE_HASH[name]).update(data).digest());
    accelerated.push("hash");
  }

  const set = new Set(accelerated);
  p.name = accelerated.length > 0 ? "native" : base.name;
  p.implementation = (what) => (set.has(what) ? "node:crypto" : base.implementation(what));
  return { provider: p as CryptoProvider, accelerated };
}

let cached: CryptoProvider | undefined;

/** The accelerated provider, built (and checked) once. */
export function nativeProvider(): CryptoProvider {
  cached ??= createNativeProvider().provider;
  return cached;
}
