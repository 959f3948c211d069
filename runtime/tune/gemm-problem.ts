// The problem each class is measured on, and how one candidate runs it: a one-op `linear` layer
// (dense classes) or a routed SwiGLU expert layer (grouped classes), built by the executor with a
// table that forces the candidate for that class (so the kernels measured are the ones a model
// gets), inputs resident, timed by GPU timestamps where the adapter has them, else wall clock
// around run + read-back. The runtime cannot compile `.moe` source, so the caller passes `compile`.

import type { IrProgram } from "../../compiler/ir/ir.js";
import { createExecutor } from "../executor/executor.js";
import type { GpuContext } from "../gpu/device.js";
import { fillNormal, randomWeights, xoshiro128ss } from "../weights/random-weights.js";
import type { OpenCandidate } from "./measure.js";
import { classRows, denseClassOf, groupedClassOf, type KClass, type RowClass, type ShapeClass } from "./shape-class.js";
import { layoutOf, type TunedShape } from "./tuned-shape.js";
import { keyOf, TUNING_FORMAT, type TuningTable } from "./tuning-table.js";

export interface GemmProblem {
  cls: ShapeClass;
  source: string;
  tokens: number;
  /** K of the class's GEMM (the grouped up GEMM's D). */
  K: number;
  /** rows × K × N, or the layer's sizes. */
  label: string;
}

/** K of each K class's problem (small: ≤ 1024, large: above). */
const K_OF: Record<KClass, number> = { small: 512, large: 2048 };

const linearSource = (K: number, N: number): string => `layer tune_linear(x: [T, D], D = ${K}) {\n  let y = linear(x, out = ${N})\n  return y\n}`;

export function denseProblem(r: RowClass, k: KClass, quick: boolean): GemmProblem {
  const K = K_OF[k];
  const N = quick ? 512 : 1024;
  const rows = r === "65+" && quick ? 128 : classRows(r);
  return { cls: denseClassOf(r, k), source: linearSource(K, N), tokens: rows, K, label: `${rows} × ${K} × ${N}` };
}

/** Grouped: D = K for the up GEMM's class; `small` keeps I = D (both GEMMs in the class), `large`
 *  a small I so the (untuned, fallback) down GEMM costs little beside the measured up GEMM. */
export function groupedProblem(k: KClass, quick: boolean): GemmProblem {
  const D = K_OF[k];
  const I = k === "small" ? D : 256;
  const T = quick ? 64 : 128;
  const source = `layer tune_experts(x: [T, D], D = ${D}, N = 8, I = ${I}) {\n  experts E[N] = ffn(hidden = I)\n  router r = linear |> softmax |> topk(2)\n  return moe(x, r, E)\n}`;
  return { cls: groupedClassOf(k), source, tokens: T, K: D, label: `T ${T}, D ${D}, I ${I}, 8 experts, top-2` };
}

/** A table with one entry: what the executor is given to build a candidate. */
export function forcingTable(gpu: GpuContext, cls: ShapeClass, shape: TunedShape): TuningTable {
  const entry = { shape, ms: 0, fallback: shape, fallbackMs: 0, problem: "", candidates: [] };
  return { moec_tuning: TUNING_FORMAT, key: keyOf(gpu.adapterInfo, ""), clock: "wall-clock", measured: "", entries: { [cls]: entry }, schedules: {} };
}

/** Ready-to-run state of one problem: its program, weights and inputs (shared by its candidates). */
export function problemRunner(gpu: GpuContext, problem: GemmProblem, compile: (source: string) => IrProgram): (shape: TunedShape) => Promise<OpenCandidate> {
  const program = compile(problem.source);
  const weights = randomWeights(program, 7);
  const D = program.values[program.inputs[0]!.value]!.width;
  const x = new Float32Array(problem.tokens * D);
  fillNormal(x, 1, xoshiro128ss(11));
  const inputs = new Map([[program.inputs[0]!.name, x]]);
  const out = program.outputs[0]!.name;
  const timestamps = gpu.features.timestamps;
  return async (shape) => {
    // A [K, N] shape needs the weights held transposed; every other shape reads them as [N, K].
    const exec = await createExecutor(gpu, program, weights, { tuning: forcingTable(gpu, problem.cls, shape), gemmWeights: layoutOf(shape) });
    return {
      async run() {
        const t0 = performance.now();
        const y = (await exec.run(inputs, problem.tokens, timestamps ? { profile: true } : {})).get(out)!;
        const wall = performance.now() - t0;
        const gpuNs = exec.lastRunInfo?.gpuNs;
        return { output: y, ms: timestamps && gpuNs !== undefined ? gpuNs / 1e6 : wall };
      },
      close: () => exec.dispose(),
    };
  };
}
