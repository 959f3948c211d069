// A pool's two projections as instances of the GEMM generator:
//
//   up    h = act(x·W_gateᵀ + b_gate) ⊙ (x·W_upᵀ + b_up)   (gated)   or act(x·W_upᵀ + b_up)
//   down  y = w_slot · (h·W_downᵀ + b_down)                  (routed)  or Σ_e h_e·W_down,eᵀ + Σ_e b_down,e (shared)
//
// grouped (routed pools): rows are the expert-sorted slot list of dispatch-kernel.ts; up gathers
//   x rows in-kernel (token = slot / maxK) and writes h in sorted order [rows, I]; down reads h in
//   that order and writes y per slot [T·maxK, D], which the combine sums in slot order (no atomics).
// dense (shared pools, the dense fine-grain schedule): all N experts at once. The stacked [N, I, D]
//   up/gate tensors are exactly an [N·I, D] matrix, so up is one GEMM of N·I columns (h [T, N·I]);
//   down runs K over every expert's hidden units (k = e·I + i) and adds the summed bias.
//
// Weight chunks: a bound W holds the flattened rows [g0, g1) of [N·I, D] (up) or [N·D, I] (down);
// a pool above the binding limit costs one more dispatch per chunk. Dense down accumulates chunk
// c > 0 onto what chunk c − 1 wrote, over K restricted to the experts the chunk touches.

import type { ExpertAct } from "../../../compiler/ir/ir.js";
import type { StorageDtype } from "../../gpu/buffers.js";
import { isGatedAct } from "../../../stdlib/expert-kinds/index.js";
import { ACT_CODE } from "../wgsl-common.js";

export { isGatedAct };
import { GEMM_BM, GEMM_BN, gemmBlock, gemmKernel, type GemmKernel } from "./gemm-kernel.js";
import type { GemvShape } from "./gemv-loop.js";

export { GEMM_BM, GEMM_BN };

/** The activation applied elementwise (to the gate for gated kinds). */
export function innerAct(act: ExpertAct): keyof typeof ACT_CODE {
  return act === "swiglu" ? "silu" : act === "geglu" ? "gelu" : act;
}

export type FfnMode = "grouped" | "dense";

/** `shape`: the few-row loop instead of the tile (executor/gemm-shape.ts picks it). */
export function ffnUpKernel(o: { dtype: StorageDtype; gated: boolean; mode: FfnMode; shape?: GemvShape }): GemmKernel {
  return gemmKernel({
    ...(o.shape ? { shape: o.shape } : {}),
    name: `expert_gemm_up[${o.mode}${o.gated ? ",gated" : ""}]`,
    dtype: o.dtype,
    rows: o.mode === "grouped" ? { kind: "sorted", gather: true } : { kind: "tokens" },
    weights: "rows",
    a: "x",
    b: "w_up",
    gate: o.gated ? "w_gate" : undefined,
    epilogue: { bias: { buffer: "b_up", gate: o.gated ? "b_gate" : undefined }, act: true, store: { buffer: "h", row: "position", type: "st" } },
  });
}

export function ffnDownKernel(o: { dtype: StorageDtype; mode: FfnMode; shape?: GemvShape }): GemmKernel {
  if (o.mode === "grouped") {
    return gemmKernel({
      ...(o.shape ? { shape: o.shape } : {}),
      name: "expert_gemm_down[grouped]",
      dtype: o.dtype,
      rows: { kind: "sorted", gather: false },
      weights: "rows",
      a: "h",
      b: "w_down",
      epilogue: { bias: { buffer: "b_down" }, routingWeight: true, store: { buffer: "y", row: "id", type: "st" } },
    });
  }
  return gemmKernel({
    ...(o.shape ? { shape: o.shape } : {}),
    name: "expert_gemm_down[dense]",
    dtype: o.dtype,
    rows: { kind: "tokens" },
    weights: "expert-concat",
    a: "h",
    b: "w_down",
    epilogue: { bias: { buffer: "b_down_sum" }, accumulate: true, store: { buffer: "out", row: "id", type: "st" } },
  });
}

interface Chunk {
  g0: number;
  g1: number;
}

/** Up-projection uniforms and column tiles. N experts of I hidden units over D inputs; maxK slots per token (grouped). */
export function ffnUpParams(o: { D: number; I: number; N: number; maxK: number; mode: FfnMode; chunk: Chunk; act: ExpertAct; bias: boolean; shape?: GemvShape }): { values: Record<string, number>; ntn: number } {
  const common = { K: o.D, lda: o.D, out_off: 0, act: ACT_CODE[innerAct(o.act)], bias: o.bias ? 1 : 0, g0: o.chunk.g0, g1: o.chunk.g1 };
  if (o.mode === "grouped") {
    const ntn = Math.ceil(o.I / gemmBlock(o.shape).BN);
    return { values: { ...common, ntn, ld: o.I, ncols: o.I, maxK: o.maxK }, ntn };
  }
  // Dense: the tile grid covers the chunk's columns of the [N·I, D] matrix.
  const ntn = Math.ceil((o.chunk.g1 - o.chunk.g0) / gemmBlock(o.shape).BN);
  return { values: { ...common, ntn, ld: o.N * o.I, rows: 0, w_off: 0, b_off: 0, a_off: 0 }, ntn };
}

/** Down-projection uniforms and column tiles; `first`: the first weight chunk (dense: later chunks accumulate). */
export function ffnDownParams(o: { D: number; I: number; N: number; mode: FfnMode; chunk: Chunk; first: boolean; bias: boolean; shape?: GemvShape }): { values: Record<string, number>; ntn: number } {
  const ntn = Math.ceil(o.D / gemmBlock(o.shape).BN);
  const { g0, g1 } = o.chunk;
  if (o.mode === "grouped") {
    return { values: { ntn, lda: o.I, ld: o.D, out_off: 0, K: o.I, ncols: o.D, g0, g1, bias: o.bias ? 1 : 0 }, ntn };
  }
  // Only the experts whose rows [e·D, e·D + D) meet the chunk contribute; the summed bias once.
  const K = o.N * o.I;
  const kLo = Math.floor(g0 / o.D) * o.I;
  const kHi = Math.min(K, (Math.floor((g1 - 1) / o.D) + 1) * o.I);
  return {
    values: { ntn, lda: K, ld: o.D, out_off: 0, rows: 0, ncols: o.D, g0, g1, I: o.I, k_lo: kLo, k_hi: kHi, bias: o.bias && o.first ? 1 : 0, accumulate: o.first ? 0 : 1 },
    ntn,
  };
}
