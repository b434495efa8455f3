#!/usr/bin/env bash
# The test command (README): install what is needed, lint, type check, build what ships, then
# run the whole suite — unit and interop, nothing left out — under each runtime the product
# supports: Node 20 (the machine's), Node 24, Bun and Deno (all three from the npm registry,
# installed by `pnpm install`). Every runtime runs even if an earlier one failed; the command
# fails if any did.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
pnpm exec biome check .
pnpm exec tsc -p tsconfig.json --noEmit
node scripts/build.mjs

VITEST=node_modules/vitest/vitest.mjs
declare -a failed=()
run_suite() {
  local label=$1
  shift
  echo
  echo "=== the suite under ${label} ($("$1" --version 2>&1 | head -1)) ==="
  if ! "$@" "$VITEST" run; then failed+=("$label"); fi
}
run_suite "Node 20" node
run_suite "Node 24" tools/node24/node_modules/node24/bin/node
run_suite "Bun" node_modules/bun/bin/bun.exe --bun
run_suite "Deno" node_modules/deno/deno run -A

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED under: ${failed[*]}"
  exit 1
fi
echo "passed under Node 20, Node 24, Bun and Deno"
