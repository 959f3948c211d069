// `moec tune`'s schedule step: for each pool class (schedule-problem.ts) the schedules are run at
// T = 1, 2, 4, … — at each T every schedule once to warm up (its plan and pipelines are built
// there) with its output checked against the token-centric one's, then round-robin rounds of one
// run each, the median kept — and the winner at each T recorded. The expert-centric grouped GEMMs
// (the fixed rule's choice for a plain run) stay the winner unless another schedule is at least
// `margin` faster. A crossover is a new winner that holds at two token counts in a row (stepsOf);
// the sweep stops at the first one.

import type { IrProgram } from "../../compiler/ir/ir.js";
import type { GpuContext } from "../gpu/device.js";
import { median, outputMismatch } from "./measure.js";
import { openSchedules, poolProblems, sweepTokens, type PoolProblem } from "./schedule-problem.js";
import { stepsOf, type PoolSchedule, type ScheduleClass, type ScheduleEntry, type SchedulePoint } from "./schedule-table.js";
import type { TuningTable } from "./tuning-table.js";

export interface ScheduleSearchOptions {
  quick: boolean;
  compile(source: string): IrProgram;
  /** The GEMM shapes just measured, so the grouped and dense GEMMs run as a model's would. */
  gemms?: TuningTable;
  /** Only these classes (tests); default all of `quick`'s. */
  classes?: readonly ScheduleClass[];
  progress?(text: string): void;
}

/** The schedule the measured times choose: the fastest, unless the fallback (expert) is within `margin`. */
export function winnerOf(ms: Partial<Record<PoolSchedule, number>>, margin: number): PoolSchedule {
  const timed = Object.entries(ms).filter((e): e is [PoolSchedule, number] => e[1] !== undefined);
  if (timed.length === 0) throw new Error("internal: no schedule was timed");
  const [fastest, t] = timed.reduce((a, b) => (b[1] < a[1] ? b : a));
  const fallback = ms.expert;
  return fallback !== undefined && t * (1 + margin) > fallback ? "expert" : fastest;
}

/** Whether the sweep has seen its answer: a crossover (a new winner that held at two token counts in a row). */
export const crossoverClear = (points: readonly SchedulePoint[]): boolean => stepsOf(points).length > 1;

async function measureClass(gpu: GpuContext, problem: PoolProblem, o: ScheduleSearchOptions, classIndex: number, classCount: number): Promise<ScheduleEntry> {
  const tokens = sweepTokens(o.quick);
  const warmup = o.quick ? 1 : 2;
  const reps = o.quick ? 3 : 7;
  const runners = await openSchedules(gpu, problem, o.compile, tokens[tokens.length - 1]!, o.gemms);
  const points: SchedulePoint[] = [];
  try {
    for (const T of tokens) {
      o.progress?.(`moec tune: ${problem.cls} (${classIndex + 1}/${classCount}), T = ${T}`);
      const times = new Map<PoolSchedule, number[]>();
      const rejected: Partial<Record<PoolSchedule, string>> = {};
      let reference: Float32Array | undefined;
      for (const [s, r] of runners) {
        let first = await r.run(T);
        for (let w = 1; w < warmup; w++) first = await r.run(T);
        reference ??= first.output;
        const wrong = outputMismatch(first.output, reference, 1e-3, 1e-4);
        if (wrong) rejected[s] = wrong;
        else times.set(s, []);
      }
      for (let i = 0; i < reps; i++) for (const [s, ts] of times) ts.push((await runners.get(s)!.run(T)).ms);
      if (times.size === 0) throw new Error(`${problem.cls} at T = ${T}: the token-centric output is not finite (${rejected.token})`);
      const ms: Partial<Record<PoolSchedule, number>> = {};
      for (const [s, ts] of times) ms[s] = median(ts);
      points.push({ tokens: T, ms, winner: winnerOf(ms, 0.05), ...(Object.keys(rejected).length ? { rejected } : {}) });
      if (crossoverClear(points)) break;
    }
  } finally {
    for (const r of runners.values()) r.close();
  }
  return { experts: problem.experts, k: problem.k, dim: problem.dim, hidden: problem.hidden, problem: problem.label, steps: stepsOf(points), points };
}

/** Every class's sweep, as the table's `schedules`. */
export async function measureSchedules(gpu: GpuContext, o: ScheduleSearchOptions): Promise<Record<ScheduleClass, ScheduleEntry>> {
  const problems = poolProblems(o.quick).filter((p) => !o.classes || o.classes.includes(p.cls));
  const out: Record<ScheduleClass, ScheduleEntry> = {};
  for (const [i, p] of problems.entries()) out[p.cls] = await measureClass(gpu, p, o, i, problems.length);
  return out;
}
