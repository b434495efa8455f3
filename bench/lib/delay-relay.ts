/**
 * The delay relay as a process of its own (benchmark tooling; the relay itself is
 * packages/tunnel/src/bench/delay-relay.ts, shared with `tunnel bench --rtt`):
 *
 *   node --import tsx bench/lib/delay-relay.ts --to 127.0.0.1:22 --rtt 50 [--listen 127.0.0.1:0]
 *        [--cap-mib 64] [--rate-mbit 100]
 *   bun bench/lib/delay-relay.ts …        deno run -A bench/lib/delay-relay.ts …
 *
 * Each chunk is held `rtt / 2` ms each way. It prints its `address:port` on stdout once
 * listening, and on SIGTERM or SIGINT a JSON line of its counters on stderr, then exits.
 * Under each runtime it uses that runtime's own sockets (`@tunnel/ssh/runtime`).
 */
import { startDelayRelay } from "@tunnel/core/bench";
import { runtime } from "@tunnel/ssh/runtime";

export { type DelayRelay, type DelayRelayOptions, startDelayRelay } from "@tunnel/core/bench";

function hostPort(spec: string, what: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(spec);
  const port = m ? Number(m[2]) : -1;
  if (!m || port > 65535) throw new TypeError(`${what}: "${spec}" is not host:port`);
  return { host: m[1] as string, port };
}

async function main(argv: readonly string[]): Promise<void> {
  const option = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const number = (name: string, fallback: number) => {
    const v = option(name);
    const n = v === undefined ? fallback : Number(v);
    if (!(n >= 0)) throw new RangeError(`--${name}: "${v}" is not a non-negative number`);
    return n;
  };
  const toSpec = option("to");
  if (!toSpec) throw new TypeError("--to host:port is required");
  const to = hostPort(toSpec, "--to");
  const listen = hostPort(option("listen") ?? "127.0.0.1:0", "--listen");
  const relay = await startDelayRelay(listen.host, listen.port, to.host, to.port, {
    sockets: runtime,
    delayMs: number("rtt", 0) / 2,
    capBytes: number("cap-mib", 64) * 2 ** 20,
    rateBytesPerSecond: (number("rate-mbit", 0) * 1e6) / 8,
  });
  const stop = async () => {
    await relay.close();
    process.stderr.write(`${JSON.stringify({ runtime: runtime.name, ...relay.stats })}\n`);
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
  process.stdout.write(`${relay.address}:${relay.port}\n`);
}

// Run as a program (not when imported for its re-exports).
if ((import.meta as { main?: boolean }).main ?? process.argv[1]?.endsWith("delay-relay.ts")) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`delay-relay: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
