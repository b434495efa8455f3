#!/usr/bin/env node
// Builds `tunnel` as one self-contained executable, apps/cli/dist/exe/tunnel: Bun's runtime
// with the Bun bundle of the CLI (apps/cli/dist/bun, from scripts/build.mjs) inside, made by
// `bun build --compile` for this machine's platform. Nothing to install where it runs. It
// does not read .env or bunfig.toml by itself (Bun's executables would, and would expand
// "$VAR" inside values): the CLI reads .env on its own terms, as every other form of it does.
//
//   node scripts/build-exe.mjs            build the bundles first, then the executable
//   node scripts/build-exe.mjs --if-stale reuse what is there when it is newer than the bundle
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bun = join(root, "node_modules/bun/bin/bun.exe");
const bundleDir = join(root, "apps/cli/dist/bun");
const entry = join(bundleDir, "tunnel.mjs");
const EXE = join(root, "apps/cli/dist/exe/tunnel");

function newestIn(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestIn(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const ifStale = process.argv.includes("--if-stale");
if (!ifStale || !existsSync(entry)) {
  execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit" });
}
if (ifStale && existsSync(EXE) && statSync(EXE).mtimeMs > newestIn(bundleDir)) {
  console.log(`${EXE} is up to date`);
} else {
  mkdirSync(dirname(EXE), { recursive: true });
  execFileSync(
    bun,
    ["build", "--compile", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", entry, "--outfile", EXE],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  console.log(`built ${EXE} (${(statSync(EXE).size / 1024 / 1024).toFixed(0)} MiB)`);
}
