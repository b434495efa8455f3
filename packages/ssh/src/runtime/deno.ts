/**
 * `@tunnel/ssh/runtime` under Deno (the package's `"deno"` export condition).
 *
 * Both socket adapters work here: Deno's own and its `node:net` compatibility layer. The
 * default is the one that carried more in `pnpm bench` on this runtime (figures in
 * bench/RESULTS.md); `runtimes` offers both so that the benchmark can compare them.
 */
import { denoRuntime } from "./deno-sockets.ts";
import { nodeRuntime } from "./node-net.ts";
import type { Runtime } from "./types.ts";

export { createNativeProvider, nativeProvider } from "../crypto/native.ts";
export type { Conn, ConnHandlers, Listener, Runtime } from "./types.ts";

/** The socket adapter this runtime uses by default. */
export const runtime: Runtime = denoRuntime;

/** Every socket adapter available on this runtime, by name (benchmarks compare them). */
export const runtimes: Readonly<Record<string, Runtime>> = { deno: denoRuntime, node: nodeRuntime };
