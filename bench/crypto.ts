/**
 * Crypto primitives per provider, under whichever runtime runs this file:
 *   node --import tsx bench/crypto.ts | bun bench/crypto.ts | deno run -A bench/crypto.ts
 * Prints one JSON object. Every measured function is first checked: each cipher's packets
 * sealed by the accelerated provider must equal noble's byte for byte and open again, and the
 * raw noble primitives must round-trip. Only then are they timed.
 */
import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { CIPHERS, type CryptoProvider, equalBytes, MACS, nobleProvider, preferredCiphers } from "@tunnel/ssh";
import { createNativeProvider, runtime } from "@tunnel/ssh/runtime";
import { runtimeVersion } from "@tunnel/testkit/runtime";
import { MAC_NAME } from "../packages/ssh/src/algorithms/mac-names.ts";
import type { CipherAlgorithm, DirectionKeys } from "../packages/ssh/src/algorithms/types.ts";
import { parseArgs } from "./lib/args.ts";

const PACKET = 32 * 1024;
const smoke = parseArgs({
  name: "bench/crypto.ts",
  summary: "Crypto primitives per provider under this runtime, as one JSON object.",
  options: { smoke: { type: "boolean", description: "a few samples only (what the test suite runs)" } },
}).smoke;
const BUDGET_MS = smoke ? 20 : 400;

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 29 + seed * 101 + 3) & 0xff;
  return out;
}

/** Bytes per second of `f` over `size`-byte inputs, for about BUDGET_MS. */
function rate(size: number, f: () => void): number {
  for (let i = 0; i < 3; i++) f();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < BUDGET_MS) {
    f();
    n++;
    if ((n & 3) === 0) t = performance.now();
  }
  t = performance.now();
  return (n * size) / ((t - t0) / 1000);
}

function keysFor(c: CipherAlgorithm): DirectionKeys {
  const mac = c.aead ? undefined : MACS.get(MAC_NAME.HMAC_SHA2_256_ETM);
  return {
    key: bytes(c.keyLength, 1),
    iv: bytes(Math.max(c.ivLength, 0), 2),
    ...(mac ? { mac: { algorithm: mac, key: bytes(mac.keyLength, 3) } } : {}),
  };
}

/** A padded plaintext packet as the packet writer builds it (length field first). */
function packetOf(c: CipherAlgorithm, payloadLen: number): Uint8Array {
  const align = Math.max(8, c.blockSize);
  let pad = align - ((1 + payloadLen) % align);
  if (pad < 4) pad += align;
  const len = 1 + payloadLen + pad;
  const p = bytes(4 + len, 4);
  new DataView(p.buffer).setUint32(0, len);
  p[4] = pad;
  return p;
}

interface Row {
  name: string;
  provider: string;
  impl: string;
  op: string;
  mbps: number;
}

function measureCipher(c: CipherAlgorithm, provider: CryptoProvider, reference: CryptoProvider, rows: Row[]): void {
  const keys = keysFor(c);
  const packet = packetOf(c, PACKET);
  const sealer = c.createSealer(keys, provider);
  const refSealer = c.createSealer(keysFor(c), reference);
  const opener = c.createOpener(keysFor(c), provider);
  // Check before timing: identical to the reference, and it opens.
  const wire = sealer.seal(0, packet.slice());
  if (!equalBytes(wire, refSealer.seal(0, packet.slice())))
    throw new Error(`${c.name} (${provider.name}) differs from noble`);
  const plain = opener.open(0, wire.slice());
  if (!equalBytes(plain, packet.subarray(4))) throw new Error(`${c.name} (${provider.name}) does not round-trip`);
  let seq = 1;
  const sealRate = rate(packet.length, () => {
    sealer.seal(seq++, packet.slice());
  });
  // Opening needs a fresh valid packet per sequence number for the nonce-bound ciphers.
  const wires: Uint8Array[] = [];
  const s2 = c.createSealer(keysFor(c), provider);
  for (let i = 0; i < 64; i++) wires.push(s2.seal(i, packet.slice()));
  let k = 0;
  let o2 = c.createOpener(keysFor(c), provider);
  const openRate = rate(packet.length, () => {
    if (k === 64) {
      k = 0;
      o2 = c.createOpener(keysFor(c), provider);
    }
    o2.open(k, (wires[k] as Uint8Array).slice());
    k++;
  });
  rows.push({ name: c.name, provider: provider.name, impl: sealer.impl, op: "seal", mbps: sealRate / 1e6 });
  rows.push({ name: c.name, provider: provider.name, impl: opener.impl, op: "open", mbps: openRate / 1e6 });
}

function measureNobleRaw(rows: Row[]): void {
  const key = bytes(32, 5);
  const nonce = bytes(12, 6);
  const msg = bytes(PACKET, 7);
  const cc = chacha20poly1305(key, nonce);
  const sealed = cc.encrypt(msg);
  if (!equalBytes(chacha20poly1305(key, nonce).decrypt(sealed), msg)) throw new Error("noble chacha20poly1305 broken");
  rows.push({
    name: "chacha20-poly1305 (RFC 8439)",
    provider: "noble raw",
    impl: "@noble/ciphers",
    op: "seal",
    mbps: rate(PACKET, () => chacha20poly1305(key, nonce).encrypt(msg)) / 1e6,
  });
  const g = gcm(bytes(16, 8), nonce);
  const gs = g.encrypt(msg);
  if (!equalBytes(gcm(bytes(16, 8), nonce).decrypt(gs), msg)) throw new Error("noble gcm broken");
  rows.push({
    name: "aes-128-gcm",
    provider: "noble raw",
    impl: "@noble/ciphers",
    op: "seal",
    mbps: rate(PACKET, () => gcm(bytes(16, 8), nonce).encrypt(msg)) / 1e6,
  });
}

const rows: Row[] = [];
const native = createNativeProvider();
measureNobleRaw(rows);
for (const c of CIPHERS.values()) {
  measureCipher(c, nobleProvider, nobleProvider, rows);
  measureCipher(c, native.provider, nobleProvider, rows);
}
// The default cipher order here, as `tunnel` decides it (from what passed, not from these timings).
const order = preferredCiphers(native.provider, runtime.name);
console.log(
  JSON.stringify({
    runtime: runtimeVersion(),
    runtimeName: runtime.name,
    accelerated: native.accelerated,
    order,
    rows,
  }),
);
