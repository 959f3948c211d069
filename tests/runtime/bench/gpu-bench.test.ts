// The fused-vs-unfused benchmark runs both executors on the same device and reports comparable
// numbers. Lavapipe timings are not asserted (CPU Vulkan, shared machine); structure is.

import { afterAll, expect, it } from "vitest";
import { benchWeights, moeLayerProgram } from "../../../runtime/bench/bench-programs.js";
import { benchmarkProgram } from "../../../runtime/bench/benchmark.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

describeGpu("benchmarkProgram", () => {
  it("times a DeepSeek-style layer fused and unfused and reports FLOPs, dispatches and the ratio", async () => {
    const program = moeLayerProgram({ D: 32, E: 8, I: 32, k: 2, shared: 1 });
    const r = await benchmarkProgram(ctx, program, benchWeights(program), 32, { warmup: 1, iterations: 3 });
    console.log(
      `bench (D 32, E 8, I 32, k 2, 1 shared, T 32, ${r.timing}): fused ${r.fused.msPerRun.toFixed(2)} ms / ${r.fused.dispatches} dispatches, ` +
        `unfused ${r.unfused.msPerRun.toFixed(2)} ms / ${r.unfused.dispatches} dispatches, ratio ${r.ratio.toFixed(2)}× (min ${r.minRatio.toFixed(2)}×)`,
    );
    // FLOPs: router 2·T·E·D + (T·k + T·1 shared) · 2·D·I·3 (SwiGLU: gate, up, down).
    expect(r.flopsPerRun).toBe(2 * 32 * 8 * 32 + (32 * 2 + 32) * 2 * 32 * 32 * 3);
    expect(r.fused.dispatches).toBe(5 + 2 + 1);
    expect(r.fused.commandBuffers).toBe(1);
    expect(r.fused.readbacks).toBe(1);
    expect(r.unfused.readbacks).toBe(2);
    expect(r.unfused.dispatches).toBeGreaterThan(r.fused.dispatches);
    for (const side of [r.fused, r.unfused]) {
      expect(side.msPerRun).toBeGreaterThan(0);
      expect(side.gflops).toBeCloseTo(r.flopsPerRun / (side.msPerRun * 1e6), 6);
      expect(side.tokensPerSec).toBeCloseTo((32 / side.msPerRun) * 1000, 6);
    }
    expect(Number.isFinite(r.ratio)).toBe(true);
  });
});
