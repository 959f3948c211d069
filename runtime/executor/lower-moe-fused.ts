// Fused lowering of a routed pool (`moe`) and of a shared pool (`shared`).
//
//   moe:    router ─► dispatch ─► GEMM1 (+act) ─► GEMM2 (×weight) ─► combine      5 dispatches
//           (+1 GEMM1 and +1 GEMM2 per extra weight chunk; nothing read back; counts and
//            cursors zeroed by clearBuffer before the pass)
//   shared: GEMM1 dense over N·I hidden units ─► GEMM2 dense (Σ over experts)     2 dispatches

import type { IrOp, IrPool } from "../../compiler/ir/ir.js";
import { COMBINE_WG, combineKernel } from "../kernels/combine-kernel.js";
import { isGatedAct } from "../kernels/gemm/ffn-gemms.js";
import { type BuildContext, type Lowering, record, type Step } from "./build-context.js";
import { denseDownSteps, denseUpSteps, type FfnWeights, groupedFfnSteps, sortSlots } from "./ffn-steps.js";
import { elementwiseGrid } from "./grids.js";
import { ffnTensorNames, isFfnLike } from "./pool-view.js";
import { routeSlots } from "./route-slots.js";
import { bytesPer } from "../gpu/buffers.js";
import { expertWeightLayout } from "./gemm-shape.js";

type MoeOp = Extract<IrOp, { op: "moe" }>;
type SharedOp = Extract<IrOp, { op: "shared" }>;

/** The FFN kernels run ffn pools and, through pool-view.ts, atom and lowrank pools. */
export function checkFfnPool(pool: IrPool, where: string): void {
  if (!isFfnLike(pool)) {
    throw new Error(`${where}: expert kind '${pool.kind}' of pool '${pool.key}' is not implemented on the GPU yet (the reference interpreter has it)`);
  }
}

/** Pool tensors, chunked to the binding limit (atom/lowrank pools under their FFN roles). */
/** `matrices` false: only the biases (the token path's block form uploads the matrices itself). */
export function poolWeights(b: BuildContext, pool: IrPool, matrices = true, layout: "kn" | "nk" = "nk"): FfnWeights {
  const { key, count: N, hidden: I, dim: D } = pool;
  const gated = isGatedAct(pool.act);
  const what = (t: string): string => `pool '${key}' ${t}`;
  const local = (name: string): string => name.slice(key.length + 1);
  const n = ffnTensorNames(pool);
  if (!n) throw new Error(`internal: pool '${key}' (${pool.kind}) has no FFN view`);
  const none = { name: "", rows: 0, rowLen: 0, chunks: [] };
  // `kn`: each expert's matrices transposed ([D, I] up and gate, [I, D] down), whole experts a
  // chunk — where one expert fits a binding (else [N, K], whose chunks may cut an expert).
  if (layout === "kn" && matrices && I * D * bytesPer(b.dtype) <= b.weights.maxBindingBytes) {
    const t = (name: string, rows: number, rowLen: number, w: string) => b.weights.transposedExperts(name, N, rows, rowLen, what(w))!;
    return { ...biases(), up: t(n.up, I, D, n.what.up), gate: gated ? t(n.gate, I, D, n.what.gate) : undefined, down: t(n.down, D, I, n.what.down), layout: "kn" };
  }
  return {
    ...biases(),
    up: matrices ? b.weights.chunked(n.up, N * I, D, what(n.what.up)) : none,
    gate: gated && matrices ? b.weights.chunked(n.gate, N * I, D, what(n.what.gate)) : undefined,
    down: matrices ? b.weights.chunked(n.down, N * D, I, what(n.what.down)) : none,
    layout: "nk",
  };
  function biases() {
    const bias = n!.bias;
    return {
      biasDown: bias?.down,
      bUp: bias ? b.weights.whole(bias.up, [N, I], what(`${local(bias.up)} [N, I]`)) : b.dummy(),
      bGate: bias && gated ? b.weights.whole(bias.gate, [N, I], what(`${local(bias.gate)} [N, I]`)) : b.dummy(),
      bDown: bias ? b.weights.whole(bias.down, [N, D], what(`${local(bias.down)} [N, D]`)) : b.dummy(),
    };
  }
}

export async function lowerMoeFused(b: BuildContext, op: MoeOp, index: number, name: string): Promise<Lowering> {
  checkFfnPool(op.pool, `moe '${name}'`);
  // Routing (every §5 stage, plugin stages, expert choice, statistics, state): lower-router.ts.
  const routed = await routeSlots(b, op, name);
  // The grouped GEMMs are the only reader of the expert matrices here (gemm-shape.ts, expertWeightLayout).
  const experts = await expertCentricSteps(b, op, routed, name, expertWeightLayout(b, op.pool.dim, op.pool.hidden));
  return {
    op: index,
    kind: "moe",
    name,
    clears: [...routed.clears, ...experts.clears],
    encode(rec, T) {
      routed.prepare(T);
      for (const s of routed.steps) record(rec, s, T);
      for (const s of experts.steps) record(rec, s, T);
    },
    ...routed.lowering,
  };
}

/** The routing result a pool lowering consumes: per token count [cap], ids and weights [cap·maxK]; per expert count [E]. */
export interface RoutedSlots {
  tokCount: GPUBuffer;
  ids: GPUBuffer;
  wts: GPUBuffer;
  expertCount: GPUBuffer;
  maxK: number;
}

/**
 * The expert-centric half of a routed ffn-like pool (everything after the router):
 * dispatch ─► GEMM1 (+act) ─► GEMM2 (×weight) ─► combine, 4 dispatches (+2 per extra weight chunk).
 * `clears` must be zeroed at the start of every run.
 */
/** `layout` `kn`: the expert matrices held transposed per expert (only where nothing else reads them: lowerMoeFused). */
export async function expertCentricSteps(b: BuildContext, op: MoeOp, routed: RoutedSlots, name: string, layout: "kn" | "nk" = "nk"): Promise<{ steps: Step[]; clears: GPUBuffer[] }> {
  const { pool } = op;
  checkFfnPool(pool, `moe '${name}'`);
  const { tokCount, ids, wts, expertCount, maxK } = routed;
  const D = pool.dim;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const sort = await sortSlots(b, { E: pool.count, maxK, expertCount, tokCount, ids }, name);
  const h = b.storage(sort.slots.rowsCap * pool.hidden, `${name}.h`);
  const y = b.storage(b.cap * maxK * D, `${name}.y`);
  const out = b.value(op.out);
  const gemms = await groupedFfnSteps(b, pool, poolWeights(b, pool, true, layout), { x: b.value(op.x), wts, h, y, slots: sort.slots, maxK });
  const combine = await b.step(combineKernel(b.dtype), { D, maxK }, { tok_count: tokCount, y, out }, (T) => elementwiseGrid(T * D, COMBINE_WG, maxDim));
  return { steps: [sort.step, ...gemms, combine], clears: sort.clears };
}

export async function lowerSharedFused(b: BuildContext, op: SharedOp, index: number, name: string): Promise<Lowering> {
  const { pool } = op;
  checkFfnPool(pool, `shared '${name}'`);
  const h = b.storage(b.cap * pool.count * pool.hidden, `${name}.h`);
  const w = poolWeights(b, pool);
  const steps = [
    ...(await denseUpSteps(b, pool, w, { x: b.value(op.x), h }, pool.bias)),
    ...(await denseDownSteps(b, pool, w, { h, out: b.value(op.out), biasSum: w.biasDown ? b.weights.biasSum(pool, w.biasDown) : undefined })),
  ];
  return {
    op: index,
    kind: "shared",
    name,
    clears: [],
    encode(rec, T) {
      for (const s of steps) record(rec, s, T);
    },
  };
}
