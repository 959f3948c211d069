// gemm-shape.ts with a tuning table: the table's choice for the product's class where it has one
// and the product has vec4 alignment; the fallback (the fixed guesses) otherwise; `gemmLoops: tile`
// over everything. The fallbacks themselves are checked in gpu-gemm-loops.test.ts.
import { expect, it } from "vitest";
import { denseGemmShape, groupedGemmShape } from "../../../runtime/executor/gemm-shape.js";
import type { TunedShape } from "../../../runtime/tune/tuned-shape.js";
import type { TuningTable } from "../../../runtime/tune/tuning-table.js";

const info = { vendor: "mesa", architecture: "", device: "", description: "llvmpipe (LLVM 15.0.6, 256 bits)" };

function table(entries: Record<string, TunedShape>): TuningTable {
  const e = (shape: TunedShape) => ({ shape, ms: 1, fallback: shape, fallbackMs: 1, problem: "", candidates: [] });
  return { moec_tuning: 2, schedules: {}, key: { ...info, moec: "0" }, clock: "wall-clock", measured: "", entries: Object.fromEntries(Object.entries(entries).map(([k, s]) => [k, e(s)])) };
}

const tuning = table({
  "dense/r1/k-small": { kind: "gemv", rows: 1, lanes: 16, cols: 4 },
  "dense/r9-64/k-large": { kind: "tile" },
  "grouped/k-small": { kind: "gemv", rows: 4, lanes: 1, cols: 2 },
});
type Ctx = Parameters<typeof denseGemmShape>[0];
const ctx = (t?: TuningTable, gemmLoops: "auto" | "tile" = "auto") => ({ gpu: { adapterInfo: info }, gemmLoops, tuning: t }) as unknown as Ctx;

it("a class the table has: its shape (vec4 on), the tile included", () => {
  expect(denseGemmShape(ctx(tuning), 1, [1024])).toEqual({ kind: "gemv", rows: 1, lanes: 16, cols: 4, vec4: true });
  expect(denseGemmShape(ctx(tuning), 64, [2048])).toBeUndefined();
  expect(groupedGemmShape(ctx(tuning), [512])).toEqual({ kind: "gemv", rows: 4, lanes: 1, cols: 2, vec4: true });
});

it("a class the table lacks, a product without vec4 alignment, or no table: the fallback", () => {
  const cpuFallbackMany = { kind: "gemv", rows: 8, lanes: 1, cols: 4, vec4: true };
  expect(denseGemmShape(ctx(tuning), 64, [1024])).toEqual(cpuFallbackMany); // dense/r9-64/k-small: not in the table
  expect(denseGemmShape(ctx(tuning), 2, [1024])).toEqual({ kind: "gemv", rows: 2, lanes: 4, cols: 2, vec4: true });
  expect(denseGemmShape(ctx(tuning), 1, [1022])).toEqual({ kind: "gemv", rows: 1, lanes: 4, cols: 2, vec4: false });
  expect(denseGemmShape(ctx(tuning), 1, [1024, 6])).toEqual({ kind: "gemv", rows: 1, lanes: 4, cols: 2, vec4: false });
  expect(groupedGemmShape(ctx(tuning), [2048])).toEqual(cpuFallbackMany);
  expect(denseGemmShape(ctx(undefined), 1, [1024])).toEqual({ kind: "gemv", rows: 1, lanes: 4, cols: 2, vec4: true });
});

it("gemmLoops tile overrides the table", () => {
  expect(denseGemmShape(ctx(tuning, "tile"), 1, [1024])).toBeUndefined();
  expect(groupedGemmShape(ctx(tuning, "tile"), [512])).toBeUndefined();
});
