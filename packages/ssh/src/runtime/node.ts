/**
 * `@tunnel/ssh/runtime` under Node (the package's `default` export condition; Bun and Deno
 * get `bun.ts` and `deno.ts` through their own conditions, so nothing sniffs globals).
 */
import { nodeRuntime } from "./node-net.ts";
import type { Runtime } from "./types.ts";

export { createNativeProvider, nativeProvider } from "../crypto/native.ts";
export type { Conn, ConnHandlers, Listener, Runtime } from "./types.ts";

/** The socket adapter this runtime uses by default. */
export const runtime: Runtime = nodeRuntime;

/** Every socket adapter available on this runtime, by name (benchmarks compare them). */
export const runtimes: Readonly<Record<string, Runtime>> = { node: nodeRuntime };
