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
import { parseArgs } from "./args.ts";

export { type DelayRelay, type DelayRelayOptions, startDelayRelay } from "@tunnel/core/bench";

function hostPort(spec: string, what: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(spec);
  const port = m ? Number(m[2]) : -1;
  if (!m || port > 65535) throw new TypeError(`${what}: "${spec}" is not host:port`);
  return { host: m[1] as string, port };
}

async function main(argv: readonly string[]): Promise<void> {
  const args = parseArgs(
    {
      name: "bench/lib/delay-relay.ts",
      summary: "Relays TCP to --to, holding each chunk rtt/2 ms each way; prints its address:port.",
      options: {
        to: { type: "string", required: true, value: "HOST:PORT", description: "where to relay to" },
        listen: { type: "string", default: "127.0.0.1:0", value: "HOST:PORT", description: "where to listen" },
        rtt: { type: "number", min: 0, default: 0, description: "round trip added, ms" },
        "cap-mib": { type: "number", min: 0, default: 64, description: "bytes held per direction at most, MiB" },
        "rate-mbit": { type: "number", min: 0, default: 0, description: "pace to this rate, Mbit/s; 0 for none" },
      },
    },
    argv,
  );
  const to = hostPort(args.to, "--to");
  const listen = hostPort(args.listen, "--listen");
  const relay = await startDelayRelay(listen.host, listen.port, to.host, to.port, {
    sockets: runtime,
    delayMs: args.rtt / 2,
    capBytes: args["cap-mib"] * 2 ** 20,
    rateBytesPerSecond: (args["rate-mbit"] * 1e6) / 8,
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
