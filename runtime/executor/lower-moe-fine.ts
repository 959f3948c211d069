// Fused lowering of routed pools of fine experts (atom, lowrank), null experts (identity, zero)
// and, when asked, ffn experts; and of shared null pools. Three schedules share one router:
//
//   token-centric (gather–dot–axpy; OmniMoE's "tail" path, PEER):
//     router ─► fine_dot (h = w·act(a·x) per token, slot, unit) ─► fine_axpy (out += h·b, slot order)
//     [─► fine_reduce when a token's slots are cut into chunks]          3–4 dispatches
//   expert-centric (OmniMoE's grouped schedule; the FFN kernels through pool-view.ts):
//     router ─► dispatch ─► grouped GEMM up ─► grouped GEMM down ─► combine   5 dispatches
//   dense (experts sharing their tokens as ONE group: dense selection or k = N):
//     router ─► dense GEMM up ─► weigh (routing weights) ─► dense GEMM down  4 dispatches
//
// None does per-expert work: the token-centric cost is T·k·R·D whatever N is, and the
// expert-centric one pads each expert's rows to the 16-row GEMM tile, which pays only when experts
// see many tokens each (T·k/N rows). `auto` picks per run (pickSchedule; docs/kernels.md, "Fine grains").
// identity: out = (Σ_s w_s)·x (router + 1 dispatch); zero: out = 0 (router only, for its statistics
// and routing read-back).

import type { IrOp } from "../../compiler/ir/ir.js";
import { FINE_AXPY_WG, FINE_SLOT_CHUNK, fineAxpyKernel, fineAxpyParams, fineReduceKernel } from "../kernels/fine-axpy.js";
import { FINE_WG, fineDotKernel, fineDotParams } from "../kernels/fine-gather-dot.js";
import { ELEMENTWISE_WG, scalarKernel, scalarParams } from "../kernels/elementwise-kernels.js";
import { innerAct, isGatedAct } from "../kernels/gemm/ffn-gemms.js";
import { ACT_CODE, grid2D } from "../kernels/wgsl-common.js";
import { type BuildContext, type Lowering, record, type Step } from "./build-context.js";
import { elementwiseGrid } from "./grids.js";
import { FINE_WEIGH_WG, fineWeighKernel } from "../kernels/fine-weigh.js";
import { denseDownSteps, denseUpSteps } from "./ffn-steps.js";
import { expertCentricSteps, poolWeights, type RoutedSlots } from "./lower-moe-fused.js";
import { ffnTensorNames, gpuForm, kindSchedule } from "./pool-view.js";
import type { IrPool } from "../../compiler/ir/ir.js";
import { routeSlots } from "./route-slots.js";
import { measuredSteps, scheduleAt, type ScheduleStep } from "../tune/schedule-table.js";

type MoeOp = Extract<IrOp, { op: "moe" }>;
type SharedOp = Extract<IrOp, { op: "shared" }>;

/**
 * Whether the token-centric path reads this routed pool's unit matrices (up/gate [N·R, D], down
 * [N·D, R]) as Q8_0/Q4_0/FP8 E4M3 blocks: the store has a block format and both D and R are whole blocks.
 * Such a pool runs token-centric at every T (lower-pools.ts), so no f32 copy is uploaded for the
 * grouped GEMMs.
 */
export function poolUsesBlocks(b: BuildContext, pool: IrPool): boolean {
  if (pool.kind === "mixed" || !ffnTensorNames(pool)) return false;
  return b.weights.blocksFor(pool.dim) !== undefined && b.weights.blocksFor(pool.hidden) !== undefined;
}

/** A schedule asked for (fineSchedule, `--schedule`) that a pool cannot run: bad input, not a bug. */
export class ScheduleUnsupportedError extends Error {
  override name = "ScheduleUnsupportedError";
}

/** How a routed pool is scheduled (atom/lowrank pools; ffn pools when forced); `auto` decides per run. */
export type FineSchedule = "auto" | "token" | "expert" | "dense";

/** `auto` uses the dense schedule for pools whose experts all see every token from this many tokens on. */
export const DENSE_MIN_TOKENS = 16;

/** Does the router give every token every expert (the experts share one token list)? */
export function selectsAll(op: MoeOp): boolean {
  const sel = op.router.stages.find((s) => s.role === "select");
  if (!sel) return false;
  if (sel.name === "dense") return true;
  return sel.name === "topk" && Number(sel.params["k"] ?? sel.params["0"]) === op.pool.count;
}

/**
 * The `auto` policy. With `measured` steps (the tuning table's crossovers for the pool's nearest
 * class, ffn pools only: measuredSteps in runtime/tune/schedule-table.ts), the step at T. Else the
 * fixed rule, from measurements on lavapipe (bench/RESULTS.md, "Fine grains"): for atom and
 * lowrank pools the token-centric path won at every size measured (up to 256 rows per expert and
 * rank 64), except when every expert sees every token, where one pair of dense GEMMs wins from
 * T = 16 on. ffn pools keep the expert-centric grouped GEMMs (lower-moe-fused.ts) unless forced.
 */
export function pickSchedule(schedule: FineSchedule, T: number, op: MoeOp, measured?: readonly ScheduleStep[]): "token" | "expert" | "dense" {
  if (schedule !== "auto") return schedule;
  if (measured) return scheduleAt(measured, T);
  if (kindSchedule(op.pool) === "expert") return "expert";
  return selectsAll(op) && T >= DENSE_MIN_TOKENS ? "dense" : "token";
}

/** `measured`: `auto` follows the tuning table's crossovers for this pool (lower-pools.ts found its class). */
export async function lowerMoeFine(b: BuildContext, op: MoeOp, index: number, name: string, schedule: FineSchedule = "auto", measured = false): Promise<Lowering> {
  const { pool } = op;
  if (pool.kind === "mixed") throw new Error(`internal: lowerMoeFine got a mixed pool`);
  const routed = await routeSlots(b, op, name);
  const { tokCount, ids, wts, maxK } = routed;
  const D = pool.dim;
  const R = pool.hidden;
  const cap = b.cap;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const x = b.value(op.x);
  const out = b.value(op.out);
  const clears = [...routed.clears];
  const form = gpuForm(pool);
  const weighted = form === "ffn";
  const crossovers = measured && schedule === "auto" ? measuredSteps(b.tuning?.schedules, { experts: pool.count, k: maxK, dim: D, selectsAll: selectsAll(op), denseAllowed: !pool.bias }) : undefined;
  // Which schedules some run of this plan (T ≤ cap) may use: those at T = 1, at cap and at each crossover below cap.
  const reach = [1, cap, ...(crossovers ?? []).map((s) => s.from).filter((t) => t <= cap)];
  const may = (s: "token" | "expert" | "dense"): boolean =>
    !weighted ? s === "token" : schedule === s || (schedule === "auto" && reach.some((T) => pickSchedule("auto", T, op, crossovers) === s));

  // Token-centric steps (also the whole story for identity and zero pools).
  const token: Step[] = [];
  if (form === "zero") {
    clears.push(out);
  } else if (may("token")) {
    const nc = Math.ceil(maxK / FINE_SLOT_CHUNK);
    const identity = form === "identity";
    let h = b.dummy();
    let bChunks: { buffer: GPUBuffer; g0: number; g1: number }[] = [{ buffer: b.dummy(), g0: 0, g1: 0 }];
    let bDown = b.dummy();
    const blocks = schedule === "token" && !identity && poolUsesBlocks(b, pool);
    if (blocks) {
      // The unit matrices as blocks (fine-gather-dot.ts / fine-axpy.ts `quant`); biases stay in the storage dtype.
      const n = ffnTensorNames(pool)!;
      const N = pool.count;
      const what = (t: string): string => `pool '${pool.key}' ${t}`;
      const gated = isGatedAct(pool.act);
      const up = b.weights.blocks(n.up, N * R, D, what(n.what.up), "routed");
      const gate = gated ? b.weights.blocks(n.gate, N * R, D, what(n.what.gate), "routed") : undefined;
      const down = b.weights.blocks(n.down, N * D, R, what(n.what.down), "routed");
      const w = poolWeights(b, pool, false);
      h = b.storage(cap * maxK * R, `${name}.h`, 4);
      const dot = fineDotKernel(b.dtype, true, up.format);
      for (let c = 0; c < up.chunks.length; c++) {
        const ch = up.chunks[c]!;
        const params = fineDotParams({ D, R, maxK, act: ACT_CODE[innerAct(pool.act)], gated, g0: ch.g0, g1: ch.g1, bias: pool.bias });
        const gc = gate?.chunks[c];
        const res = { x, tok_count: tokCount, ids, wts, a_up: ch.values, a_up_scale: ch.scales, a_gate: gc?.values ?? b.dummy(), a_gate_scale: gc?.scales ?? b.dummy(), b_up: w.bUp, b_gate: w.bGate, h };
        token.push(await b.step(dot, params, res, (T) => grid2D(Math.ceil((T * maxK * R) / FINE_WG), maxDim)));
      }
      const partial = nc > 1 || down.chunks.length > 1;
      const part = b.storage(partial ? cap * nc * D : 1, `${name}.partial`, 4);
      const axpy = fineAxpyKernel(b.dtype, down.format);
      for (let c = 0; c < down.chunks.length; c++) {
        const ch = down.chunks[c]!;
        const params = fineAxpyParams({ D, R, maxK, chunks: nc, mode: 0, g0: ch.g0, g1: ch.g1, partial, accumulate: c > 0, bias: pool.bias && c === 0 });
        const res = { x, tok_count: tokCount, ids, wts, h, b: ch.values, b_scale: ch.scales, b_down: w.bDown, out, part };
        token.push(await b.step(axpy, params, res, (T) => elementwiseGrid(T * nc * D, FINE_AXPY_WG, maxDim)));
      }
      if (partial) token.push(await b.step(fineReduceKernel(b.dtype), { D, nc }, { part, out }, (T) => elementwiseGrid(T * D, FINE_AXPY_WG, maxDim)));
    } else if (!identity) {
      const w = poolWeights(b, pool);
      h = b.storage(cap * maxK * R, `${name}.h`, 4);
      const gated = isGatedAct(pool.act);
      const dot = fineDotKernel(b.dtype, D % 4 === 0);
      for (let c = 0; c < w.up.chunks.length; c++) {
        const ch = w.up.chunks[c]!;
        const params = fineDotParams({ D, R, maxK, act: ACT_CODE[innerAct(pool.act)], gated, g0: ch.g0, g1: ch.g1, bias: pool.bias });
        const res = { x, tok_count: tokCount, ids, wts, a_up: ch.buffer, a_gate: gated ? w.gate!.chunks[c]!.buffer : b.dummy(), b_up: w.bUp, b_gate: w.bGate, h };
        token.push(await b.step(dot, params, res, (T) => grid2D(Math.ceil((T * maxK * R) / FINE_WG), maxDim)));
      }
      bChunks = w.down.chunks;
      bDown = w.bDown;
    }
    if (!blocks) {
      const partial = nc > 1 || bChunks.length > 1;
      // Never the shared dummy: a buffer may not be bound both read-only (h, b) and writable.
      const part = b.storage(partial ? cap * nc * D : 1, `${name}.partial`, 4);
      const axpy = fineAxpyKernel(b.dtype);
      for (let c = 0; c < bChunks.length; c++) {
        const ch = bChunks[c]!;
        const params = fineAxpyParams({ D, R, maxK, chunks: nc, mode: identity ? 1 : 0, g0: ch.g0, g1: ch.g1, partial, accumulate: c > 0, bias: pool.bias && c === 0 });
        const res = { x, tok_count: tokCount, ids, wts, h, b: ch.buffer, b_down: bDown, out, part };
        token.push(await b.step(axpy, params, res, (T) => elementwiseGrid(T * nc * D, FINE_AXPY_WG, maxDim)));
      }
      if (partial) {
        token.push(await b.step(fineReduceKernel(b.dtype), { D, nc }, { part, out }, (T) => elementwiseGrid(T * D, FINE_AXPY_WG, maxDim)));
      }
    }
  }

  // Expert-centric and dense steps, built only when a run may use them.
  let expert: Step[] | undefined;
  if (weighted && may("expert")) {
    const ec = await expertCentricSteps(b, op, routed, name);
    expert = ec.steps;
    clears.push(...ec.clears);
  }
  let dense: Step[] | undefined;
  if (weighted && may("dense")) {
    const ds = await denseSteps(b, op, routed, name);
    dense = ds.steps;
    clears.push(...ds.clears);
  }

  return {
    op: index,
    kind: "moe",
    name,
    clears,
    encode(rec, T) {
      routed.prepare(T);
      for (const s of routed.steps) record(rec, s, T);
      const pick = weighted ? pickSchedule(schedule, T, op, crossovers) : "token";
      const steps = (pick === "expert" && expert) || (pick === "dense" && dense) || token;
      for (const s of steps) record(rec, s, T);
    },
    ...routed.lowering,
  };
}

/**
 * The dense schedule (fine-weigh.ts): every unit of every expert for every token as two dense
 * GEMMs, the routing weights scattered in between. Exact for any selection; it pays only when the
 * experts share their tokens (dense selection, k near N). 3 dispatches after the router
 * (+1 per extra weight chunk of either GEMM).
 */
async function denseSteps(b: BuildContext, op: MoeOp, routed: RoutedSlots, name: string): Promise<{ steps: Step[]; clears: GPUBuffer[] }> {
  const { pool } = op;
  if (pool.bias) throw new ScheduleUnsupportedError(`moe over pool '${pool.key}': the dense schedule does not take expert biases; use the token or expert schedule (--schedule, fineSchedule)`);
  const { tokCount, ids, wts, maxK } = routed;
  const N = pool.count;
  const R = pool.hidden;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const h = b.storage(b.cap * N * R, `${name}.dense.h`);
  const hw = b.storage(b.cap * N * R, `${name}.dense.hw`);
  const out = b.value(op.out);
  const w = poolWeights(b, pool);
  const steps: Step[] = [...(await denseUpSteps(b, pool, w, { x: b.value(op.x), h }, false))];
  steps.push(
    await b.step(fineWeighKernel(b.dtype), { R, maxK, NR: N * R }, { tok_count: tokCount, ids, wts, h, hw }, (T) =>
      grid2D(Math.ceil((T * maxK * R) / FINE_WEIGH_WG), maxDim),
    ),
  );
  steps.push(...(await denseDownSteps(b, pool, w, { h: hw, out, biasSum: undefined })));
  return { steps, clears: [hw] };
}

/** Shared pools of null experts: identity → N·x (one dispatch), zero → 0 (a clear). */
export async function lowerSharedNull(b: BuildContext, op: SharedOp, index: number, name: string): Promise<Lowering> {
  const { pool } = op;
  const out = b.value(op.out);
  const steps: Step[] = [];
  const form = gpuForm(pool);
  if (form === "identity") {
    const D = pool.dim;
    const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
    steps.push(await b.step(scalarKernel(b.dtype), scalarParams("mul", pool.count, false, D), { x: b.value(op.x), out }, (T) => elementwiseGrid(T * D, ELEMENTWISE_WG, maxDim)));
  } else if (form !== "zero") {
    throw new Error(`internal: lowerSharedNull got a '${pool.kind}' pool`);
  }
  return {
    op: index,
    kind: "shared",
    name,
    clears: form === "zero" ? [out] : [],
    encode(rec, T) {
      for (const s of steps) record(rec, s, T);
    },
  };
}
