// The search `moec tune` runs: every shape class's candidates measured on its problem
// (gemm-problem.ts, measure.ts), the fastest that computes the fallback's answer chosen, and the
// whole recorded as a TuningTable for this adapter and moec version; then the schedule step
// (schedule-search.ts) with those GEMM shapes, whose crossovers go in the same table.

import type { IrProgram } from "../../compiler/ir/ir.js";
import { adapterLinearLayout, groupedGemmShape, linearGemmShape } from "../executor/gemm-shape.js";
import type { GpuContext } from "../gpu/device.js";
import { denseCandidates, groupedCandidates } from "./candidates.js";
import { denseProblem, groupedProblem, problemRunner, type GemmProblem } from "./gemm-problem.js";
import { measureCandidates } from "./measure.js";
import { measureSchedules } from "./schedule-search.js";
import type { ScheduleClass } from "./schedule-table.js";
import { K_CLASSES, ROW_CLASSES, type ShapeClass } from "./shape-class.js";
import { fromGemvShape, shapeName, type TunedShape } from "./tuned-shape.js";
import { keyOf, TUNING_FORMAT, type TuningEntry, type TuningTable } from "./tuning-table.js";

export interface TuneOptions {
  /** Fewer candidates, smaller problems, fewer repetitions. */
  quick: boolean;
  /** Compiles a problem's `.moe` source (the runtime has no compiler). */
  compile(source: string): IrProgram;
  /** The moec version recorded in the table's key. */
  version: string;
  /** Progress (a terminal's status line): class i of n, candidate j of m. */
  progress?(text: string): void;
  /** Only these GEMM classes (tests); default all. */
  classes?: readonly ShapeClass[];
  /** Only these pool classes of the schedule step (tests; [] skips it); default all of `quick`'s. */
  poolClasses?: readonly ScheduleClass[];
}

interface Plan {
  problem: GemmProblem;
  candidates: TunedShape[];
}

/** What gemm-shape.ts picks with no table: the baseline every choice is measured against. */
function fallbackOf(gpu: GpuContext, problem: GemmProblem, grouped: boolean): TunedShape {
  const ctx = { gpu, gemmLoops: "auto" as const, gemmWeights: "auto" as const, tuning: undefined };
  const cap = 2 ** Math.ceil(Math.log2(problem.tokens));
  // A dense class's problem is a `linear`: its default is the adapter's weight layout's fixed shape.
  return fromGemvShape(grouped ? groupedGemmShape(ctx, [problem.K]) : linearGemmShape(ctx, adapterLinearLayout(ctx), cap, [problem.K]));
}

export function searchPlans(gpu: GpuContext, quick: boolean): Plan[] {
  const plans: Plan[] = [];
  for (const r of ROW_CLASSES) {
    for (const k of K_CLASSES) {
      const problem = denseProblem(r, k, quick);
      plans.push({ problem, candidates: denseCandidates(r, fallbackOf(gpu, problem, false), quick) });
    }
  }
  for (const k of K_CLASSES) {
    const problem = groupedProblem(k, quick);
    plans.push({ problem, candidates: groupedCandidates(fallbackOf(gpu, problem, true), quick) });
  }
  return plans;
}

export async function runTuning(gpu: GpuContext, o: TuneOptions): Promise<TuningTable> {
  const plans = searchPlans(gpu, o.quick).filter((p) => !o.classes || o.classes.includes(p.problem.cls));
  const entries: Record<ShapeClass, TuningEntry> = {};
  for (const [i, { problem, candidates }] of plans.entries()) {
    const measured = await measureCandidates(candidates, problemRunner(gpu, problem, o.compile), {
      warmup: o.quick ? 1 : 2,
      reps: o.quick ? 3 : 7,
      rtol: 1e-3,
      atol: 1e-4,
      margin: 0.05,
      onCandidate: (s, j, n) => o.progress?.(`moec tune: ${problem.cls} (${i + 1}/${plans.length}), ${shapeName(s)} (${j + 1}/${n})`),
    });
    const fallback = measured.candidates[0]!;
    entries[problem.cls] = { shape: measured.best.shape, ms: measured.best.ms, fallback: fallback.shape, fallbackMs: fallback.ms!, problem: problem.label, candidates: measured.candidates };
  }
  const table: TuningTable = { moec_tuning: TUNING_FORMAT, key: keyOf(gpu.adapterInfo, o.version), clock: gpu.features.timestamps ? "gpu-timestamps" : "wall-clock", measured: new Date().toISOString(), entries, schedules: {} };
  table.schedules = await measureSchedules(gpu, { quick: o.quick, compile: o.compile, gemms: table, ...(o.poolClasses ? { classes: o.poolClasses } : {}), ...(o.progress ? { progress: o.progress } : {}) });
  return table;
}
