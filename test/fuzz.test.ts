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
import { type FoundInput, fuzz, runOne } from "./fuzz/engine.ts";
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
