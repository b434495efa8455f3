/**
 * sntrup761 key generation, encapsulation and decapsulation speed under whichever runtime
 * runs this file:
 *   node --import tsx bench/sntrup761.ts | bun bench/sntrup761.ts | deno run -A bench/sntrup761.ts
 * Prints one JSON object of milliseconds per operation (median of the runs). Each run's
 * shared secrets are checked to agree before anything is timed.
 */
import { systemRandom } from "../packages/ssh/src/crypto/provider.ts";
import { sntrup761Decapsulate, sntrup761Encapsulate, sntrup761KeyPair } from "../packages/ssh/src/crypto/sntrup761.ts";

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const RUNS = 40;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number((s[s.length >> 1] as number).toFixed(2));
}

const keygen: number[] = [];
const enc: number[] = [];
const dec: number[] = [];
for (let i = 0; i < RUNS + 3; i++) {
  const t0 = performance.now();
  const { publicKey, secretKey } = sntrup761KeyPair(systemRandom);
  const t1 = performance.now();
  const { ciphertext, sharedSecret } = sntrup761Encapsulate(publicKey, systemRandom);
  const t2 = performance.now();
  const again = sntrup761Decapsulate(ciphertext, secretKey);
  const t3 = performance.now();
  if (again.some((b, j) => b !== sharedSecret[j])) throw new Error("sntrup761: the two sides disagree");
  if (i < 3) continue; // warm-up
  keygen.push(t1 - t0);
  enc.push(t2 - t1);
  dec.push(t3 - t2);
}
console.log(
  JSON.stringify({ runtime, runs: RUNS, keygenMs: median(keygen), encapMs: median(enc), decapMs: median(dec) }),
);
