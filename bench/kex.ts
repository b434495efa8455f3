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
import { CIPHER_NAME } from "../packages/ssh/src/algorithms/cipher-names.ts";
import { KEX_NAME } from "../packages/ssh/src/algorithms/kex-names.ts";
import { SSH_ED25519 } from "../packages/ssh/src/algorithms/sig-ed25519.ts";
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
  { kex: KEX_NAME.CURVE25519_SHA256, cipher: CIPHER_NAME.AES128_GCM, note: "" },
  { kex: KEX_NAME.MLKEM768_X25519_SHA256, cipher: CIPHER_NAME.AES128_GCM, note: "" },
  { kex: KEX_NAME.SNTRUP761_X25519_SHA512, cipher: CIPHER_NAME.AES128_GCM, note: "" },
  { kex: KEX_NAME.ECDH_NISTP256, cipher: CIPHER_NAME.AES128_GCM, note: "" },
  { kex: KEX_NAME.DH_GROUP14_SHA256, cipher: CIPHER_NAME.AES128_GCM, note: "2048-bit group" },
  {
    kex: KEX_NAME.DH_GEX_SHA256,
    cipher: CIPHER_NAME.AES128_GCM,
    note: "3072-bit group (asked for with a 128-bit cipher)",
  },
  {
    kex: KEX_NAME.DH_GEX_SHA256,
    cipher: CIPHER_NAME.CHACHA20_POLY1305,
    note: "8192-bit group (asked for with a 256-bit cipher)",
  },
].filter((c) => KEX_METHODS.has(c.kex));

function once(c: Case): Promise<number> {
  const [a, b] = memoryPair();
  const algorithms = { ...DEFAULT_ALGORITHMS, kex: [c.kex], hostKey: [SSH_ED25519], cipher: [c.cipher] };
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
