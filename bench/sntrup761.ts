/**
 * sntrup761 key generation, encapsulation and decapsulation speed under whichever runtime
 * runs this file:
 *   node --import tsx bench/sntrup761.ts | bun bench/sntrup761.ts | deno run -A bench/sntrup761.ts
 * Prints one JSON object of milliseconds per operation (median of the runs), wall clock and,
 * where the runtime has process.cpuUsage, CPU time (steadier on a loaded machine). Each run's
 * shared secrets are checked to agree.
 */
import { systemRandom } from "../packages/ssh/src/crypto/provider.ts";
import { sntrup761Decapsulate, sntrup761Encapsulate, sntrup761KeyPair } from "../packages/ssh/src/crypto/sntrup761.ts";
import { parseArgs } from "./lib/args.ts";

parseArgs({
  name: "bench/sntrup761.ts",
  summary: "sntrup761 key generation, encapsulation and decapsulation, ms per operation, as one JSON object.",
  options: {},
});

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const RUNS = 40;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number((s[s.length >> 1] as number).toFixed(2));
}

type Clock = () => number;
const wall: Clock = () => performance.now();
const cpuUsage = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process?.cpuUsage;
const cpu: Clock | undefined = cpuUsage
  ? () => {
      const u = cpuUsage();
      return (u.user + u.system) / 1000;
    }
  : undefined;

/** Median ms of keygen, encapsulation and decapsulation by `clock`. */
function measure(clock: Clock): { keygen: number; encap: number; decap: number } {
  const keygen: number[] = [];
  const encap: number[] = [];
  const decap: number[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const t0 = clock();
    const { publicKey, secretKey } = sntrup761KeyPair(systemRandom);
    const t1 = clock();
    const { ciphertext, sharedSecret } = sntrup761Encapsulate(publicKey, systemRandom);
    const t2 = clock();
    const again = sntrup761Decapsulate(ciphertext, secretKey);
    const t3 = clock();
    if (again.some((b, j) => b !== sharedSecret[j])) throw new Error("sntrup761: the two sides disagree");
    if (i < 3) continue; // warm-up
    keygen.push(t1 - t0);
    encap.push(t2 - t1);
    decap.push(t3 - t2);
  }
  return { keygen: median(keygen), encap: median(encap), decap: median(decap) };
}

console.log(JSON.stringify({ runtime, runs: RUNS, wallMs: measure(wall), ...(cpu ? { cpuMs: measure(cpu) } : {}) }));
