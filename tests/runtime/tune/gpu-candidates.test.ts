// Every shape the search can pick (the candidates of every class, quick and full) computes the
// GEMM the float64 reference does, forced through a tuning table as the executor would get it from
// the cache: a `linear` with K = 36 (vec4, not a multiple of any tile's K step) and N = 37 at 1, 3
// and 67 rows, and routed SwiGLU experts over 37 tokens. Each dense run's workgroup count is the
// one its shape implies (so the table's shape is the one that ran).
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { allClasses } from "../../../runtime/tune/shape-class.js";
import { searchPlans } from "../../../runtime/tune/tune-search.js";
import { layoutOf, sameShape, shapeName, type TunedShape } from "../../../runtime/tune/tuned-shape.js";
import type { TuningTable } from "../../../runtime/tune/tuning-table.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { expectClose } from "../../helpers/numerics.js";
import { normals, rng } from "../../helpers/random.js";

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

function program(source: string): IrProgram {
  const c = compile({ source });
  expect(c.ok, c.formatDiagnostics()).toBe(true);
  return c.program!;
}

/** Every class forced to `shape` (the executor builds whatever class a plan's capacity falls in). */
function forcing(shape: TunedShape, prefix: string): TuningTable {
  const entries = Object.fromEntries(allClasses().filter((c) => c.startsWith(prefix)).map((c) => [c, { shape, ms: 0, fallback: shape, fallbackMs: 0, problem: "", candidates: [] }]));
  return { moec_tuning: 2, schedules: {}, key: { ...gpu.adapterInfo, moec: "" }, clock: "wall-clock", measured: "", entries };
}

function pickable(prefix: string): TunedShape[] {
  const all = [true, false].flatMap((quick) => searchPlans(gpu, quick).filter((p) => p.problem.cls.startsWith(prefix)).flatMap((p) => p.candidates));
  return all.filter((s, i) => all.findIndex((t) => sameShape(s, t)) === i);
}

describeGpu("every shape the tuning search can pick gives the float64 reference's answer", () => {
  itGpu("dense: linear K = 36, N = 37 (N = 40 over [K, N] weights) at 1, 3 and 67 rows", async () => {
    const shapes = pickable("dense/");
    expect(shapes.length).toBeGreaterThan(8);
    expect(shapes.some((s) => layoutOf(s) === "kn")).toBe(true);
    for (const shape of shapes) {
      // A [K, N] shape needs its weights held transposed, which needs N a multiple of 4.
      const kn = layoutOf(shape) === "kn";
      const N = kn ? 40 : 37;
      const p = program(`layer g(x: [T, D], D = 36) {\n  let y = linear(x, out = ${N})\n  return y\n}`);
      const w = randomWeights(p, 3);
      const e = await createExecutor(gpu, p, w, { tuning: forcing(shape, "dense/"), gemmWeights: kn ? "kn" : "nk" });
      try {
        for (const T of [1, 3, 67]) {
          const x = new Map([["x", normals(rng(T), T * 36)]]);
          const y = (await e.run(x, T)).get("y")!;
          expectClose(y, interpretReference(p, w, x, T).get("y")!, 2e-4, 1e-4, `${shapeName(shape)}, ${T} rows`);
          const [BM, BN] = shape.kind === "tile" ? [16, 64] : [shape.rows, (64 / shape.lanes) * shape.cols * (kn ? 4 : 1)];
          expect(e.lastRunInfo!.dispatchesPerOp.find((o) => o.kind === "linear")!.workgroups, shapeName(shape)).toBe(Math.ceil(N / BN) * Math.ceil(T / BM));
        }
      } finally {
        e.dispose();
      }
    }
  }, 240_000); // ~20 shapes, each its own pipelines (seconds apiece on a cold lavapipe)

  itGpu("the context's table (the CLI attaches the cache there) applies unless the option says null", async () => {
    const p = program(`layer g(x: [T, D], D = 36) {\n  let y = linear(x, out = 37)\n  return y\n}`);
    const w = randomWeights(p, 3);
    const x = new Map([["x", normals(rng(1), 36)]]);
    const workgroups = async (ctx: GpuContext, tuning?: null) => {
      const e = await createExecutor(ctx, p, w, tuning === null ? { tuning } : {});
      try {
        await e.run(x, 1);
        return e.lastRunInfo!.dispatchesPerOp.find((o) => o.kind === "linear")!.workgroups;
      } finally {
        e.dispose();
      }
    };
    const tuned = { ...gpu, tuning: forcing({ kind: "gemv", rows: 1, lanes: 1, cols: 2 }, "dense/") };
    expect(await workgroups(tuned)).toBe(Math.ceil(37 / 128)); // 64 threads × 2 columns per workgroup
    expect(await workgroups(tuned, null)).toBe(await workgroups(gpu));
    expect(await workgroups(gpu)).toBeGreaterThan(1);
  });

  itGpu("grouped: SwiGLU experts D = 36, I = 20, 4 experts, top-2, 37 tokens", async () => {
    const p = program(`layer m(x: [T, D], D = 36, N = 4, I = 20) {\n  experts E[N] = ffn(hidden = I)\n  router r = linear |> softmax |> topk(2)\n  return moe(x, r, E)\n}`);
    const w = randomWeights(p, 5);
    const T = 37;
    const x = new Map([["x", normals(rng(6), T * 36)]]);
    const out = p.outputs[0]!.name;
    const shapes = pickable("grouped/");
    expect(shapes.length).toBeGreaterThan(2);
    for (const shape of shapes) {
      const e = await createExecutor(gpu, p, w, { tuning: forcing(shape, "grouped/") });
      try {
        const y = (await e.run(x, T, { returnRouting: true })).get(out)!;
        const forced = new Map([...e.lastRouting!].map(([k, r]) => [k, Array.from({ length: T }, (_, t) => Array.from(r.ids.subarray(t * r.maxPerToken, t * r.maxPerToken + r.counts[t]!)))]));
        expectClose(y, interpretReference(p, w, x, T, { forcedSelection: forced }).get(out)!, 2e-4, 1e-4, shapeName(shape));
      } finally {
        e.dispose();
      }
    }
  });
});
