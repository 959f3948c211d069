// Which fused lowering runs a pool, from its kind's GPU form and schedule (pool-view.ts): kinds
// scheduled on grouped GEMMs (ffn) the grouped-GEMM path (lower-moe-fused.ts), fine and null experts
// lower-moe-fine.ts, heterogeneous pools lower-moe-mixed.ts.

import type { IrOp } from "../../compiler/ir/ir.js";
import type { BuildContext, Lowering } from "./build-context.js";
import { lowerMoeFused, lowerSharedFused } from "./lower-moe-fused.js";
import { type FineSchedule, lowerMoeFine, lowerSharedNull, poolUsesBlocks, selectsAll } from "./lower-moe-fine.js";
import { grainOf, nearestScheduleEntry } from "../tune/schedule-table.js";
import { lowerMoeMixed } from "./lower-moe-mixed.js";
import { ffnView, gpuForm, kindSchedule } from "./pool-view.js";

type MoeOp = Extract<IrOp, { op: "moe" }>;
type SharedOp = Extract<IrOp, { op: "shared" }>;

export function lowerRoutedPool(b: BuildContext, op: MoeOp, index: number, name: string, schedule: FineSchedule = "auto"): Promise<Lowering> {
  if (op.pool.kind === "mixed") return lowerMoeMixed(b, op, index, name);
  // A decode step (one row per sequence) takes the token-centric path under `auto`: no dispatch
  // sort and no 16-row tile per expert for one row (bench/RESULTS.md, "ffn pools at small T" and
  // "Decode GEMV").
  // Experts kept as blocks (weightFormat) are read by the token-centric kernels only, at every T.
  if (schedule === "auto" && gpuForm(op.pool) === "ffn" && poolUsesBlocks(b, ffnView(op.pool))) schedule = "token";
  if (schedule === "auto" && (b.generation?.mode === "decode" || b.generation?.mode === "batch" || b.generation?.mode === "group")) schedule = "token";
  // A plan of one row (a plain run of T = 1) is a decode step too: one row per selected expert.
  if (schedule === "auto" && b.cap === 1 && gpuForm(op.pool) === "ffn") schedule = "token";
  // ffn experts: where `moec tune` measured the pool's grain, its crossovers pick the schedule per
  // run (lower-moe-fine.ts, pickSchedule); else the grouped GEMMs unless fineSchedule forces another.
  const measured = schedule === "auto" && kindSchedule(op.pool) === "expert" && gpuForm(op.pool) === "ffn" && nearestScheduleEntry(b.tuning?.schedules, grainOf(op.pool.count, selectsAll(op)), op.pool.dim) !== undefined;
  if (measured) return lowerMoeFine(b, { ...op, pool: ffnView(op.pool) }, index, name, "auto", true);
  if (kindSchedule(op.pool) === "expert" && gpuForm(op.pool) === "ffn" && (schedule === "auto" || schedule === "expert")) return lowerMoeFused(b, { ...op, pool: ffnView(op.pool) }, index, name);
  return lowerMoeFine(b, { ...op, pool: ffnView(op.pool) }, index, name, schedule);
}

export function lowerSharedPool(b: BuildContext, op: SharedOp, index: number, name: string): Promise<Lowering> {
  // A shared atom or lowrank pool is one dense FFN of N·R hidden units (pool-view.ts).
  if (op.pool.kind !== "mixed" && gpuForm(op.pool) !== "ffn") return lowerSharedNull(b, op, index, name);
  return lowerSharedFused(b, { ...op, pool: ffnView(op.pool) }, index, name);
}
