import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
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
