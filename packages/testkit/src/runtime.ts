/** The runtime this process runs under: what the tests and benchmarks start the CLI with. */
export const RUNTIME: "node" | "bun" | "deno" = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
