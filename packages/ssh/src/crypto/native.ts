/**
 * Accelerators from the runtime's own crypto (`node:crypto`, which Node, Bun and Deno
 * provide), behind the provider seam (docs/ARCHITECTURE.md, "The layers of `@tunnel/ssh`").
 * Each primitive is taken over only after it reproduces noble's output on known answers at load, so a runtime whose
 * implementation is missing or wrong (Bun's node:crypto has no ChaCha20, for instance) falls
 * back to noble for that primitive alone.
 */
import type { Buffer } from "node:buffer";
import * as nc from "node:crypto";
import { chacha20StreamOver } from "./chacha20-stream.ts";
import { createWasmChaCha20 } from "./chacha20-wasm.ts";
import { nobleProvider } from "./noble.ts";
import { poly1305 as jsPoly1305 } from "./poly1305.ts";
import { createWasmPoly1305 } from "./poly1305-wasm.ts";
import {
  type AeadSpeeds,
  type ChaCha20Stream,
  type CryptoProvider,
  equalBytes,
  type HashName,
  joinParts,
  type Primitive,
} from "./provider.ts";

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

/** Inputs up to this long go to our WebAssembly ChaCha20 even where node:crypto has one. */
const SHORT_CHACHA = 256;

const gcmName = (key: Uint8Array) => `aes-${key.length * 8}-gcm` as nc.CipherGCMTypes;

const nodeGcm = {
  /** GCM is a stream mode: parts go through one after another, each coming out as long as it went in. */
  seal(key: Uint8Array, iv: Uint8Array, parts: readonly Uint8Array[], aad: Uint8Array): Uint8Array[] {
    const c = nc.createCipheriv(gcmName(key), key, iv);
    c.setAAD(aad);
    const pieces: Uint8Array[] = [];
    for (const part of parts) if (part.length > 0) pieces.push(u8(c.update(part)));
    const last = c.final(); // empty: GCM holds nothing back
    if (last.length > 0) pieces.push(u8(last));
    pieces.push(u8(c.getAuthTag()));
    return pieces;
  },
  encrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, prefix?: Uint8Array): Uint8Array {
    const pieces = nodeGcm.seal(key, iv, [plaintext], aad);
    if (prefix) pieces.unshift(prefix);
    return joinParts(pieces);
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
    p.aesGcmSeal = nodeGcm.seal;
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

  // ChaCha20 (OpenSSL's form: a 16-byte IV of a 32-bit little-endian block counter and a
  // 96-bit nonce). DJB's original 64-bit nonce fits as counter-high = 0 ‖ nonce, which is
  // exact while the 32-bit counter does not wrap — SSH packets are far too short to wrap it.
  const chachaOk = tryKat(() =>
    [8, 12].every((nl) =>
      [0, 1, 7].every((counter) => {
        const key = pattern(32, 10 + counter);
        const nonce = pattern(nl, 11);
        const msg = pattern(1000, 12); // not a whole number of 64-byte blocks
        return equalBytes(base.chacha20(key, nonce, msg, counter), nodeChacha20(key, nonce, msg, counter));
      }),
    ),
  );
  // Our WebAssembly ChaCha20 (crypto/chacha20.wat, about twice noble's), checked like every
  // accelerator. Where node:crypto has no ChaCha20 (Bun) it carries everything; elsewhere it
  // takes the short inputs (a packet's 4-byte length field), where setting up a node:crypto
  // cipher costs many times what our code takes for the one block.
  const wasmChacha = createWasmChaCha20((k, n, d, c) => base.chacha20(k, n, d, c));
  const wasmChachaOk =
    wasmChacha !== undefined &&
    tryKat(() =>
      [8, 12].every((nl) =>
        [0, 1, 7].every((counter) =>
          [0, 1, 63, 64, 65, 1000, 70_000].every((len) => {
            const key = pattern(32, 20 + counter);
            const nonce = pattern(nl, 21);
            const msg = pattern(len, 22);
            return equalBytes(base.chacha20(key, nonce, msg, counter), wasmChacha(key, nonce, msg, counter));
          }),
        ),
      ),
    );
  if (chachaOk) {
    const short = wasmChachaOk ? wasmChacha : undefined;
    p.chacha20 = (key, nonce, data, counter) =>
      short && data.length <= SHORT_CHACHA
        ? short(key, nonce, data, counter)
        : counter + Math.ceil(data.length / 64) < 2 ** 32
          ? nodeChacha20(key, nonce, data, counter)
          : base.chacha20(key, nonce, data, counter);
    p.chacha20Stream = (key, nonce, counter) => nodeChacha20Stream(key, nonce, counter, base);
    accelerated.push("chacha20");
  }
  const implementations = new Map<Primitive, string>(accelerated.map((a) => [a, "node:crypto"]));
  if (!chachaOk && wasmChachaOk) {
    p.chacha20 = wasmChacha;
    p.chacha20Stream = (key, nonce, counter) => chacha20StreamOver(wasmChacha, key, nonce, counter);
    accelerated.push("chacha20");
    implementations.set("chacha20", "tunnel-wasm");
  }

  // Poly1305: no runtime offers it alone in node:crypto. Ours, fastest first: the WebAssembly
  // block loop (crypto/poly1305.wat, about 6x noble), else plain JavaScript (about 2x noble),
  // each only once it matches noble on known answers here.
  const polyMatches = (poly: (key: Uint8Array, data: Uint8Array) => Uint8Array) =>
    tryKat(() =>
      [0, 1, 15, 16, 17, 63, 64, 1000, 70_000].every((len) =>
        [pattern(32, 18 + (len % 97)), new Uint8Array(32).fill(0xff)].every((key) => {
          const msg = len % 2 ? pattern(len, 19) : new Uint8Array(len).fill(0xff);
          return equalBytes(base.poly1305(key, msg), poly(key, msg));
        }),
      ),
    );
  const wasmPoly = createWasmPoly1305();
  if (wasmPoly && polyMatches(wasmPoly)) {
    p.poly1305 = wasmPoly;
    implementations.set("poly1305", "tunnel-wasm");
  } else if (polyMatches(jsPoly1305)) {
    p.poly1305 = jsPoly1305;
    implementations.set("poly1305", "tunnel-js");
  }
  if (implementations.has("poly1305")) accelerated.push("poly1305");

  p.name = accelerated.length > 0 ? "native" : base.name;
  p.implementation = (what) => implementations.get(what) ?? base.implementation(what);
  const provider = p as CryptoProvider;
  p.speeds = measureAeads(provider);
  p.streams = (["aes-gcm", "chacha20"] as const).filter((what) => implementations.get(what) === "node:crypto");
  return { provider: p as CryptoProvider, accelerated };
}

/** OpenSSL's 16-byte ChaCha20 IV: the 32-bit block counter (little-endian), then the nonce. */
function chachaIv(nonce: Uint8Array, counter: number): Uint8Array {
  const iv = new Uint8Array(16);
  new DataView(iv.buffer).setUint32(0, counter, true);
  iv.set(nonce, 16 - nonce.length);
  return iv;
}

function nodeChacha20(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter: number): Uint8Array {
  return u8(nc.createCipheriv("chacha20", key, chachaIv(nonce, counter)).update(data));
}

/**
 * node:crypto's ChaCha20 object is itself a stream: one object for the whole message. OpenSSL
 * counts blocks in 32 bits; a stream about to pass 2^32 blocks goes on in `base` (noble), from
 * the same place in the keystream.
 */
function nodeChacha20Stream(key: Uint8Array, nonce: Uint8Array, counter: number, base: CryptoProvider): ChaCha20Stream {
  let cipher: nc.Cipher | undefined = nc.createCipheriv("chacha20", key, chachaIv(nonce, counter));
  let rest: ChaCha20Stream | undefined;
  let pos = 0;
  return (data) => {
    if (cipher && counter + Math.ceil((pos + data.length) / 64) >= 2 ** 32) {
      cipher = undefined;
      rest = chacha20StreamOver((k, n, d, c) => base.chacha20(k, n, d, c), key, nonce, counter, pos);
    }
    pos += data.length;
    return cipher ? u8(cipher.update(data)) : (rest as ChaCha20Stream)(data);
  };
}

/**
 * Times both AEAD constructions as SSH uses them (16 KiB packets, ~1 ms in all) so that the
 * default cipher order follows what is fast here. A rough figure is enough: the gaps it
 * decides between are several-fold (e.g. Node's AES-GCM vs pure-JS Poly1305).
 */
function measureAeads(p: CryptoProvider): AeadSpeeds {
  const msg = pattern(16 * 1024, 13);
  const key32 = pattern(32, 14);
  const iv12 = pattern(12, 15);
  const aad = pattern(4, 16);
  // Best of three rounds after a warm-up: a cold JIT or a collection in one round must not
  // decide the order (a single cold round can turn it upside down).
  const time = (f: () => void): number => {
    f();
    f(); // warm
    let best = 0;
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      f();
      f();
      const ms = performance.now() - t0;
      best = Math.max(best, (2 * msg.length) / (Math.max(ms, 0.001) / 1000));
    }
    return best;
  };
  const nonce8 = pattern(8, 17);
  return {
    "aes-gcm": time(() => p.aesGcmEncrypt(key32.subarray(0, 16), iv12, msg, aad)),
    "chacha20-poly1305": time(() => {
      const polyKey = p.chacha20(key32, nonce8, new Uint8Array(32), 0);
      p.poly1305(polyKey, p.chacha20(key32, nonce8, msg, 1));
    }),
  };
}

let cached: CryptoProvider | undefined;

/** The accelerated provider, built (and checked) once. */
export function nativeProvider(): CryptoProvider {
  cached ??= createNativeProvider().provider;
  return cached;
}
