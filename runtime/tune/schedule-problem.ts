// The pool classes `moec tune`'s schedule step measures (schedule-search.ts): a routed SwiGLU pool
// of each grain (coarse: 8 experts top-2; fine: 64 experts top-6; all: 8 experts, every token to
// every expert) at a small and a larger width, and how one schedule of one runs: an executor
// forced to that schedule (ExecutorOptions.fineSchedule), inputs resident, timed like the GEMM
// problems (GPU timestamps where the adapter has them, else wall clock around run + read-back).

import type { IrProgram } from "../../compiler/ir/ir.js";
import { createExecutor } from "../executor/executor.js";
import type { GpuContext } from "../gpu/device.js";
import { fillNormal, randomWeights, xoshiro128ss } from "../weights/random-weights.js";
import type { CandidateRun, OpenCandidate } from "./measure.js";
import { poolClassOf, POOL_WIDTHS, SCHEDULE_GRAINS, type PoolSchedule, type PoolWidth, type ScheduleClass, type ScheduleGrain } from "./schedule-table.js";
import type { TuningTable } from "./tuning-table.js";

export interface PoolProblem {
  cls: ScheduleClass;
  grain: ScheduleGrain;
  experts: number;
  k: number;
  dim: number;
  hidden: number;
  source: string;
  /** The schedules compared (dense only where every expert sees every token). */
  schedules: PoolSchedule[];
  label: string;
}

const DIM: Record<PoolWidth, number> = { small: 128, large: 512 };

export function poolProblem(grain: ScheduleGrain, width: PoolWidth): PoolProblem {
  const dim = DIM[width];
  // Coarse experts wider than the model (Mixtral's I ≈ 3.5 D), fine ones narrower (DeepSeek's).
  const { experts, k, hidden } = grain === "coarse" ? { experts: 8, k: 2, hidden: 2 * dim } : grain === "fine" ? { experts: 64, k: 6, hidden: dim / 2 } : { experts: 8, k: 8, hidden: dim / 2 };
  const source = `layer tune_pool(x: [T, D], D = ${dim}, N = ${experts}, I = ${hidden}) {\n  experts E[N] = ffn(hidden = I)\n  router r = linear |> softmax |> topk(${k})\n  return moe(x, r, E)\n}`;
  const schedules: PoolSchedule[] = grain === "all" ? ["token", "expert", "dense"] : ["token", "expert"];
  return { cls: poolClassOf(grain, width), grain, experts, k, dim, hidden, source, schedules, label: `D ${dim}, ${experts} × ffn(${hidden}), top-${k}` };
}

/** The classes measured: every grain at both widths, `quick` the small width only. */
export function poolProblems(quick: boolean): PoolProblem[] {
  return SCHEDULE_GRAINS.flatMap((g) => (quick ? (["small"] as const) : POOL_WIDTHS).map((w) => poolProblem(g, w)));
}

/** The token counts swept: 1, 2, 4, … up to 64 (`quick`) or 256. */
export const sweepTokens = (quick: boolean): number[] => Array.from({ length: quick ? 7 : 9 }, (_, i) => 2 ** i);

/** One executor per schedule of the problem, each run at any T ≤ maxTokens on the same inputs. */
export async function openSchedules(gpu: GpuContext, problem: PoolProblem, compile: (source: string) => IrProgram, maxTokens: number, gemms: TuningTable | undefined): Promise<Map<PoolSchedule, { run(T: number): Promise<CandidateRun> } & Pick<OpenCandidate, "close">>> {
  const program = compile(problem.source);
  const weights = randomWeights(program, 7);
  const x = new Float32Array(maxTokens * problem.dim);
  fillNormal(x, 1, xoshiro128ss(11));
  const name = program.inputs[0]!.name;
  const out = program.outputs[0]!.name;
  const timestamps = gpu.features.timestamps;
  const opened = new Map<PoolSchedule, { run(T: number): Promise<CandidateRun>; close(): void }>();
  try {
    for (const s of problem.schedules) {
      const exec = await createExecutor(gpu, program, weights, { tuning: gemms ?? null, fineSchedule: s });
      opened.set(s, {
        async run(T) {
          const inputs = new Map([[name, x.subarray(0, T * problem.dim)]]);
          const t0 = performance.now();
          const y = (await exec.run(inputs, T, timestamps ? { profile: true } : {})).get(out)!;
          const wall = performance.now() - t0;
          const gpuNs = exec.lastRunInfo?.gpuNs;
          return { output: y, ms: timestamps && gpuNs !== undefined ? gpuNs / 1e6 : wall };
        },
        close: () => exec.dispose(),
      });
    }
  } catch (e) {
    for (const o of opened.values()) o.close();
    throw e;
  }
  return opened;
}
