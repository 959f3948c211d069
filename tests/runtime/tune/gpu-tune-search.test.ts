// The search on the test adapter, one class (a few pipelines): the table is keyed by the adapter
// and version, its entry's fallback is gemm-shape.ts's own choice and was measured first, the
// choice is an eligible candidate no slower than the fallback, and the table survives its parser.
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import { denseGemmShape } from "../../../runtime/executor/gemm-shape.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { runTuning } from "../../../runtime/tune/tune-search.js";
import { fromGemvShape } from "../../../runtime/tune/tuned-shape.js";
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
    const t = await runTuning(gpu, { quick: true, version: "test", compile: (source) => compile({ source }).program!, classes: ["dense/r1/k-small"], progress: (s) => void progress.push(s) });
    expect(t.key).toEqual({ ...gpu.adapterInfo, moec: "test" });
    expect(t.clock).toBe(gpu.features.timestamps ? "gpu-timestamps" : "wall-clock");
    expect(Object.keys(t.entries)).toEqual(["dense/r1/k-small"]);
    const e = t.entries["dense/r1/k-small"]!;
    expect(e.fallback).toEqual(fromGemvShape(denseGemmShape({ gpu, gemmLoops: "auto", tuning: undefined }, 1, [512])));
    expect(e.candidates[0]!.shape).toEqual(e.fallback);
    expect(e.candidates[0]!.ms).toBe(e.fallbackMs);
    expect(e.candidates.every((c) => c.rejected === undefined && c.ms! > 0)).toBe(true);
    expect(e.candidates.some((c) => c.shape.kind === "tile")).toBe(true);
    expect(e.candidates).toContainEqual({ shape: e.shape, ms: e.ms });
    expect(e.ms).toBeLessThanOrEqual(e.fallbackMs);
    expect(progress).toHaveLength(e.candidates.length);
    expect(parseTuningTable(serializeTuningTable(t))).toEqual(t);
  });
});
