/**
 * Key exchange cost per method, under whichever runtime runs this file:
 *   node --import tsx bench/kex.ts | bun bench/kex.ts | deno run -A bench/kex.ts
 * Prints one JSON object. Each sample is one whole first exchange between our client and our
 * server transports in this process (KEXINIT, the method's messages, signature and host-key
 * check, NEWKEYS both ways), so it is both sides' work; the median of the samples is reported.
 */
import {
  DEFAULT_ALGORITHMS,
  generateEd25519,
  KEX_METHODS,
  nobleProvider,
  type PrivateKey,
  systemRandom,
} from "@tunnel/ssh";
import { createNativeProvider } from "@tunnel/ssh/runtime";
import { runtimeVersion } from "@tunnel/testkit/runtime";
import { memoryPair } from "../packages/ssh/src/runtime/memory.ts";
import { Transport } from "../packages/ssh/src/transport/transport.ts";
import { parseArgs } from "./lib/args.ts";

const smoke = parseArgs({
  name: "bench/kex.ts",
  summary: "Key exchange cost per method under this runtime, as one JSON object.",
  options: { smoke: { type: "boolean", description: "a few samples only (what the test suite runs)" } },
}).smoke;
const SAMPLES = smoke ? 2 : 15;
const hostKey = generateEd25519(nobleProvider);
const provider = createNativeProvider().provider;

interface Case {
  kex: string;
  cipher: string;
  note: string;
}

const CASES: Case[] = [
  { kex: "curve25519-sha256", cipher: "aes128-gcm@openssh.com", note: "" },
  { kex: "mlkem768x25519-sha256", cipher: "aes128-gcm@openssh.com", note: "" },
  { kex: "sntrup761x25519-sha512", cipher: "aes128-gcm@openssh.com", note: "" },
  { kex: "ecdh-sha2-nistp256", cipher: "aes128-gcm@openssh.com", note: "" },
  { kex: "diffie-hellman-group14-sha256", cipher: "aes128-gcm@openssh.com", note: "2048-bit group" },
  {
    kex: "diffie-hellman-group-exchange-sha256",
    cipher: "aes128-gcm@openssh.com",
    note: "3072-bit group (asked for with a 128-bit cipher)",
  },
  {
    kex: "diffie-hellman-group-exchange-sha256",
    cipher: "chacha20-poly1305@openssh.com",
    note: "8192-bit group (asked for with a 256-bit cipher)",
  },
].filter((c) => KEX_METHODS.has(c.kex));

function once(c: Case): Promise<number> {
  const [a, b] = memoryPair();
  const algorithms = { ...DEFAULT_ALGORITHMS, kex: [c.kex], hostKey: ["ssh-ed25519"], cipher: [c.cipher] };
  return new Promise((resolve, reject) => {
    let done = 0;
    const start = performance.now();
    const common = {
      algorithms,
      provider,
      random: systemRandom,
      onMessage: () => true,
      onClose: (e?: Error) => {
        if (e) reject(e);
      },
      onKexDone: () => {
        if (++done === 2) {
          resolve(performance.now() - start);
          client.disconnect();
        }
      },
    };
    const client = new Transport({ ...common, role: "client", conn: a, verifyHostKey: () => true });
    const server = new Transport({ ...common, role: "server", conn: b, hostKeys: [hostKey] as PrivateKey[] });
    client.start();
    server.start();
  });
}

const rows: { kex: string; note: string; cipher: string; medianMs: number }[] = [];
for (const c of CASES) {
  await once(c); // warm-up
  const t: number[] = [];
  for (let i = 0; i < SAMPLES; i++) t.push(await once(c));
  t.sort((x, y) => x - y);
  rows.push({ kex: c.kex, note: c.note, cipher: c.cipher, medianMs: t[Math.floor(t.length / 2)] as number });
}
console.log(JSON.stringify({ runtime: runtimeVersion(), samples: SAMPLES, rows }));
