/**
 * ChaCha20 (RFC 8439 §2.3–2.4) with its block loop in WebAssembly (crypto/chacha20.wat), for
 * runtimes whose node:crypto has no ChaCha20 (Bun) or none at all. Both nonce forms of the
 * provider seam: RFC 8439's 12-byte nonce with a 32-bit counter, and DJB's original 8-byte
 * nonce with a 64-bit counter (the chacha20-poly1305@openssh.com form) — the same block
 * function, the state laid out differently. A call whose counter would pass 2^32 goes to the
 * fallback (noble), which knows how to carry or refuse; SSH packets never come near it.
 *
 * Like every accelerator it is used only after it matches noble at load (crypto/native.ts).
 */
import { CHACHA20_WASM_BASE64 } from "./chacha20-wasm-bytes.ts";
import { instantiateWasm } from "./wasm-module.ts";

interface ChachaExports {
  memory: { buffer: ArrayBuffer };
  xor(at: number, blocks: number): void;
}

export type ChaCha20 = (key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter: number) => Uint8Array;

/** Where the data goes in the module's memory, and how much per call (memory: 128 KiB). */
const DATA = 256;
const CHUNK = 64 * 1024;
/** "expand 32-byte k", little-endian words. */
const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

/** The WebAssembly ChaCha20, or undefined where WebAssembly is missing or refuses the module. */
export function createWasmChaCha20(fallback: ChaCha20): ChaCha20 | undefined {
  const exports = instantiateWasm<ChachaExports>(CHACHA20_WASM_BASE64);
  if (!exports) return undefined;
  // The memory never grows, so these views stay valid.
  const mem = new Uint8Array(exports.memory.buffer);
  const state = new DataView(exports.memory.buffer, 0, 64);

  return function chacha20(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter: number): Uint8Array {
    const blocks = Math.ceil(data.length / 64);
    if (
      key.length !== 32 ||
      (nonce.length !== 12 && nonce.length !== 8) ||
      !Number.isInteger(counter) ||
      counter < 0 ||
      counter + blocks > 0xffffffff
    ) {
      return fallback(key, nonce, data, counter); // noble's checks and messages, or its wide counter
    }
    for (let i = 0; i < 4; i++) state.setUint32(4 * i, SIGMA[i] as number, true);
    mem.set(key, 16);
    state.setUint32(48, counter, true);
    if (nonce.length === 12) {
      mem.set(nonce, 52);
    } else {
      state.setUint32(52, 0, true); // the high half of DJB's 64-bit counter
      mem.set(nonce, 56);
    }
    const out = new Uint8Array(data.length);
    for (let off = 0; off < data.length; off += CHUNK) {
      const n = Math.min(CHUNK, data.length - off);
      const whole = Math.ceil(n / 64);
      mem.set(data.subarray(off, off + n), DATA);
      if (n % 64) mem.fill(0, DATA + n, DATA + whole * 64);
      exports.xor(DATA, whole); // also moves the counter in the state on by `whole`
      out.set(mem.subarray(DATA, DATA + n), off);
    }
    mem.fill(0, 0, 64); // the key and the counter state
    return out;
  };
}
