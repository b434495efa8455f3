/**
 * The fuzz harness in the suite (issue 12, "Beyond the findings"): every target of
 * test/fuzz/targets.ts — each decoder a peer or a local file reaches, and both state machines
 * against a scripted fake peer — runs a short series from a fixed seed, and every input that
 * ever failed (test/fuzz/corpus/<target>/*.bin) is replayed and must now pass. The long run is
 * `node --import tsx bench/fuzz.ts`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type FoundInput, type FuzzTarget, fuzz, runOne } from "./fuzz/engine.ts";
import { pendingFor } from "./fuzz/pending.ts";
import { TARGETS, targetNamed } from "./fuzz/targets.ts";

const SEED = 20_260_101;
const corpus = path.join(path.dirname(fileURLToPath(import.meta.url)), "fuzz", "corpus");

const show = (f: FoundInput) =>
  `${f.verdict.kind}: ${f.verdict.message.slice(0, 400)} (${f.count}×) ${f.verdict.stack.split("\n").slice(1, 4).join(" ")}`;

describe("fuzz targets: a short fixed-seed run each finds nothing", () => {
  for (const target of TARGETS) {
    const n = target.quick ?? 2000;
    it(`${target.name}: ${n} inputs (seeds, then mutations), no crash, hang or broken invariant`, async () => {
      const r = await fuzz(target, { iterations: n, seed: SEED });
      expect(r.inputs).toBe(n);
      const unexpected = r.findings.filter((f) => !pendingFor(target.name, f.verdict.message));
      expect(unexpected.map(show)).toEqual([]);
    }, 60_000);
  }
});

const files = fs.existsSync(corpus)
  ? fs
      .readdirSync(corpus, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap(({ name: dir }) =>
        fs
          .readdirSync(path.join(corpus, dir))
          .filter((f) => f.endsWith(".bin"))
          .map((f) => [dir, f] as const),
      )
  : [];

describe("fuzz corpus: every input that ever failed now passes", () => {
  it("the corpus names only known targets", () => {
    for (const [dir] of files) expect(() => targetNamed(dir)).not.toThrow();
  });
  for (const [dir, file] of files) {
    it(`${dir}/${file}`, async () => {
      const target = targetNamed(dir);
      target.seeds(); // what a target builds once (keys, tables) is not this input's time
      const v = await runOne(target, new Uint8Array(fs.readFileSync(path.join(corpus, dir, file))));
      expect(v.ok ? "ok" : `${v.kind}: ${v.message}`).toBe("ok");
    }, 60_000);
  }
});

describe("fuzz engine: the time budget", () => {
  const target = (run: () => void | Promise<void>): FuzzTarget => ({
    name: "budget",
    describe: "spends time",
    seeds: () => [],
    maxLength: 1,
    accepts: () => false,
    run,
    budgetMs: 50,
  });
  it("an input that computes past the budget is slow", async () => {
    const v = await runOne(
      target(() => {
        // 150 ms of CPU and of wall time, however long a busy machine takes to give it
        const cpu = () => process.cpuUsage().user / 1000;
        const [cpuEnd, wallEnd] = [cpu() + 150, performance.now() + 150];
        while (cpu() < cpuEnd || performance.now() < wallEnd) {}
      }),
      new Uint8Array(1),
    );
    expect(v).toMatchObject({ ok: false, kind: "slow" });
    expect(v.ok === false && v.message).toMatch(/ms of CPU run again\), over the 50 ms budget/);
  });
  it("an input that only waited past the budget (a busy machine's scheduling) is not slow", async () => {
    // The CPU time is the process's: Bun's JIT and GC threads ran 50 ms of it during a 150 ms
    // wait in one CI run. A 1 s budget leaves them room; waiting 1.2 s still exceeds it.
    const v = await runOne(
      { ...target(() => new Promise((r) => setTimeout(r, 1200))), budgetMs: 1000 },
      new Uint8Array(1),
    );
    expect(v).toMatchObject({ ok: true, accepted: true });
    expect(v.ms).toBeGreaterThan(1000);
  });
});
