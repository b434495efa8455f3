/**
 * A JavaScript runtime, by name. Not to be confused with `Runtime` in `@tunnel/ssh`, the socket
 * adapter a connection runs over (each JavaScript runtime has its own, and Node's works in all).
 */
export type JsRuntime = "node" | "bun" | "deno";

/** The JavaScript runtime this process runs under: what the tests and benchmarks start the CLI with. */
export const RUNTIME: JsRuntime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

/** "node v20…", "bun 1.…", "deno 2.…": the JavaScript runtime and its version, for reports. */
export function runtimeVersion(): string {
  const g = globalThis as {
    Bun?: { version: string };
    Deno?: { version: { deno: string } };
    process?: { version: string };
  };
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return `node ${g.process?.version ?? "?"}`;
}
