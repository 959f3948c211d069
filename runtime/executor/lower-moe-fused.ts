// Fused lowering of a routed pool (`moe`) and of a shared pool (`shared`).
//
//   moe:    router ─► dispatch ─► GEMM1 (+act) ─► GEMM2 (×weight) ─► combine      5 dispatches
//           (+1 GEMM1 and +1 GEMM2 per extra weight chunk; nothing read back; counts and
//            cursors zeroed by clearBuffer before the pass)
//   shared: GEMM1 dense over N·I hidden units ─► GEMM2 dense (Σ over experts)     2 dispatches

import type { IrOp, IrPool } from "../../compiler/ir/ir.js";
import { COMBINE_WG, combineKernel } from "../kernels/combine-kernel.js";
import { DISPATCH_SLOTS_PER_WORKGROUP, dispatchKernel, dispatchParams, maxRowTiles } from "../kernels/dispatch-kernel.js";
import { expertGemmDownKernel, expertGemmDownParams } from "../kernels/expert-gemm-down.js";
import { expertGemmUpKernel, expertGemmUpParams, GEMM_BM, GEMM_BN, isGated } from "../kernels/expert-gemm-up.js";
import { grid2D } from "../kernels/wgsl-common.js";
import { type BuildContext, type Lowering, record, type Step } from "./build-context.js";
import { elementwiseGrid } from "./grids.js";
import { lowerRouter } from "./lower-router.js";
import { ffnTensorNames, isFfnLike } from "./pool-view.js";

type MoeOp = Extract<IrOp, { op: "moe" }>;
type SharedOp = Extract<IrOp, { op: "shared" }>;

/** The FFN kernels run ffn pools and, through pool-view.ts, atom and lowrank pools. */
export function checkFfnPool(pool: IrPool, where: string): void {
  if (!isFfnLike(pool)) {
    throw new Error(`${where}: expert kind '${pool.kind}' of pool '${pool.key}' is not implemented on the GPU yet (the reference interpreter has it)`);
  }
}

/** Pool tensors, chunked to the binding limit (atom/lowrank pools under their FFN roles). */
export function poolWeights(b: BuildContext, pool: IrPool) {
  const { key, count: N, hidden: I, dim: D } = pool;
  const gated = isGated(pool.act);
  const what = (t: string): string => `pool '${key}' ${t}`;
  const n = ffnTensorNames(pool);
  if (!n) throw new Error(`internal: pool '${key}' (${pool.kind}) has no FFN view`);
  return {
    up: b.weights.chunked(n.up, N * I, D, what(n.what.up)),
    gate: gated ? b.weights.chunked(n.gate, N * I, D, what(n.what.gate)) : undefined,
    down: b.weights.chunked(n.down, N * D, I, what(n.what.down)),
    bUp: pool.bias ? b.weights.whole(`${key}.b_up`, [N, I], what("b_up [N, I]")) : b.dummy(),
    bGate: pool.bias && gated ? b.weights.whole(`${key}.b_gate`, [N, I], what("b_gate [N, I]")) : b.dummy(),
    bDown: pool.bias ? b.weights.whole(`${key}.b_down`, [N, D], what("b_down [N, D]")) : b.dummy(),
  };
}

export async function lowerMoeFused(b: BuildContext, op: MoeOp, index: number, name: string): Promise<Lowering> {
  const { router, pool } = op;
  checkFfnPool(pool, `moe '${name}'`);
  if (router.numExperts !== pool.count) throw new Error(`moe '${name}': router has ${router.numExperts} experts, pool ${pool.count}`);
  // Routing (every §5 stage, plugin stages, expert choice, statistics, state): lower-router.ts.
  const rl = await lowerRouter(b, router, b.value(op.x), name, b.routing);
  const { maxK, tokCount, ids, wts, expertCount } = rl;
  const steps: Step[] = [...rl.steps];
  const experts = await expertCentricSteps(b, op, { tokCount, ids, wts, expertCount, maxK }, name);
  steps.push(...experts.steps);

  return {
    op: index,
    kind: "moe",
    name,
    clears: [...rl.clears, ...experts.clears],
    encode(rec, T) {
      rl.prepare(T);
      for (const s of steps) record(rec, s, T);
    },
    routing: { key: router.key, maxPerToken: maxK, tokCount, ids, wts },
    routerStats: rl.stats,
    routerState: rl.state,
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
export async function expertCentricSteps(b: BuildContext, op: MoeOp, routed: RoutedSlots, name: string): Promise<{ steps: Step[]; clears: GPUBuffer[] }> {
  const { pool } = op;
  checkFfnPool(pool, `moe '${name}'`);
  const { tokCount, ids, wts, expertCount, maxK } = routed;
  const E = pool.count;
  const D = pool.dim;
  const I = pool.hidden;
  const cap = b.cap;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const tilesCap = maxRowTiles(cap * maxK, E, GEMM_BM);
  const tiles = (T: number): number => maxRowTiles(T * maxK, E, GEMM_BM);
  const u32 = 4;
  const cursor = b.storage(E, `${name}.cursor`, u32);
  const sorted = b.storage(tilesCap * GEMM_BM, `${name}.sorted`, u32);
  const tileExpert = b.storage(tilesCap, `${name}.tile_expert`, u32);
  const tile_info = b.storage(4, `${name}.tile_info`, u32);
  const h = b.storage(tilesCap * GEMM_BM * I, `${name}.h`);
  const y = b.storage(cap * maxK * D, `${name}.y`);
  const out = b.value(op.out);
  const x = b.value(op.x);

  const steps: Step[] = [];
  steps.push(
    await b.step(
      dispatchKernel(),
      {
        params: b.uniform(dispatchParams(E, maxK, GEMM_BM), `${name}.dispatch.params`),
        expert_count: expertCount,
        tok_count: tokCount,
        ids,
        cursor,
        sorted,
        tile_expert: tileExpert,
        tile_info,
      },
      (T) => grid2D(Math.ceil((T * maxK) / DISPATCH_SLOTS_PER_WORKGROUP), maxDim),
    ),
  );
  const w = poolWeights(b, pool);
  const upSpec = expertGemmUpKernel({ dtype: b.dtype, gated: isGated(pool.act), mode: "grouped" });
  for (let c = 0; c < w.up.chunks.length; c++) {
    const ch = w.up.chunks[c]!;
    const res: Record<string, GPUBuffer> = {
      params: b.uniform(expertGemmUpParams({ D, I, N: E, maxK, mode: "grouped", g0: ch.g0, g1: ch.g1, act: pool.act, bias: pool.bias }), `${name}.up.params`),
      x,
      sorted,
      tile_expert: tileExpert,
      tile_info,
      w_up: ch.buffer,
      b_up: w.bUp,
      b_gate: w.bGate,
      h,
    };
    if (w.gate) res["w_gate"] = w.gate.chunks[c]!.buffer;
    const ntn = Math.ceil(I / GEMM_BN);
    steps.push(await b.step(upSpec, res, (T) => grid2D(ntn * tiles(T), maxDim)));
  }
  const downSpec = expertGemmDownKernel({ dtype: b.dtype, mode: "grouped" });
  for (const ch of w.down.chunks) {
    const res: Record<string, GPUBuffer> = {
      params: b.uniform(
        expertGemmDownParams({ D, I, N: E, maxK, mode: "grouped", g0: ch.g0, g1: ch.g1, accumulate: false, bias: pool.bias }),
        `${name}.down.params`,
      ),
      h,
      sorted,
      tile_expert: tileExpert,
      tile_info,
      wts,
      w_down: ch.buffer,
      b_down: w.bDown,
      y,
    };
    const ntn = Math.ceil(D / GEMM_BN);
    steps.push(await b.step(downSpec, res, (T) => grid2D(ntn * tiles(T), maxDim)));
  }
  steps.push(
    await b.step(combineKernel(b.dtype), { D, maxK }, { tok_count: tokCount, y, out }, (T) => elementwiseGrid(T * D, COMBINE_WG, maxDim)),
  );

  return { steps, clears: [cursor] };
}

export async function lowerSharedFused(b: BuildContext, op: SharedOp, index: number, name: string): Promise<Lowering> {
  const { pool } = op;
  checkFfnPool(pool, `shared '${name}'`);
  const N = pool.count;
  const D = pool.dim;
  const I = pool.hidden;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const h = b.storage(b.cap * N * I, `${name}.h`);
  const out = b.value(op.out);
  const w = poolWeights(b, pool);
  const steps: Step[] = [];
  const upSpec = expertGemmUpKernel({ dtype: b.dtype, gated: isGated(pool.act), mode: "dense" });
  for (let c = 0; c < w.up.chunks.length; c++) {
    const ch = w.up.chunks[c]!;
    const res: Record<string, GPUBuffer> = {
      params: b.uniform(expertGemmUpParams({ D, I, N, maxK: 1, mode: "dense", g0: ch.g0, g1: ch.g1, act: pool.act, bias: pool.bias }), `${name}.up.params`),
      x: b.value(op.x),
      w_up: ch.buffer,
      b_up: w.bUp,
      b_gate: w.bGate,
      h,
    };
    if (w.gate) res["w_gate"] = w.gate.chunks[c]!.buffer;
    const ntn = Math.ceil((N * I) / GEMM_BN);
    steps.push(await b.step(upSpec, res, (T) => grid2D(ntn * Math.ceil(T / GEMM_BM), maxDim)));
  }
  const downSpec = expertGemmDownKernel({ dtype: b.dtype, mode: "dense" });
  const bSum = pool.bias ? b.weights.biasSum(pool) : b.dummy();
  for (let c = 0; c < w.down.chunks.length; c++) {
    const ch = w.down.chunks[c]!;
    const res: Record<string, GPUBuffer> = {
      params: b.uniform(
        expertGemmDownParams({ D, I, N, maxK: 1, mode: "dense", g0: ch.g0, g1: ch.g1, accumulate: c > 0, bias: pool.bias }),
        `${name}.down.params`,
      ),
      h,
      w_down: ch.buffer,
      b_down_sum: bSum,
      out,
    };
    const ntn = Math.ceil(D / GEMM_BN);
    steps.push(await b.step(downSpec, res, (T) => grid2D(ntn * Math.ceil(T / GEMM_BM), maxDim)));
  }
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
