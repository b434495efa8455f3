#!/usr/bin/env node
// Builds what ships: ESM JavaScript with type declarations for @tunnel/ssh and @tunnel/core
// (tsc, project references, into each package's dist/), and the CLI as one bundled file per
// runtime (esbuild): the socket adapter is picked at bundle time by the same export condition
// ("bun", "deno", or the default) that picks it when the sources run directly.
import { execFileSync } from "node:child_process";
import { chmodSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "node_modules/typescript/bin/tsc");

for (const pkg of ["ssh", "tunnel"]) rmSync(join(root, "packages", pkg, "dist"), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-b", join(root, "packages/tunnel/tsconfig.build.json")], { stdio: "inherit" });

// One folder per runtime: tunnel.mjs holds what `tunnel --help` needs; each verb's code is a
// chunk loaded when that verb runs (code splitting), which keeps start-up short.
const bundles = [
  { dir: "node", conditions: [] },
  { dir: "bun", conditions: ["bun"] },
  { dir: "deno", conditions: ["deno"] },
];
rmSync(join(root, "apps/cli/dist"), { recursive: true, force: true });
for (const b of bundles) {
  const outdir = join(root, "apps/cli/dist", b.dir);
  await build({
    entryPoints: { tunnel: join(root, "apps/cli/src/main.ts") },
    outdir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    splitting: true,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: b.conditions,
    minifySyntax: true,
    legalComments: "linked",
    logLevel: "warning",
  });
  chmodSync(join(outdir, "tunnel.mjs"), 0o755);
}
console.log(
  `built packages/ssh/dist, packages/tunnel/dist, apps/cli/dist/{${bundles.map((b) => b.dir).join(",")}}/tunnel.mjs`,
);
