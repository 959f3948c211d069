// Which loop of the GEMM generator a dense product takes: the 16 × 64 tile, or for a plan of at
// most GEMV_MAX_ROWS rows (decode steps, small batches, the --last-logits head) the few-row
// `gemv` loop, with vec4 loads whenever K, the row strides and the offsets allow them.
//
// Measured on lavapipe (bench/RESULTS.md, "Decode GEMV"): at one row, [1, 1024] × [32000, 1024]
// takes 1.3 s tiled and 69 ms as a 4-lane, 2-column vec4 GEMV (the plain read kernel: 68 ms);
// at 16 rows the GEMV is still ~2.6× the tile there. On GPUs the lane count is not measured yet
// (no GPU machine was lent): 16 lanes per column, so each half-warp reads 256 contiguous bytes
// of a weight row — the usual coalesced GEMV layout; `moec tune` (issue 16) is to replace both.

import { isCpuAdapter } from "../gpu/adapter-class.js";
import type { GpuContext } from "../gpu/device.js";
import { GEMV_MAX_ROWS, type GemvShape } from "../kernels/gemm/gemv-loop.js";

/** Rows per workgroup of a few-row GEMM (more rows at once measured slower on lavapipe: 8 vs 4). */
const GEMV_ROWS_PER_GROUP = 4;

/**
 * The shape for a product over at most `rows` rows, or undefined for the tile. `words`: every
 * element count the vec4 loads divide by 4 (K, A's row stride and offset, B's offset, …).
 */
export function denseGemmShape(gpu: GpuContext, rows: number, words: readonly number[]): GemvShape | undefined {
  if (rows > GEMV_MAX_ROWS) return undefined;
  const cpu = isCpuAdapter(gpu.adapterInfo);
  return {
    kind: "gemv",
    rows: Math.min(GEMV_ROWS_PER_GROUP, 2 ** Math.ceil(Math.log2(Math.max(1, rows)))),
    lanes: cpu ? 4 : 16,
    cols: 2,
    vec4: words.every((n) => n % 4 === 0),
  };
}
