/**
 * A JavaScript runtime, by name. Not to be confused with `Runtime` in `@tunnel/ssh`, the socket
 * adapter a connection runs over (each JavaScript runtime has its own, and Node's works in all).
 */
export type JsRuntime = "node" | "bun" | "deno";

/** The JavaScript runtime this process runs under: what the tests and benchmarks start the CLI with. */
export const RUNTIME: JsRuntime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
