/**
 * How far the round trip can go down: 64-byte round trips direct, through one plain TCP relay
 * (socat: a C process that only copies bytes), through `ssh -L`, through a relay in front of
 * `ssh -L`, and through `tunnel open` under each runtime, interleaved, best median of
 * `--rounds`. The plain relay's cost is what any forwarding process adds at the least (two
 * wake-ups, reads and writes per round trip); `ssh -L` and `tunnel open` are that plus SSH.
 *   node --import tsx bench/rtt-floor.ts [--rounds 3] [--runtimes node,bun,deno]   (needs socat)
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { roundTrip, startTarget } from "@tunnel/core/bench";
import { runtime } from "@tunnel/ssh/runtime";
import { freePort, makeKey, startSshd } from "@tunnel/testkit";
import { CIPHER_NAME } from "../packages/ssh/src/algorithms/cipher-names.ts";
import { parseArgs } from "./lib/args.ts";
import { type Forwarder, type JsRuntime, startSshL, startTunnelOpen } from "./lib/forwarders.ts";

const args = parseArgs({
  name: "bench/rtt-floor.ts",
  summary: "64-byte round trips direct, through socat, ssh -L and tunnel open (needs socat).",
  options: {
    rounds: { type: "number", integer: true, min: 1, default: 3, description: "interleaved rounds (best median kept)" },
    runtimes: {
      type: "list",
      choices: ["node", "bun", "deno"],
      default: ["node", "bun", "deno"],
      description: "runtimes of tunnel open",
    },
  },
});
const rounds = args.rounds;
const cipher = CIPHER_NAME.AES128_GCM;

async function relay(toPort: number): Promise<Forwarder> {
  const port = await freePort();
  const child = spawn("socat", [
    `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,nodelay`,
    `TCP:127.0.0.1:${toPort},nodelay`,
  ]);
  await new Promise((r) => setTimeout(r, 300));
  return {
    label: "socat",
    port,
    pid: child.pid,
    stop: async () => {
      child.kill();
    },
  };
}

const sshd = await startSshd({ hostKeys: ["ed25519"] });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-rtt-"));
const key = await makeKey(dir, "id", { type: "ed25519" });
await sshd.addAuthorizedKey(key.pubLine);
const target = await startTarget(runtime);
const t = { sshd, identity: key.path, targetPort: target.port };
const sshL = await startSshL(t, cipher);
const runtimes: JsRuntime[] = args.runtimes;
const paths: [string, Forwarder | undefined][] = [
  ["direct", undefined],
  ["socat relay", await relay(target.port)],
  ["ssh -L", sshL],
  ["socat relay → ssh -L", await relay(sshL.port)],
];
for (const rt of runtimes) paths.push([`tunnel (${rt})`, await startTunnelOpen(t, rt, cipher)]);
const best = new Map<string, number>();
try {
  for (let r = 0; r < rounds; r++) {
    for (const [label, f] of paths) {
      const env = { runtime, now: () => performance.now(), host: "127.0.0.1", port: f ? f.port : target.port };
      const m = (await roundTrip(env, 2000)).median;
      best.set(label, Math.min(best.get(label) ?? Infinity, m));
    }
  }
  const ssh = best.get("ssh -L") as number;
  for (const [label] of paths) {
    const m = best.get(label) as number;
    console.log(`${label.padEnd(22)} ${m.toFixed(0).padStart(5)} µs  ${(m / ssh).toFixed(2)}× ssh -L`);
  }
} finally {
  for (const [, f] of paths) await f?.stop();
  await target.close();
  await sshd.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
