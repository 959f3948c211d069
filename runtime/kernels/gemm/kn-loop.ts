// The register tile of the GEMM generator over transposed weights (gemm-kernel.ts's `gemv` shape
// with layout `kn`): B held as [K, N], so the four weights a vec4 word holds are four adjacent
// columns at one k. A thread computes `rows` rows × `cols` groups of 4 columns; per 4 k it reads
// one vec4 of A per row (the same word for every thread of the workgroup) and 4 × cols vec4s of B,
// and does rows × cols × 4 vec4 FMAs, each A element splatted over 4 columns. The accumulators are
// the outputs themselves (no final horizontal sum, unlike gemv-loop.ts's vec4-over-k form).
//
// Why: a CPU adapter runs a workgroup's invocations as SIMD lanes. With B as [N, K] each lane reads
// its own weight row, a strided gather per load; with [K, N] neighbouring lanes read neighbouring
// 16-byte words of one row of B, and A's word is uniform across them. Measured on lavapipe at
// 1024³ (bench/RESULTS.md, "Transposed weights"): 8 rows × 2 groups, 64 threads, 9.6–10.6 GFLOP/s
// against 6.4–7.5 for the best [N, K] register tile (8 rows × 4 columns).

import type { GemvShape } from "./gemv-loop.js";

export interface KnLoopSpec {
  shape: GemvShape;
  /** WGSL expression of K (elements, a multiple of 4: host-checked). */
  K: string;
  /** Statements setting `v` (vec4<f32>) to A[r, 4·k4 … 4·k4+3] for tile-local row `r`, 0 outside. */
  loadA: string;
  /** Statements setting `w` (vec4<f32>) to B[k, c … c+3] for element index `k` and tile-local
   *  column `c` (a multiple of 4), 0 outside (and `wg` to the gate's, when gated). */
  loadB: string;
  /** A second matrix (SwiGLU's gate) read at the same places, accumulated beside B's. */
  gated: boolean;
  /** The store of tile-local row `r`, column `c` from `v` (and `vg`): guards and the epilogue. */
  store: string;
}

const range = (n: number): number[] => [...Array(n).keys()];

/** The loop and the stores, placed in uniform control flow inside `main` after the row and column setup. */
export function knLoop(s: KnLoopSpec): string {
  const { rows: BM, cols: CV } = s.shape;
  if (s.shape.layout !== "kn" || s.shape.lanes !== 1) throw new Error("internal: knLoop needs a one-lane `kn` shape");
  const R = range(BM);
  const J = range(CV);
  const g = s.gated;
  const zero = "vec4<f32>(0.0)";
  const acc = R.flatMap((r) => J.map((j) => `var acc_${r}_${j} = ${zero};${g ? ` var accg_${r}_${j} = ${zero};` : ""}`));
  // Group j of this thread is tile-local columns c0 + 4j … c0 + 4j + 3.
  const loadsB = J.flatMap((j) =>
    range(4).map((i) => `var w_${j}_${i} = ${zero};${g ? ` var wg_${j}_${i} = ${zero};` : ""} { let c = c0 + ${4 * j}u; let k = k4 * 4u + ${i}u; var w = ${zero};${g ? ` var wg = ${zero};` : ""} ${s.loadB} w_${j}_${i} = w;${g ? ` wg_${j}_${i} = wg;` : ""} }`),
  );
  const fma4 = (a: string, w: string, j: number) => `${a} = fma(vec4<f32>(v.x), ${w}_${j}_0, fma(vec4<f32>(v.y), ${w}_${j}_1, fma(vec4<f32>(v.z), ${w}_${j}_2, fma(vec4<f32>(v.w), ${w}_${j}_3, ${a}))));`;
  const fmas = R.map((r) => `{ let r = ${r}u; var v = ${zero}; ${s.loadA} ${J.map((j) => fma4(`acc_${r}_${j}`, "w", j) + (g ? ` ${fma4(`accg_${r}_${j}`, "wg", j)}` : "")).join(" ")} }`);
  const stores = R.flatMap((r) => J.flatMap((j) => range(4).map((e) => `{ let r = ${r}u; let c = c0 + ${4 * j + e}u; var v = acc_${r}_${j}[${e}];${g ? ` var vg = accg_${r}_${j}[${e}];` : ""} ${s.store} }`)));
  return `
  let c0 = tid * ${4 * CV}u;
  ${acc.join("\n  ")}
  for (var k4 = 0u; k4 < (${s.K}) / 4u; k4++) {
    ${loadsB.join("\n    ")}
    ${fmas.join("\n    ")}
  }
  ${stores.join("\n  ")}`;
}
