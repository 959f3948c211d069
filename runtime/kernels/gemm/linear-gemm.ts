// Dense GEMMs as instances of the GEMM generator:
//
//   linear       out[r, n] = Σ_k a[r, k] · W[w_off + n·K + k] (+ b[b_off + n])
//                the IR's `linear` (rows = T) and the unfused baseline's per-expert projections
//                (rows = that expert's token count, W a slice of the stacked pool tensor);
//                with `quant`, W is Q8_0/Q4_0/FP8 E4M3 blocks dequantized in the loads.
//   router gate  scr[goff + t·gstride + n] = Σ_k x[t, k] · W[n, k]   (f32 scores)
//                the router's gate GEMM on its own, for a matrix above the binding limit
//                (router-gate.ts): the fused router then runs with its GEMM off (R_PRECOMPUTED).
//
// The bound W may be a chunk holding rows [g0, g1): the grid covers only the chunk's columns, so a
// matrix above the binding limit costs one dispatch per chunk.

import type { StorageDtype } from "../../gpu/buffers.js";
import type { GpuBlockFormat } from "../../weights/quant/gpu-blocks.js";
import { grid2D } from "../wgsl-common.js";
import { GEMM_BM, gemmBlock, gemmKernel, type GemmKernel } from "./gemm-kernel.js";
import type { GemvShape } from "./gemv-loop.js";

export { GEMM_BM as LINEAR_BM };

/** `residual`: the variant that adds a residual input `res` laid out like `out` (attention's output
 *  projection fused with the `h + attn` after it). `quant`: W bound as Q8_0/Q4_0/FP8 E4M3 blocks (`weight`
 *  the values words, `weight_scale` the scales; a vec4 gemv shape). */
export function linearKernel(dtype: StorageDtype, residual = false, shape?: GemvShape, quant?: GpuBlockFormat): GemmKernel {
  return gemmKernel({
    ...(shape ? { shape } : {}),
    ...(quant ? { quant } : {}),
    name: residual ? "linear+residual" : "linear",
    dtype,
    rows: { kind: "tokens" },
    weights: "rows",
    a: "a",
    b: "weight",
    epilogue: { bias: { buffer: "b" }, ...(residual ? { residual: { buffer: "res" } } : {}), store: { buffer: "out", row: "id", type: "st" } },
  });
}

export function routerGateKernel(dtype: StorageDtype, shape?: GemvShape): GemmKernel {
  return gemmKernel({
    ...(shape ? { shape } : {}),
    name: "router-gate",
    dtype,
    rows: { kind: "tokens" },
    weights: "rows",
    a: "x",
    b: "weight",
    epilogue: { store: { buffer: "scr", row: "id", type: "f32" } },
  });
}

/** Column tiles of a chunk of rows [g0, g1) (the grid is tiles × ⌈rows / BM⌉). */
export const chunkTiles = (g0: number, g1: number, shape?: GemvShape): number => Math.ceil((g1 - g0) / gemmBlock(shape).BN);

/** The grid of a dense GEMM over T rows: `ntn` column tiles × ⌈T / BM⌉ row tiles. */
export const denseGrid = (ntn: number, shape: GemvShape | undefined, maxDim: number) => (T: number) => grid2D(ntn * Math.ceil(T / gemmBlock(shape).BM), maxDim);

/** `linear` uniforms: rows (0: the run's T), N outputs of K inputs, the bound chunk [g0, g1) (default: all of N);
 *  `residual` for the residual variant (whether to add it); `ld`/`outOff` to write the columns into
 *  a wider output (row stride, first column); `lda`/`aOff` to read A as a column span of a wider one. */
export function linearParams(o: { rows: number; N: number; K: number; wOff?: number; bOff?: number; g0?: number; g1?: number; bias: boolean; residual?: boolean; ld?: number; outOff?: number; lda?: number; aOff?: number; shape?: GemvShape }): { values: Record<string, number>; ntn: number } {
  const g0 = o.g0 ?? 0;
  const g1 = Math.min(o.g1 ?? o.N, o.N);
  // A [K, N] chunk is addressed from its own start, in vec4 words of 4 columns.
  if (o.shape?.layout === "kn" && ((o.wOff ?? 0) !== 0 || (g1 - g0) % 4 !== 0 || o.K % 4 !== 0)) throw new Error(`internal: a [K, N] linear needs its own chunk buffer (w_off ${o.wOff ?? 0}) of a multiple of 4 columns (${g1 - g0}) and K (${o.K})`);
  const ntn = chunkTiles(g0, g1, o.shape);
  const values: Record<string, number> = { ntn, lda: o.lda ?? o.K, ld: o.ld ?? o.N, out_off: o.outOff ?? 0, rows: o.rows, K: o.K, g0, g1, w_off: o.wOff ?? 0, b_off: o.bOff ?? 0, a_off: o.aOff ?? 0, bias: o.bias ? 1 : 0 };
  if (o.residual !== undefined) values["residual"] = o.residual ? 1 : 0;
  return { values, ntn };
}

/** Router gate uniforms: scores of rows [g0, g1) of W [E, K] into scr at goff, row stride gstride. */
export function routerGateParams(o: { K: number; g0: number; g1: number; goff: number; gstride: number; shape?: GemvShape }): { values: Record<string, number>; ntn: number } {
  const ntn = chunkTiles(o.g0, o.g1, o.shape);
  return { values: { ntn, lda: o.K, ld: o.gstride, out_off: o.goff, rows: 0, K: o.K, g0: o.g0, g1: o.g1, w_off: 0, b_off: 0, a_off: 0 }, ntn };
}
