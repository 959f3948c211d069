// The search on the test adapter, one GEMM class and one pool class (a few pipelines): the table
// is keyed by the adapter and version, its entry's fallback is gemm-shape.ts's own choice and was
// measured first, the choice is an eligible candidate no slower than the fallback; the schedule
// step swept T = 1, 2, 4, … with both schedules timed, each winner the fastest unless grouped
// GEMMs are within 5 %, stopping after its first crossover; and the table survives its parser.
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import { adapterLinearLayout, linearGemmShape } from "../../../runtime/executor/gemm-shape.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { runTuning } from "../../../runtime/tune/tune-search.js";
import { fromGemvShape, layoutOf } from "../../../runtime/tune/tuned-shape.js";
import { parseTuningTable, serializeTuningTable } from "../../../runtime/tune/tuning-table.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

describeGpu("runTuning", () => {
  itGpu("measures one class against its fallback", async () => {
    const progress: string[] = [];
    const t = await runTuning(gpu, { quick: true, version: "test", compile: (source) => compile({ source }).program!, classes: ["dense/r1/k-small"], poolClasses: ["schedule/coarse/d-small"], progress: (s) => void progress.push(s) });
    expect(t.key).toEqual({ ...gpu.adapterInfo, moec: "test" });
    expect(t.clock).toBe(gpu.features.timestamps ? "gpu-timestamps" : "wall-clock");
    expect(Object.keys(t.entries)).toEqual(["dense/r1/k-small"]);
    const e = t.entries["dense/r1/k-small"]!;
    // The fallback is what a one-op `linear` gets without a table: its weights in the adapter's layout.
    const ctx = { gpu, gemmLoops: "auto", gemmWeights: "auto", tuning: undefined } as const;
    expect(e.fallback).toEqual(fromGemvShape(linearGemmShape(ctx, adapterLinearLayout(ctx), 1, [512])));
    expect(e.candidates.some((c) => layoutOf(c.shape) === "kn") && e.candidates.some((c) => layoutOf(c.shape) === "nk")).toBe(true);
    expect(e.candidates[0]!.shape).toEqual(e.fallback);
    expect(e.candidates[0]!.ms).toBe(e.fallbackMs);
    expect(e.candidates.every((c) => c.rejected === undefined && c.ms! > 0)).toBe(true);
    expect(e.candidates.some((c) => c.shape.kind === "tile")).toBe(true);
    expect(e.candidates).toContainEqual({ shape: e.shape, ms: e.ms });
    expect(e.ms).toBeLessThanOrEqual(e.fallbackMs);
    const pool = t.schedules["schedule/coarse/d-small"]!;
    expect(Object.keys(t.schedules)).toEqual(["schedule/coarse/d-small"]);
    expect(pool).toMatchObject({ experts: 8, k: 2, dim: 128, hidden: 256 });
    expect(pool.points.map((p) => p.tokens)).toEqual([1, 2, 4, 8, 16, 32, 64].slice(0, pool.points.length));
    for (const p of pool.points) {
      const { token, expert } = p.ms as { token: number; expert: number };
      expect(token > 0 && expert > 0).toBe(true);
      expect(p.winner).toBe(token * 1.05 <= expert ? "token" : "expert");
    }
    expect(pool.steps[0]).toEqual({ from: 1, schedule: pool.points[0]!.winner });
    // Each later step: a new winner at its T and the next one; the sweep stops right after the first.
    for (const st of pool.steps.slice(1)) {
      const i = pool.points.findIndex((p) => p.tokens === st.from);
      expect([pool.points[i]!.winner, pool.points[i + 1]!.winner]).toEqual([st.schedule, st.schedule]);
    }
    if (pool.steps.length > 1) expect(pool.points.at(-1)!.tokens).toBe(2 * pool.steps[1]!.from);
    else expect(pool.points).toHaveLength(7);
    expect(progress).toHaveLength(e.candidates.length + pool.points.length);
    expect(parseTuningTable(serializeTuningTable(t))).toEqual(t);
  });
});
