import { defineConfig } from "vitest/config";

// The suite runs under Node, Bun and Deno (scripts/test.sh); modules resolve with the running
// runtime's export condition, as they do when the product runs there.
const runtimeCondition = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

export default defineConfig({
  resolve: { conditions: [runtimeCondition, "import", "default"] },
  ssr: { resolve: { conditions: [runtimeCondition, "import", "default"] } },
  test: {
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
