// Which loop of the GEMM generator a product takes: the 16 × 64 workgroup-memory tile, or the
// register-tiled `gemv` loop (gemv-loop.ts: each thread its own rows × columns of accumulators,
// vec4 loads straight from storage, no workgroup memory).
//
// Measured on lavapipe (bench/RESULTS.md, "Decode GEMV" and "The register tile on a CPU
// adapter"): at one row, [1, 1024] × [32000, 1024] takes 1.3 s tiled and 69 ms as a 4-lane,
// 2-column vec4 GEMV (the plain read kernel: 68 ms); at 64 and 256 rows an 8-row × 4-column
// register tile per thread is 2.7× and 4× faster than the tile. A CPU adapter runs workgroup
// invocations as SIMD lanes and pays for every barrier, so there the register tile is used at
// every size where vec4 loads apply. On GPUs the tile stays for more than GEMV_MAX_ROWS rows and
// the few-row shape (16 lanes per column, so each half-warp reads 256 contiguous bytes of a weight
// row) is not measured yet — no GPU machine was lent; issue 16's tuning is to replace both guesses.

import { isCpuAdapter } from "../gpu/adapter-class.js";
import { bytesPer } from "../gpu/buffers.js";
import type { BuildContext } from "./build-context.js";
import { GEMV_MAX_ROWS, type GemvShape } from "../kernels/gemm/gemv-loop.js";
import { tunedGemmShape } from "../tune/tuned-gemm-shape.js";
import { denseClass, denseClassOf, groupedClass } from "../tune/shape-class.js";
import { layoutOf } from "../tune/tuned-shape.js";

/** Rows per workgroup of a few-row GEMM (more rows at once measured slower on lavapipe: 8 vs 4). */
const GEMV_ROWS_PER_GROUP = 4;

/** The register tile for many rows on a CPU adapter: 8 rows × 4 columns of vec4 accumulators per thread. */
const CPU_REGISTER_TILE: GemvShape = { kind: "gemv", rows: 8, lanes: 1, cols: 4, vec4: true };

const vec4Fits = (words: readonly number[]): boolean => words.every((n) => n % 4 === 0);

/**
 * The shape for a dense product over at most `rows` rows, or undefined for the tile. `words`:
 * every element count the vec4 loads divide by 4 (K, A's row stride and offset, B's offset, …).
 */
export function denseGemmShape(b: Pick<BuildContext, "gpu" | "gemmLoops" | "tuning">, rows: number, words: readonly number[]): GemvShape | undefined {
  if (b.gemmLoops === "tile") return undefined;
  // The measured choice first (runtime/tune/; words[0] is K at every call site).
  const tuned = tunedGemmShape(b.tuning, denseClass(rows, words[0] ?? 0), vec4Fits(words));
  if (tuned) return tuned.shape;
  const cpu = isCpuAdapter(b.gpu.adapterInfo);
  const vec4 = vec4Fits(words);
  if (rows > GEMV_MAX_ROWS) return cpu && vec4 ? CPU_REGISTER_TILE : undefined;
  return {
    kind: "gemv",
    rows: Math.min(GEMV_ROWS_PER_GROUP, 2 ** Math.ceil(Math.log2(Math.max(1, rows)))),
    lanes: cpu ? 4 : 16,
    cols: 2,
    vec4,
  };
}

/** The register tile over [K, N] weights: 8 rows × 2 groups of 4 columns above GEMV_MAX_ROWS (the
 *  measured best at 1024³), else the run's rows up to 4 (1, 2 or 4) × 2 groups. */
function knShape(rows: number): GemvShape {
  return { kind: "gemv", rows: rows > GEMV_MAX_ROWS ? 8 : Math.min(GEMV_ROWS_PER_GROUP, 2 ** Math.ceil(Math.log2(Math.max(1, rows)))), lanes: 1, cols: 2, vec4: true, layout: "kn" };
}

/**
 * Whether `weight` ([N, K]) is held transposed for a linear GEMM (ExecutorOptions.gemmWeights:
 * `auto` is [K, N] on a CPU adapter, where kn-loop.ts's register tile beats every [N, K] shape,
 * bench/RESULTS.md "Transposed weights"; [N, K] on GPUs, unmeasured): the layout resolves
 * to `kn`, four rows fit the binding limit, the vec4 words divide (`words` as for denseGemmShape, with N), and no embedding gathers
 * rows of the same tensor (a tied LM head keeps the table's [N, K], one copy for both).
 */
export function linearWeightLayout(b: Pick<BuildContext, "gpu" | "gemmLoops" | "gemmWeights" | "tuning" | "program" | "weights" | "dtype">, weight: string, N: number, words: readonly number[]): "kn" | "nk" {
  if (adapterLinearLayout(b) === "nk" || !vec4Fits([N, ...words])) return "nk";
  // Transposed chunks are 4 rows wide at least; where 4 rows exceed the binding limit, [N, K].
  if (4 * (words[0] ?? 0) * bytesPer(b.dtype) > b.weights.maxBindingBytes) return "nk";
  const gathered = b.program.ops.some((op) => op.op === "embed" && `${op.weight}.weight` === weight);
  return gathered ? "nk" : "kn";
}

/** The layout the executor's options give linear weights: `auto` takes the layout of the tuning
 *  table's choice for many-row products with K ≤ 1024 (prefill, where a GEMM's time is; a table
 *  measured with [K, N] candidates), else [K, N] on a CPU adapter and [N, K] elsewhere. */
export function adapterLinearLayout(b: Pick<BuildContext, "gpu" | "gemmLoops" | "gemmWeights" | "tuning">): "kn" | "nk" {
  if (b.gemmLoops === "tile" || b.gemmWeights === "nk") return "nk";
  if (b.gemmWeights === "kn") return "kn";
  const prefill = b.tuning?.entries[denseClassOf("65+", "small")];
  if (prefill && prefill.candidates.some((c) => layoutOf(c.shape) === "kn")) return layoutOf(prefill.shape);
  return isCpuAdapter(b.gpu.adapterInfo) ? "kn" : "nk";
}

/** The shape of a linear GEMM whose weight is held in `layout` (linearWeightLayout): the tuning
 *  table's fastest shape over that layout for the class, else the fixed choice. */
export function linearGemmShape(b: Pick<BuildContext, "gpu" | "gemmLoops" | "tuning">, layout: "kn" | "nk", rows: number, words: readonly number[]): GemvShape | undefined {
  if (layout === "nk") return denseGemmShape(b, rows, words);
  const tuned = tunedGemmShape(b.tuning, denseClass(rows, words[0] ?? 0), true, "kn");
  return tuned ? tuned.shape : knShape(rows);
}

/** Whether a routed pool's expert matrices are held [K, N] per expert for its grouped GEMMs (the
 *  caller's lowering reads them only there: lower-moe-fused.ts, not the token-centric or dense
 *  schedules, which read the same rows as [N, K]): the executor's linear layout resolves to `kn`, D
 *  and I are multiples of 4 and at least 256 (a [K, N] workgroup covers 256 or 512 columns). */
export function expertWeightLayout(b: Pick<BuildContext, "gpu" | "gemmLoops" | "gemmWeights" | "tuning">, D: number, I: number): "kn" | "nk" {
  return adapterLinearLayout(b) === "kn" && vec4Fits([D, I]) && D >= 256 && I >= 256 ? "kn" : "nk";
}

/** The [K, N] shape of a grouped GEMM with `ncols` output columns: 8 rows × 2 groups, 1 group below 512. */
export const groupedKnShape = (ncols: number): GemvShape => ({ kind: "gemv", rows: 8, lanes: 1, cols: ncols >= 512 ? 2 : 1, vec4: true, layout: "kn" });

/** The shape for a grouped expert GEMM over sorted slot tiles (undefined: the tile). */
export function groupedGemmShape(b: Pick<BuildContext, "gpu" | "gemmLoops" | "tuning">, words: readonly number[]): GemvShape | undefined {
  const tuned = b.gemmLoops === "tile" ? undefined : tunedGemmShape(b.tuning, groupedClass(words[0] ?? 0), vec4Fits(words));
  if (tuned) return tuned.shape;
  return b.gemmLoops !== "tile" && isCpuAdapter(b.gpu.adapterInfo) && vec4Fits(words) ? CPU_REGISTER_TILE : undefined;
}

/** The shape of a GEMM over block-quantized weights (quant-gemv-loop.ts has no tiled form): the
 *  few-row shape up to GEMV_MAX_ROWS rows, the 8-row register tile above on every adapter. On a
 *  CPU adapter 2 lanes × 4 columns (bench/RESULTS.md, "Fused dequantization": the dequantization
 *  is ALU work there, and 4 columns share each A word: at [1, 4096] × [4096, 4096] Q4_0 ran
 *  11–19 ms at 4 × 2, 9–12.6 at 1 × 4 and 2 × 4, 29 at 16 × 1). The GPU shape is the plain
 *  loop's, unmeasured. The caller checks the vec4 words (K, A's stride and offset). */
export function blockGemmShape(b: Pick<BuildContext, "gpu">, rows: number): GemvShape {
  if (rows > GEMV_MAX_ROWS) return CPU_REGISTER_TILE;
  const cpu = isCpuAdapter(b.gpu.adapterInfo);
  return { kind: "gemv", rows: Math.min(GEMV_ROWS_PER_GROUP, 2 ** Math.ceil(Math.log2(Math.max(1, rows)))), lanes: cpu ? 2 : 16, cols: cpu ? 4 : 2, vec4: true };
}

/** Whether A's words allow the vec4 loads a block GEMM needs. */
export const blockGemmFits = (words: readonly number[]): boolean => vec4Fits(words);
