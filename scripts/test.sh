#!/usr/bin/env bash
# The test command (README): install what is needed, then lint, type check and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
pnpm exec biome check .
pnpm exec tsc -p tsconfig.json --noEmit
pnpm exec vitest run
