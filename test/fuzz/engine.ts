/**
 * Fuzzing support, the engine shared by `bench/fuzz.ts` (long runs) and `test/fuzz.test.ts`
 * (a short fixed-seed run and the corpus replay): what a target is, how one input is judged,
 * and the generation loop (seeds first, then mutations of seeds and of inputs that were
 * accepted, and some fresh random inputs).
 *
 * The verdict on one input: the target either accepts it, or rejects it with an error of the
 * kind its API documents for such input (an `SshError` for a peer's bytes; for a local file or
 * a command-line value, the documented `TypeError`). Anything else is a finding: another
 * exception (a TypeError from reading `undefined`, a RangeError from a typed array, …), a
 * broken invariant (`Finding`), or an input that took longer than the target's time budget.
 */
import { hashString, mutate, Rng } from "./mutate.ts";

export type FindingKind = "exception" | "invariant" | "slow" | "alloc" | "hang" | "crash";

/** A broken invariant, thrown by a target's `run`. */
export class Finding extends Error {
  override readonly name = "Finding";
}

export type Verdict =
  | { ok: true; accepted: boolean; ms: number }
  | { ok: false; kind: FindingKind; message: string; stack: string; ms: number };

export interface FuzzTarget {
  name: string;
  /** What the target drives, and which errors are acceptable: for the report and the tests. */
  describe: string;
  /** Valid (or interesting) inputs the mutations start from. */
  seeds(): Uint8Array[];
  /** Inputs are cut to this many bytes. */
  maxLength: number;
  /** Is this rejection one the API documents for such input? */
  accepts(err: unknown): boolean;
  /** Drives the code under test with one input; throws `Finding` for a broken invariant. */
  run(input: Uint8Array): void | Promise<void>;
  /** A fresh input not derived from a seed (default: random bytes). */
  generate?(rng: Rng): Uint8Array;
  /** One input costing more than this (ms of wall time, and of CPU time when run again) is a finding. */
  budgetMs?: number;
  /** Cost hint for the short test run: inputs to run in the fixed-seed test. */
  quick?: number;
}

/** Decoders get a second per input on a loaded 2-core machine; their inputs take microseconds. */
export const DEFAULT_BUDGET_MS = 1000;

function describeError(err: unknown): { message: string; stack: string } {
  if (err instanceof Error) {
    const name = err.name || err.constructor?.name || "Error";
    return { message: `${name}: ${err.message}`, stack: err.stack ?? "" };
  }
  return { message: `non-Error thrown: ${String(err)}`, stack: "" };
}

function judgeError(target: FuzzTarget, input: Uint8Array, err: unknown, t0: number): Verdict | Promise<Verdict> {
  const ms = performance.now() - t0;
  if (err instanceof Finding) return { ok: false, kind: "invariant", ...describeError(err), ms };
  if (target.accepts(err)) return finish(target, input, false, t0);
  return { ok: false, kind: "exception", ...describeError(err), ms };
}

/** The process's CPU time (ms, user + system) spent running `input` once more. */
async function cpuOfRerun(target: FuzzTarget, input: Uint8Array): Promise<number> {
  const c0 = process.cpuUsage();
  try {
    await target.run(input);
  } catch {
    // its verdict was given by the first run
  }
  const u = process.cpuUsage(c0);
  return (u.user + u.system) / 1000;
}

/**
 * Over budget only if the wall time is, and running the input again costs the process that
 * much CPU: an input that took long only because a busy machine gave the process no CPU (a
 * 3.1 s "slow" kex-value input under load replayed in 4–10 ms) is not slow; an input that
 * computes for that long is. The CPU is read only for those rare inputs, off the hot path
 * (process.cpuUsage costs ~2 µs, a sixth of a target-url input).
 */
function finish(target: FuzzTarget, input: Uint8Array, accepted: boolean, t0: number): Verdict | Promise<Verdict> {
  const ms = performance.now() - t0;
  const budget = target.budgetMs ?? DEFAULT_BUDGET_MS;
  if (ms <= budget) return { ok: true, accepted, ms };
  return cpuOfRerun(target, input).then(
    (cpu): Verdict =>
      cpu > budget
        ? {
            ok: false,
            kind: "slow",
            message: `one input took ${ms.toFixed(0)} ms (${cpu.toFixed(0)} ms of CPU run again), over the ${budget} ms budget`,
            stack: "",
            ms,
          }
        : { ok: true, accepted, ms },
  );
}

/** Judges one input. Synchronous targets are judged synchronously (no promise per input). */
export function runOne(target: FuzzTarget, input: Uint8Array): Verdict | Promise<Verdict> {
  const t0 = performance.now();
  let result: void | Promise<void>;
  try {
    result = target.run(input);
  } catch (err) {
    return judgeError(target, input, err, t0);
  }
  if (result instanceof Promise) {
    return result.then(
      () => finish(target, input, true, t0),
      (err: unknown) => judgeError(target, input, err, t0),
    );
  }
  return finish(target, input, true, t0);
}

/** The identity of a finding, for counting repeats once: kind, first message line, first stack frame of ours. */
export function findingSignature(v: Extract<Verdict, { ok: false }>): string {
  const frame = v.stack.split("\n").find((l) => /packages\/|test\/fuzz\//.test(l) && !/engine\.ts/.test(l)) ?? "";
  const message = (v.message.split("\n")[0] ?? "").replace(/\d+/g, "N").slice(0, 160);
  return `${v.kind} | ${message} | ${frame.trim().replace(/:\d+\)?$/, "")}`;
}

export interface FoundInput {
  input: Uint8Array;
  verdict: Extract<Verdict, { ok: false }>;
  signature: string;
  /** How many inputs gave this signature. */
  count: number;
}

export interface RunOptions {
  iterations: number;
  seed: number;
  /** Called before each input is run (the long run's watchdog keeps a copy of it). */
  onInput?(input: Uint8Array, index: number): void;
  /** Called for the first input of each new finding signature. */
  onFinding?(found: FoundInput): void;
  onProgress?(done: number): void;
  /** Start counting at this iteration (after a restart). */
  startAt?: number;
  /**
   * Bytes held outside the JS heap (ArrayBuffers), read after each input: an allocation sized
   * from a length field shows there at once (zero pages do not raise the RSS).
   */
  external?: () => number;
  /** `external` past this after an input is a finding. */
  externalLimit?: number;
}

export interface RunResult {
  target: string;
  inputs: number;
  accepted: number;
  rejected: number;
  findings: FoundInput[];
  /** Inputs that gave any finding (repeats of one signature included). */
  findingInputs: number;
  ms: number;
  slowestMs: number;
}

/** Pool of accepted mutants kept as further starting points. */
const POOL_MAX = 256;

/** Runs `iterations` inputs: the seeds first, then mutations and fresh inputs, reproducibly from `seed`. */
export async function fuzz(target: FuzzTarget, options: RunOptions): Promise<RunResult> {
  const seeds = target.seeds();
  const pool: Uint8Array[] = [];
  const rng = new Rng(options.seed ^ hashString(target.name) ^ Math.imul(options.startAt ?? 0, 0x9e3779b1));
  const found = new Map<string, FoundInput>();
  const result: RunResult = {
    target: target.name,
    inputs: 0,
    accepted: 0,
    rejected: 0,
    findings: [],
    findingInputs: 0,
    ms: 0,
    slowestMs: 0,
  };
  const t0 = performance.now();
  for (let i = options.startAt ?? 0; i < options.iterations; i++) {
    let input: Uint8Array;
    if (i < seeds.length) input = seeds[i] as Uint8Array;
    else if (rng.chance(0.06)) {
      input = target.generate ? target.generate(rng) : rng.bytes(rng.length(target.maxLength));
    } else {
      const from = pool.length > 0 && rng.chance(0.3) ? rng.pick(pool) : rng.pick(seeds);
      input = mutate(rng, from, seeds, target.maxLength);
    }
    options.onInput?.(input, i);
    let v = runOne(target, input);
    if (v instanceof Promise) v = await v;
    if (v.ok && options.external && options.external() > (options.externalLimit ?? 512 * 2 ** 20)) {
      v = {
        ok: false,
        kind: "alloc",
        message: `${(options.external() / 2 ** 20).toFixed(0)} MiB held in buffers after this input`,
        stack: "",
        ms: v.ms,
      };
    }
    result.inputs++;
    if (v.ms > result.slowestMs) result.slowestMs = v.ms;
    if (v.ok) {
      if (v.accepted) {
        result.accepted++;
        if (i >= seeds.length) {
          if (pool.length < POOL_MAX) pool.push(input);
          else pool[rng.below(POOL_MAX)] = input;
        }
      } else result.rejected++;
    } else {
      result.findingInputs++;
      const signature = findingSignature(v);
      const seen = found.get(signature);
      if (seen) seen.count++;
      else {
        const f: FoundInput = { input: input.slice(), verdict: v, signature, count: 1 };
        found.set(signature, f);
        options.onFinding?.(f);
      }
    }
    if ((i & 1023) === 1023) options.onProgress?.(i + 1);
  }
  result.ms = performance.now() - t0;
  result.findings = [...found.values()];
  return result;
}
