/** Summarises a V8 .cpuprofile: self time per function, top 30. `node bench/lib/hot.ts FILE`. */
import * as fs from "node:fs";
import { parseArgs } from "./args.ts";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
const file = parseArgs({
  name: "node bench/lib/hot.ts",
  summary: "Self time per function of a V8 .cpuprofile, top 30.",
  options: {},
  positionals: ["FILE.cpuprofile"],
}).positionals[0] as string;
const prof = JSON.parse(fs.readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[] };
const hits = new Map<number, number>();
for (const s of prof.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
const byFn = new Map<string, number>();
for (const n of prof.nodes) {
  const url = n.callFrame.url.replace(/^.*\/(node_modules|packages|apps)\//, "$1/");
  const key = `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + (hits.get(n.id) ?? 0));
}
const total = prof.samples.length;
for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 30))
  console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
