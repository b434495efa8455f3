/**
 * Poly1305 (RFC 8439 §2.5) with its block loop in WebAssembly (crypto/poly1305.wat): 64-bit
 * integer products, 25 a block, where JavaScript numbers need 36 (crypto/poly1305.ts). This
 * file sets up the clamped key, feeds whole blocks through the module's memory, pads the last
 * partial block, and does the final reduction and the addition of s.
 *
 * WebAssembly is part of every runtime we support (Node, Bun, Deno), but the module is only
 * used as an accelerator: `createNativeProvider` takes it after it matches noble at load.
 */
import { decodeBase64 } from "../wire/base64.ts";
import { POLY1305_WASM_BASE64 } from "./poly1305-wasm-bytes.ts";

interface PolyExports {
  memory: { buffer: ArrayBuffer };
  blocks(at: number, count: number, hibit: number): void;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

const M26 = 0x3ffffff;
/** Where message bytes go in the module's memory, and how many per call (memory: 128 KiB). */
const DATA = 256;
const CHUNK = 64 * 1024;
/** The state: h0..h4, r0..r4, 5·r1..5·r4, each an i64. */
const STATE_BYTES = 112;

function word(d: Uint8Array, i: number): number {
  return (
    ((d[i] as number) | ((d[i + 1] as number) << 8) | ((d[i + 2] as number) << 16) | ((d[i + 3] as number) << 24)) >>> 0
  );
}

export type Poly1305 = (key: Uint8Array, data: Uint8Array) => Uint8Array;

/** The WebAssembly Poly1305, or undefined where WebAssembly is missing or refuses the module. */
export function createWasmPoly1305(): Poly1305 | undefined {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) return undefined;
  let exports: PolyExports;
  try {
    exports = new api.Instance(new api.Module(decodeBase64(POLY1305_WASM_BASE64)), {}).exports as PolyExports;
  } catch {
    return undefined;
  }
  // The memory never grows, so these views stay valid.
  const mem = new Uint8Array(exports.memory.buffer);
  const state = new DataView(exports.memory.buffer, 0, STATE_BYTES);
  const setLimb = (slot: number, value: number) => {
    state.setUint32(slot * 8, value, true);
    state.setUint32(slot * 8 + 4, 0, true);
  };

  return function poly1305(key: Uint8Array, data: Uint8Array): Uint8Array {
    if (key.length !== 32) throw new TypeError(`poly1305 needs a 32-byte key, got ${key.length}`);
    // r in 26-bit limbs; the masks also clamp it (RFC 8439 §2.5).
    const t0 = word(key, 0);
    const t1 = word(key, 4);
    const t2 = word(key, 8);
    const t3 = word(key, 12);
    const r0 = t0 & 0x3ffffff;
    const r1 = ((t0 >>> 26) | (t1 << 6)) & 0x3ffff03;
    const r2 = ((t1 >>> 20) | (t2 << 12)) & 0x3ffc0ff;
    const r3 = ((t2 >>> 14) | (t3 << 18)) & 0x3f03fff;
    const r4 = (t3 >>> 8) & 0x00fffff;
    mem.fill(0, 0, 40); // h = 0
    setLimb(5, r0);
    setLimb(6, r1);
    setLimb(7, r2);
    setLimb(8, r3);
    setLimb(9, r4);
    setLimb(10, r1 * 5);
    setLimb(11, r2 * 5);
    setLimb(12, r3 * 5);
    setLimb(13, r4 * 5);

    const len = data.length;
    const full = len - (len % 16);
    for (let off = 0; off < full; off += CHUNK) {
      const n = Math.min(CHUNK, full - off);
      mem.set(data.subarray(off, off + n), DATA);
      exports.blocks(DATA, n >>> 4, 1 << 24); // 2^128: bit 24 of the top limb
    }
    if (full < len) {
      // The last partial block: its bytes, 0x01, zeros, and no 2^128 bit.
      mem.fill(0, DATA, DATA + 16);
      mem.set(data.subarray(full), DATA);
      mem[DATA + len - full] = 1;
      exports.blocks(DATA, 1, 0);
    }

    let h0 = state.getUint32(0, true);
    let h1 = state.getUint32(8, true);
    let h2 = state.getUint32(16, true);
    let h3 = state.getUint32(24, true);
    let h4 = state.getUint32(32, true);
    mem.fill(0, 0, STATE_BYTES);

    // Full carry, then h mod p: if h + 5 reaches 2^130, h ≥ p and h + 5 − 2^130 is the answer.
    let c = h1 >>> 26;
    h1 &= M26;
    h2 += c;
    c = h2 >>> 26;
    h2 &= M26;
    h3 += c;
    c = h3 >>> 26;
    h3 &= M26;
    h4 += c;
    c = h4 >>> 26;
    h4 &= M26;
    h0 += c * 5;
    c = h0 >>> 26;
    h0 &= M26;
    h1 += c;
    let g0 = h0 + 5;
    c = g0 >>> 26;
    g0 &= M26;
    let g1 = h1 + c;
    c = g1 >>> 26;
    g1 &= M26;
    let g2 = h2 + c;
    c = g2 >>> 26;
    g2 &= M26;
    let g3 = h3 + c;
    c = g3 >>> 26;
    g3 &= M26;
    const g4 = h4 + c - (1 << 26);
    if (g4 >= 0) {
      h0 = g0;
      h1 = g1;
      h2 = g2;
      h3 = g3;
      h4 = g4;
    }

    // (h + s) mod 2^128, little-endian.
    const words = [
      (h0 | (h1 << 26)) >>> 0,
      ((h1 >>> 6) | (h2 << 20)) >>> 0,
      ((h2 >>> 12) | (h3 << 14)) >>> 0,
      ((h3 >>> 18) | (h4 << 8)) >>> 0,
    ];
    const tag = new Uint8Array(16);
    let carry = 0;
    for (let i = 0; i < 4; i++) {
      const sum = (words[i] as number) + word(key, 16 + 4 * i) + carry;
      const w = sum >>> 0;
      carry = sum > 0xffffffff ? 1 : 0;
      tag[4 * i] = w & 0xff;
      tag[4 * i + 1] = (w >>> 8) & 0xff;
      tag[4 * i + 2] = (w >>> 16) & 0xff;
      tag[4 * i + 3] = w >>> 24;
    }
    return tag;
  };
}
