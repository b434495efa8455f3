/**
 * Instantiates one of our WebAssembly modules (their bytes committed as base64 by
 * scripts/build-wasm.mjs). WebAssembly is part of every runtime we support; where it is missing
 * or refuses the module, the caller falls back to JavaScript.
 */
import { decodeBase64 } from "../wire/base64.ts";

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

export function instantiateWasm<Exports>(base64: string): Exports | undefined {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) return undefined;
  try {
    return new api.Instance(new api.Module(decodeBase64(base64)), {}).exports as Exports;
  } catch {
    return undefined;
  }
}
