import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts", "plugins/*/tests/**/*.test.ts", "prettier-plugin-moe/tests/**/*.test.ts", "vscode-extension/tests/**/*.test.ts"],
    testTimeout: 60_000,
    // Debug checks on in every test: e.g. the driver verifies each lowered IR (compiler/ir/verify.ts).
    env: { MOEC_DEBUG: "1" },
    hookTimeout: 120_000,
    // GPU tests share one lavapipe device per file; files run in parallel processes, so keep that small.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
