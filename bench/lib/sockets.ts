/**
 * Socket adapters compared: `tunnel bench` over loopback (our server, a bench target and a
 * tunnel in one process, so every byte crosses the adapter four times) under each runtime,
 * once with the runtime's own sockets and once with its `node:net` compatibility layer.
 * The adapter that carries more is the runtime's default (`packages/ssh/src/runtime/<rt>.ts`).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CIPHER_NAME } from "../../packages/ssh/src/algorithms/cipher-names.ts";
import { type JsRuntime, ROOT, tunnelCommand } from "./forwarders.ts";
import { markdownTable, mb } from "./report.ts";

const execFileP = promisify(execFile);

const ADAPTERS: Record<JsRuntime, string[]> = { node: ["node"], bun: ["bun", "node"], deno: ["deno", "node"] };
const CIPHER = CIPHER_NAME.AES128_GCM;

interface Row {
  through: string;
  up: number;
  down: number;
  rtt: number;
}

async function once(rt: JsRuntime, sockets: string, megabytes: number): Promise<Row[]> {
  const cmd = tunnelCommand(rt) as string[];
  const args = [...cmd.slice(1), "bench", "--json", "--megabytes", String(megabytes), "--ciphers", CIPHER];
  const { stdout } = await execFileP(cmd[0] as string, [...args, "--sockets", sockets], {
    cwd: ROOT,
    timeout: 300_000,
  });
  return stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Row);
}

export async function socketsSection(
  runtimes: readonly JsRuntime[],
  megabytes: number,
  repeat: number,
  log: (line: string) => void,
): Promise<string> {
  const table: string[][] = [];
  for (const rt of runtimes) {
    for (const sockets of ADAPTERS[rt]) {
      const best = { direct: 0, up: 0, down: 0, rtt: Number.POSITIVE_INFINITY };
      for (let i = 0; i < repeat; i++) {
        const rows = await once(rt, sockets, megabytes);
        const direct = rows.find((r) => r.through === "direct TCP");
        const tunnel = rows.find((r) => r.through !== "direct TCP");
        if (!direct || !tunnel)
          throw new Error(`tunnel bench under ${rt} printed no ${direct ? "tunnel" : "direct"} row`);
        best.direct = Math.max(best.direct, direct.up);
        best.up = Math.max(best.up, tunnel.up);
        best.down = Math.max(best.down, tunnel.down);
        best.rtt = Math.min(best.rtt, tunnel.rtt);
      }
      log(`  ${rt} with ${sockets} sockets: up ${mb(best.up)} down ${mb(best.down)} rtt ${best.rtt.toFixed(0)} µs`);
      const label = sockets === rt ? `${rt}'s own` : "node:net compatibility";
      table.push([rt, label, mb(best.direct), mb(best.up), mb(best.down), `${best.rtt.toFixed(0)} µs`]);
    }
  }
  return [
    `## Socket adapters (\`tunnel bench --sockets\`, loopback, ${CIPHER}, ${megabytes} MiB each way)`,
    "",
    "Server, target and tunnel share one process and one thread: every byte crosses the adapter four times.",
    "",
    markdownTable(["runtime", "sockets", "direct TCP up", "tunnel up", "tunnel down", "round trip"], table),
  ].join("\n");
}
