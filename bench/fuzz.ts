/**
 * The long fuzzing run (issue 12, "Beyond the findings"): every target of test/fuzz/targets.ts,
 * one at a time, each in a worker thread watched from here, so that a hang (no progress for
 * HANG_MS), a crash or an allocation that grows without bound is caught with the input that
 * caused it and the run goes on with the next input.
 *
 *   node --import tsx bench/fuzz.ts [--target NAME[,NAME…]] [--iterations N] [--seed S] [--json]
 *
 * Default: 1,000,000 inputs per target, seed 1. Every minute a line on stderr says how far the
 * current target is. Prints per target the inputs run, the
 * findings (distinct, and inputs that gave one), inputs per second, wall time and the peak
 * RSS of the process while it ran (and, after each input, checks the bytes held in buffers,
 * where an allocation sized from a length field shows even before its pages are touched);
 * writes each finding's input to
 * test/fuzz/corpus/<target>/<hash>.bin, which test/fuzz.test.ts replays (or, for a finding
 * listed in test/fuzz/pending.ts, to test/fuzz/pending/<target>/). A run is reproducible
 * from its seed (a restart after a hang or crash goes on from the next input with a seed
 * derived from that index).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as v8 from "node:v8";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { nobleProvider } from "../packages/ssh/src/crypto/noble.ts";
import { hex } from "../test/fuzz/crypto.ts";
import { type FoundInput, fuzz, type RunResult } from "../test/fuzz/engine.ts";
import { pendingFor } from "../test/fuzz/pending.ts";
import { TARGETS, targetNamed } from "../test/fuzz/targets.ts";
import { parseArgs } from "./lib/args.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const CORPUS = path.join(here, "..", "test", "fuzz", "corpus");
/** Inputs of findings listed in test/fuzz/pending.ts (in files others are changing): kept, not replayed. */
const PENDING_DIR = path.join(here, "..", "test", "fuzz", "pending");
/** No progress for this long is a hang (one input of the slowest target takes milliseconds). */
const HANG_MS = 60_000;
/** The process's RSS past this is unbounded allocation. */
const RSS_LIMIT = 3 * 1024 * 1024 * 1024;
/** Buffers held past this after one input: an allocation sized by what the input says. */
const EXTERNAL_LIMIT = 512 * 1024 * 1024;
/** The largest input the watchdog keeps a copy of. */
const MAX_INPUT = 1 << 20;
const MAX_RESTARTS = 20;
/** How often a long run says on stderr how far it is (the report comes only at a target's end). */
const PROGRESS_MS = 60_000;
const TSX_API = import.meta.resolve("tsx/esm/api");

interface WorkerJob {
  name: string;
  iterations: number;
  seed: number;
  startAt: number;
  shared: SharedArrayBuffer;
}

type FromWorker =
  | { type: "finding"; input: Uint8Array; kind: string; message: string; stack: string; signature: string }
  | { type: "progress"; done: number }
  | { type: "done"; result: Omit<RunResult, "findings"> };

function inputFile(target: string, input: Uint8Array, pending: boolean): string {
  const dir = path.join(pending ? PENDING_DIR : CORPUS, target);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${hex(nobleProvider.hash("sha256", input)).slice(0, 16)}.bin`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, input);
  return path.relative(process.cwd(), file);
}

// ---- the worker: one target's loop ---------------------------------------------------------------------

async function workerMain(job: WorkerJob): Promise<void> {
  const port = parentPort as NonNullable<typeof parentPort>;
  const control = new Int32Array(job.shared, 0, 2);
  const bytes = new Uint8Array(job.shared, 8);
  let current: Uint8Array = new Uint8Array(0);
  // An error escaping outside a run's own watch (session targets watch their own) is a crash of this input.
  const escaped = (err: unknown) => {
    if (process.listenerCount("uncaughtException") > 1) return;
    const e = err as Error;
    port.postMessage({
      type: "finding",
      input: current,
      kind: "crash",
      message: `escaped: ${e?.name}: ${e?.message ?? String(err)}`,
      stack: e?.stack ?? "",
      signature: `crash | ${e?.name}: ${e?.message}`,
    } satisfies FromWorker);
  };
  process.on("uncaughtException", escaped);
  process.on("unhandledRejection", escaped);
  const result = await fuzz(targetNamed(job.name), {
    iterations: job.iterations,
    seed: job.seed,
    startAt: job.startAt,
    external: () => v8.getHeapStatistics().external_memory,
    externalLimit: EXTERNAL_LIMIT,
    onInput(input, index) {
      current = input;
      const n = Math.min(input.length, MAX_INPUT);
      bytes.set(input.subarray(0, n));
      Atomics.store(control, 1, n);
      Atomics.store(control, 0, index);
    },
    onFinding(f: FoundInput) {
      port.postMessage({
        type: "finding",
        input: f.input,
        kind: f.verdict.kind,
        message: f.verdict.message,
        stack: f.verdict.stack,
        signature: f.signature,
      } satisfies FromWorker);
    },
    onProgress: (done) => port.postMessage({ type: "progress", done } satisfies FromWorker),
  });
  const { findings: _, ...rest } = result;
  port.postMessage({ type: "done", result: rest } satisfies FromWorker);
}

// ---- the supervisor --------------------------------------------------------------------------------------

interface TargetReport {
  target: string;
  inputs: number;
  findings: number;
  findingInputs: number;
  seconds: number;
  inputsPerSecond: number;
  peakRssMiB: number;
  slowestMs: number;
  restarts: number;
  files: string[];
}

async function runTarget(
  name: string,
  iterations: number,
  seed: number,
  log: (s: string) => void,
): Promise<TargetReport> {
  const shared = new SharedArrayBuffer(8 + MAX_INPUT);
  const control = new Int32Array(shared, 0, 2);
  const bytes = new Uint8Array(shared, 8);
  const signatures = new Set<string>();
  const files: string[] = [];
  let inputs = 0;
  let findingInputs = 0;
  let slowestMs = 0;
  let peak = process.memoryUsage.rss();
  let restarts = 0;
  let startAt = 0;
  const t0 = performance.now();

  const record = (kind: string, message: string, stack: string, input: Uint8Array, signature: string) => {
    findingInputs++;
    if (signatures.has(signature)) return;
    signatures.add(signature);
    const pending = pendingFor(name, message);
    const file = inputFile(name, input, pending !== undefined);
    files.push(file);
    log(`  FINDING ${kind}: ${message.split("\n")[0]?.slice(0, 300)}\n    input: ${file}`);
    if (pending) log(`    known, pending a fix in ${pending.where}`);
    const frames = stack
      .split("\n")
      .filter((l) => /^\s+at /.test(l))
      .slice(0, 6);
    for (const f of frames) log(`    ${f.trim()}`);
  };

  while (startAt < iterations) {
    Atomics.store(control, 0, startAt);
    const job: WorkerJob = { name, iterations, seed: (seed + startAt) >>> 0, startAt, shared };
    const outcome = await new Promise<{ done?: Omit<RunResult, "findings">; failed?: string }>((resolve) => {
      // The worker loads this file through tsx too (a worker does not inherit the loader hooks).
      const boot = `import(${JSON.stringify(TSX_API)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); });`;
      const worker = new Worker(boot, {
        eval: true,
        workerData: job,
        resourceLimits: { maxOldGenerationSizeMb: 2048 },
      });
      let last = Atomics.load(control, 0);
      let lastAt = Date.now();
      let saidAt = Date.now();
      let settled = false;
      const finish = (o: { done?: Omit<RunResult, "findings">; failed?: string }) => {
        if (settled) return;
        settled = true;
        clearInterval(watch);
        resolve(o);
      };
      const watch = setInterval(() => {
        const rss = process.memoryUsage.rss();
        if (rss > peak) peak = rss;
        const now = Atomics.load(control, 0);
        if (now !== last) {
          last = now;
          lastAt = Date.now();
        }
        if (Date.now() - saidAt >= PROGRESS_MS) {
          saidAt = Date.now();
          const rate = now / ((performance.now() - t0) / 1000);
          process.stderr.write(`  ${name}: ${now.toLocaleString("en")} inputs, ${Math.round(rate)}/s\n`);
        }
        if (rss > RSS_LIMIT) {
          void worker.terminate();
          finish({ failed: `unbounded allocation: RSS ${(rss / 2 ** 20).toFixed(0)} MiB` });
        } else if (Date.now() - lastAt > HANG_MS) {
          void worker.terminate();
          finish({ failed: `hang: no progress for ${HANG_MS / 1000} s` });
        }
      }, 250);
      worker.on("message", (m: FromWorker) => {
        if (m.type === "finding") record(m.kind, m.message, m.stack, m.input, m.signature);
        else if (m.type === "done") {
          finish({ done: m.result });
          void worker.terminate();
        }
      });
      worker.on("error", (err) => finish({ failed: `crash: ${err.name}: ${err.message}` }));
      worker.on("exit", (code) => finish({ failed: `crash: the worker exited with code ${code}` }));
    });
    if (outcome.done) {
      inputs += outcome.done.inputs;
      slowestMs = Math.max(slowestMs, outcome.done.slowestMs);
      break;
    }
    // A hang, crash or runaway allocation: keep the input that caused it and go on after it.
    const at = Atomics.load(control, 0);
    const input = bytes.slice(0, Atomics.load(control, 1));
    const message = outcome.failed ?? "failed";
    record(message.split(":")[0] as string, `${message} (input ${at})`, "", input, `${message} @${name}`);
    inputs += at - startAt + 1;
    startAt = at + 1;
    if (++restarts > MAX_RESTARTS) {
      log(`  giving up on ${name} after ${restarts} restarts`);
      break;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    target: name,
    inputs,
    findings: signatures.size,
    findingInputs,
    seconds,
    inputsPerSecond: inputs / seconds,
    peakRssMiB: peak / 2 ** 20,
    slowestMs,
    restarts,
    files,
  };
}

async function main(): Promise<void> {
  const args = parseArgs({
    name: "bench/fuzz.ts",
    summary: "Runs every fuzz target (or those named) in a watched worker thread; findings go to test/fuzz/corpus.",
    options: {
      target: {
        type: "list",
        choices: TARGETS.map((t) => t.name),
        default: TARGETS.map((t) => t.name),
        value: "NAME,…",
        shownDefault: "all",
        description: "the targets to run",
      },
      iterations: { type: "number", integer: true, min: 1, default: 1_000_000, description: "inputs per target" },
      seed: { type: "number", integer: true, default: 1, description: "seed of the run" },
      json: { type: "boolean", description: "also print each target's report as JSON" },
    },
  });
  const log = (s: string) => console.log(s);
  const reports: TargetReport[] = [];
  log(`fuzz: ${args.target.length} targets, ${args.iterations.toLocaleString("en")} inputs each, seed ${args.seed}`);
  for (const name of args.target) {
    log(`${name} …`);
    const r = await runTarget(name, args.iterations, args.seed, log);
    reports.push(r);
    log(
      `${name.padEnd(18)} inputs ${r.inputs.toLocaleString("en").padStart(9)}  findings ${r.findings} (${r.findingInputs} inputs)  ${Math.round(r.inputsPerSecond).toLocaleString("en").padStart(7)}/s  ${r.seconds.toFixed(0).padStart(5)} s  peak RSS ${r.peakRssMiB.toFixed(0)} MiB  slowest input ${r.slowestMs.toFixed(0)} ms${r.restarts ? `  restarts ${r.restarts}` : ""}`,
    );
    if (args.json) log(JSON.stringify(r));
  }
  const total = reports.reduce((n, r) => n + r.findings, 0);
  log(`fuzz: done, ${total} distinct finding${total === 1 ? "" : "s"}`);
  process.exitCode = total > 0 ? 1 : 0;
}

if (isMainThread) await main();
else await workerMain(workerData as WorkerJob);
