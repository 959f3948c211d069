// The steps every pool lowering shares, written once:
//
//   sortSlots        the dispatch kernel: the router's per-token selection → the expert-sorted slot
//                    list, padded to the GEMM row tile (routed ffn, fine expert-centric, mixed pools)
//   groupedFfnSteps  grouped GEMM up (+act) ─► grouped GEMM down (×routing weight) over sorted slots
//   denseUpSteps /   a pool as one dense FFN of N·I hidden units (shared pools, the dense fine-grain
//   denseDownSteps   schedule, which weighs h in between)
//
// Each GEMM is one dispatch per weight chunk (gemm/ffn-gemms.ts).

import type { IrPool } from "../../compiler/ir/ir.js";
import { DISPATCH_SLOTS_PER_WORKGROUP, dispatchKernel, dispatchParams, maxRowTiles } from "../kernels/dispatch-kernel.js";
import { ffnDownKernel, ffnDownParams, ffnUpKernel, ffnUpParams, GEMM_BM, isGatedAct } from "../kernels/gemm/ffn-gemms.js";
import { denseGrid } from "../kernels/gemm/linear-gemm.js";
import { grid2D } from "../kernels/wgsl-common.js";
import { denseGemmShape, groupedGemmShape, groupedKnShape } from "./gemm-shape.js";
import { gemmBlock } from "../kernels/gemm/gemm-kernel.js";
import type { BuildContext, Step } from "./build-context.js";
import type { ChunkedTensor } from "./weight-store.js";

/** The expert-sorted slot list of a routed pool (dispatch-kernel.ts), sized for the plan's capacity. */
export interface SortedSlots {
  sorted: GPUBuffer;
  tile_expert: GPUBuffer;
  tile_info: GPUBuffer;
  /** Row tiles for a run of T tokens (an upper bound: the GPU knows the real count). */
  tiles(T: number): number;
  /** Rows of the sorted list at the plan's capacity (buffers of per-row data are this long). */
  rowsCap: number;
}

/** The dispatch step; `clears` (the scatter cursor) must be zeroed at the start of every run. */
export async function sortSlots(
  b: BuildContext,
  r: { E: number; maxK: number; expertCount: GPUBuffer; tokCount: GPUBuffer; ids: GPUBuffer },
  name: string,
): Promise<{ step: Step; slots: SortedSlots; clears: GPUBuffer[] }> {
  const { E, maxK } = r;
  const u32 = 4;
  const tilesCap = maxRowTiles(b.cap * maxK, E, GEMM_BM);
  const cursor = b.storage(E, `${name}.cursor`, u32);
  const slots: SortedSlots = {
    sorted: b.storage(tilesCap * GEMM_BM, `${name}.sorted`, u32),
    tile_expert: b.storage(tilesCap, `${name}.tile_expert`, u32),
    tile_info: b.storage(4, `${name}.tile_info`, u32),
    tiles: (T) => maxRowTiles(T * maxK, E, GEMM_BM),
    rowsCap: tilesCap * GEMM_BM,
  };
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const step = await b.step(
    dispatchKernel(),
    dispatchParams(E, maxK, GEMM_BM),
    { expert_count: r.expertCount, tok_count: r.tokCount, ids: r.ids, cursor, sorted: slots.sorted, tile_expert: slots.tile_expert, tile_info: slots.tile_info },
    (T) => grid2D(Math.ceil((T * maxK) / DISPATCH_SLOTS_PER_WORKGROUP), maxDim),
  );
  return { step, slots, clears: [cursor] };
}

/** A pool's tensors under their FFN roles, chunked to the binding limit (pool-view.ts maps atom/lowrank). */
export interface FfnWeights {
  up: ChunkedTensor;
  gate: ChunkedTensor | undefined;
  down: ChunkedTensor;
  bUp: GPUBuffer;
  bGate: GPUBuffer;
  bDown: GPUBuffer;
  /** The down bias tensor's name, when the pool has biases (the dense path sums it over experts). */
  biasDown?: string;
  /** `kn`: up, gate and down held transposed per expert (WeightStore.transposedExperts); grouped GEMMs only. */
  layout?: "kn" | "nk";
}

/** Grouped up and down GEMMs of a routed pool over its sorted slots: h [rows, I] in sorted order, y [T·maxK, D] per slot. */
export async function groupedFfnSteps(
  b: BuildContext,
  pool: IrPool,
  w: FfnWeights,
  io: { x: GPUBuffer; wts: GPUBuffer; h: GPUBuffer; y: GPUBuffer; slots: SortedSlots; maxK: number },
): Promise<Step[]> {
  const { count: N, hidden: I, dim: D } = pool;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const { sorted, tile_expert, tile_info } = io.slots;
  const steps: Step[] = [];
  const gated = isGatedAct(pool.act);
  // A few-row design runs GEMM_BM / BM workgroups per sorted tile of GEMM_BM slots.
  const kn = w.layout === "kn";
  const upShape = kn ? groupedKnShape(I) : groupedGemmShape(b, [D]);
  const downShape = kn ? groupedKnShape(D) : groupedGemmShape(b, [I]);
  const perTile = (s: typeof upShape) => GEMM_BM / gemmBlock(s).BM;
  const up = ffnUpKernel({ dtype: b.dtype, gated, mode: "grouped", shape: upShape });
  for (let c = 0; c < w.up.chunks.length; c++) {
    const ch = w.up.chunks[c]!;
    const p = ffnUpParams({ D, I, N, maxK: io.maxK, mode: "grouped", chunk: ch, act: pool.act, bias: pool.bias, shape: upShape });
    const bufs: Record<string, GPUBuffer> = { x: io.x, sorted, tile_expert, tile_info, w_up: ch.buffer, b_up: w.bUp, h: io.h };
    if (gated) Object.assign(bufs, { w_gate: w.gate!.chunks[c]!.buffer, b_gate: w.bGate });
    steps.push(await b.step(up, p.values, bufs, (T) => grid2D(p.ntn * io.slots.tiles(T) * perTile(upShape), maxDim)));
  }
  const down = ffnDownKernel({ dtype: b.dtype, mode: "grouped", shape: downShape });
  for (const ch of w.down.chunks) {
    const p = ffnDownParams({ D, I, N, mode: "grouped", chunk: ch, first: true, bias: pool.bias, shape: downShape });
    const bufs = { h: io.h, sorted, tile_expert, tile_info, wts: io.wts, w_down: ch.buffer, b_down: w.bDown, y: io.y };
    steps.push(await b.step(down, p.values, bufs, (T) => grid2D(p.ntn * io.slots.tiles(T) * perTile(downShape), maxDim)));
  }
  return steps;
}

/** All N experts as one dense up GEMM: h [T, N·I] = act(x·W_gateᵀ + b) ⊙ (x·W_upᵀ + b). */
export async function denseUpSteps(b: BuildContext, pool: IrPool, w: FfnWeights, io: { x: GPUBuffer; h: GPUBuffer }, bias: boolean): Promise<Step[]> {
  const { count: N, hidden: I, dim: D } = pool;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const gated = isGatedAct(pool.act);
  const shape = denseGemmShape(b, b.cap, [D]);
  const up = ffnUpKernel({ dtype: b.dtype, gated, mode: "dense", shape });
  const steps: Step[] = [];
  for (let c = 0; c < w.up.chunks.length; c++) {
    const ch = w.up.chunks[c]!;
    const p = ffnUpParams({ D, I, N, maxK: 1, mode: "dense", chunk: ch, act: pool.act, bias, shape });
    const bufs: Record<string, GPUBuffer> = { x: io.x, w_up: ch.buffer, b_up: bias ? w.bUp : b.dummy(), h: io.h };
    if (gated) Object.assign(bufs, { w_gate: w.gate!.chunks[c]!.buffer, b_gate: bias ? w.bGate : b.dummy() });
    steps.push(await b.step(up, p.values, bufs, denseGrid(p.ntn, shape, maxDim)));
  }
  return steps;
}

/** The dense down GEMM: out [T, D] = Σ_e h_e·W_down,eᵀ (+ Σ_e b_down,e); weight chunks after the first accumulate. */
export async function denseDownSteps(b: BuildContext, pool: IrPool, w: FfnWeights, io: { h: GPUBuffer; out: GPUBuffer; biasSum: GPUBuffer | undefined }): Promise<Step[]> {
  const { count: N, hidden: I, dim: D } = pool;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  // K runs over N·I hidden units from a multiple of I: vec4 words need I % 4 = 0.
  const shape = denseGemmShape(b, b.cap, [I]);
  const down = ffnDownKernel({ dtype: b.dtype, mode: "dense", shape });
  const steps: Step[] = [];
  for (let c = 0; c < w.down.chunks.length; c++) {
    const ch = w.down.chunks[c]!;
    const p = ffnDownParams({ D, I, N, mode: "dense", chunk: ch, first: c === 0, bias: io.biasSum !== undefined, shape });
    const bufs = { h: io.h, w_down: ch.buffer, b_down_sum: io.biasSum ?? b.dummy(), out: io.out };
    steps.push(await b.step(down, p.values, bufs, denseGrid(p.ntn, shape, maxDim)));
  }
  return steps;
}
