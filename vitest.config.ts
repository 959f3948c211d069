import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Every *.test.ts lives under one of these (the VS Code extension's and the Prettier package's
    // tests are in tests/editor/ and tests/compiler/format/, not in their packages).
    include: ["tests/**/*.test.ts", "plugins/*/tests/**/*.test.ts"],
    testTimeout: 60_000,
    // Is there a WebGPU adapter? Probed once; tests that need one say so (tests/helpers/gpu-context.ts),
    // are skipped without one, and the reporter ends the run with how many and why.
    globalSetup: ["tests/setup/gpu-probe.ts"],
    reporters: ["default", "./tests/setup/needs-reporter.ts"],
    // Debug checks on in every test: e.g. the driver verifies each lowered IR (compiler/ir/verify.ts).
    // MOEC_TUNING off: no test reads the developer's GEMM tuning cache (runtime/tune/); tests of it pass their own.
    env: { MOEC_DEBUG: "1", MOEC_TUNING: "off" },
    hookTimeout: 120_000,
    // GPU tests share one lavapipe device per file; files run in parallel processes, so keep that small.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
