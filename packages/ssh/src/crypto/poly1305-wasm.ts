/**
 * Poly1305 (RFC 8439 §2.5) with its block loop in WebAssembly (crypto/poly1305.wat): 64-bit
 * integer products, 25 a block, where JavaScript numbers need 36 (crypto/poly1305.ts). This
 * file sets up the clamped key, feeds whole blocks through the module's memory, pads the last
 * partial block, and does the final reduction and the addition of s.
 *
 * WebAssembly is part of every runtime we support (Node, Bun, Deno), but the module is only
 * used as an accelerator: `createNativeProvider` takes it after it matches noble at load.
 */
import { finishPoly1305, le32 } from "./poly1305-finish.ts";
import { POLY1305_WASM_BASE64 } from "./poly1305-wasm-bytes.ts";
import { instantiateWasm } from "./wasm-module.ts";

interface PolyExports {
  memory: { buffer: ArrayBuffer };
  blocks(at: number, count: number, hibit: number): void;
}

/** Where message bytes go in the module's memory, and how many per call (memory: 128 KiB). */
const DATA = 256;
const CHUNK = 64 * 1024;
/** The state: h0..h4, r0..r4, 5·r1..5·r4, each an i64. */
const STATE_BYTES = 112;

export type Poly1305 = (key: Uint8Array, data: Uint8Array | readonly Uint8Array[]) => Uint8Array;

/** The WebAssembly Poly1305, or undefined where WebAssembly is missing or refuses the module. */
export function createWasmPoly1305(): Poly1305 | undefined {
  const exports = instantiateWasm<PolyExports>(POLY1305_WASM_BASE64);
  if (!exports) return undefined;
  // The memory never grows, so these views stay valid.
  const mem = new Uint8Array(exports.memory.buffer);
  const state = new DataView(exports.memory.buffer, 0, STATE_BYTES);
  const setLimb = (slot: number, value: number) => {
    state.setUint32(slot * 8, value, true);
    state.setUint32(slot * 8 + 4, 0, true);
  };

  return function poly1305(key: Uint8Array, data: Uint8Array | readonly Uint8Array[]): Uint8Array {
    if (key.length !== 32) throw new TypeError(`poly1305 needs a 32-byte key, got ${key.length}`);
    // r in 26-bit limbs; the masks also clamp it (RFC 8439 §2.5).
    const t0 = le32(key, 0);
    const t1 = le32(key, 4);
    const t2 = le32(key, 8);
    const t3 = le32(key, 12);
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

    // The parts are copied one after another into the module's memory; whenever CHUNK bytes
    // are there, their whole blocks go through and the odd bytes move to the front.
    let held = 0;
    for (const part of data instanceof Uint8Array ? [data] : data) {
      for (let off = 0; off < part.length; ) {
        const n = Math.min(CHUNK - held, part.length - off);
        mem.set(part.subarray(off, off + n), DATA + held);
        held += n;
        off += n;
        if (held === CHUNK) {
          exports.blocks(DATA, CHUNK >>> 4, 1 << 24); // 2^128: bit 24 of the top limb
          held = 0;
        }
      }
    }
    const whole = held - (held % 16);
    if (whole > 0) exports.blocks(DATA, whole >>> 4, 1 << 24);
    if (whole < held) {
      // The last partial block: its bytes, 0x01, zeros, and no 2^128 bit.
      const rest = held - whole;
      mem.copyWithin(DATA, DATA + whole, DATA + held);
      mem[DATA + rest] = 1;
      mem.fill(0, DATA + rest + 1, DATA + 16);
      exports.blocks(DATA, 1, 0);
    }

    const h = [0, 8, 16, 24, 32].map((at) => state.getUint32(at, true));
    mem.fill(0, 0, STATE_BYTES);
    return finishPoly1305(h, 26, key);
  };
}
