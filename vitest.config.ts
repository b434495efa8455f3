import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { defineConfig } from "vitest/config";

// The suite runs under Node, Bun and Deno (scripts/test.sh); modules resolve with the running
// runtime's export condition, as they do when the product runs there.
const runtimeCondition = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

// Every `tunnel open` records itself in $XDG_STATE_HOME/tunnel (the manager): the tunnels the
// suite starts are recorded in a directory of this run's, never in the user's own.
// The config is read again in each worker: they inherit the directory made the first time.
process.env.TUNNEL_TEST_STATE_HOME ??= fs.mkdtempSync(path.join(os.tmpdir(), "tunnel-test-state-"));
const stateHome = process.env.TUNNEL_TEST_STATE_HOME;

export default defineConfig({
  resolve: { conditions: [runtimeCondition, "import", "default"] },
  ssr: { resolve: { conditions: [runtimeCondition, "import", "default"] } },
  test: {
    env: { XDG_STATE_HOME: stateHome },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: "interop",
          include: ["test/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // the interop suites start real daemons; run files one at a time on 2 cores
          fileParallelism: false,
        },
      },
    ],
  },
});
