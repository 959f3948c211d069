// The few-row loop of the GEMM generator over block-quantized weights (Q8_0, Q4_0, FP8_E4M3 in
// the device form of weights/quant/gpu-blocks.ts): dequantization fused into the weight loads, f32
// accumulation. The same rows × columns-per-thread × lanes shape as gemv-loop.ts, but a lane walks
// whole blocks of 32 along K (block kb = lane, lane + lanes, …): per block and column it reads one
// scale, then the block's u32 words (8 for Q8_0 and FP8, 4 for Q4_0), each turned into vec4s of
// f32 in registers and multiplied into a per-block vec4 sum against A's vec4 words; the block sum
// is scaled once and added to the accumulator. So each weight is read as 8 or 4 bits (plus 0.5 bit
// of scale, 0.25 for FP8), against 32 (f32) or 16 (f16) in the plain loop. FP8's blocks are 128 long: the loop
// walks its quarters as blocks of 32 (8 words, the same unrolled body as Q8_0), each reading its
// 128-block's f32 scale (kb / 4), so lanes interleave as finely as for the other formats.

import type { GpuBlockFormat } from "../../weights/quant/gpu-blocks.js";
import { blockScale, fp8Vec4 } from "../block-dequant-wgsl.js";
import { GEMV_WG, gemvColumns, type GemvShape } from "./gemv-loop.js";

export interface QuantGemvLoopSpec {
  shape: GemvShape;
  format: GpuBlockFormat;
  /** WGSL expression of K (elements; a multiple of the block length, host-checked). */
  K: string;
  /** Buffers: the values words and the scale words. */
  values: string;
  scales: string;
  /** Statements setting `ok` (the column is stored) and `lr` (its row in the bound chunk) for tile-local column `c`. */
  column: string;
  /** Statements setting `v` (vec4<f32>) to A[r, 4·k4 … 4·k4+3] for tile-local row `r`, 0 outside. */
  loadA: string;
  /** The store of tile-local row `r`, column `c` from `v`: guards and the epilogue. */
  store: string;
}

const range = (n: number): number[] => [...Array(n).keys()];

/** WGSL of the vec4s one values word `q` holds, as f32 (Q8_0, FP8: one; Q4_0: two, the low nibbles first). */
function dequantWord(f: GpuBlockFormat, j: number): string[] {
  if (f === "fp8_e4m3") return [fp8Vec4(`q_${j}`, `d0_${j}`)];
  if (f === "q8_0") {
    // Sign-extend each byte: shift it to the top, then arithmetic-shift it back down.
    return [`let qi_${j} = bitcast<i32>(q_${j}); let d0_${j} = vec4<f32>(vec4<i32>(qi_${j} << 24u, qi_${j} << 16u, qi_${j} << 8u, qi_${j}) >> vec4<u32>(24u));`];
  }
  return [
    `let d0_${j} = vec4<f32>((vec4<u32>(q_${j}) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(15u));`,
    `let d1_${j} = vec4<f32>((vec4<u32>(q_${j}) >> vec4<u32>(16u, 20u, 24u, 28u)) & vec4<u32>(15u));`,
  ];
}

/** The loop and the stores, placed in uniform control flow inside `main` after the row and column setup. */
export function quantGemvLoop(s: QuantGemvLoopSpec): string {
  const { rows: BM, lanes, cols: CPT } = s.shape;
  const BN = gemvColumns(s.shape);
  // Words of one 32-value block of the loop (an FP8 block's quarter).
  const wpb = s.format === "q4_0" ? 4 : 8;
  const vecsPerWord = s.format === "q4_0" ? 2 : 1;
  // The scale of the loop's block kb of row lr: the f16 of block si = lr·nb + kb, or FP8's f32 of
  // the 128-block holding it, lr·(nb/4) + kb/4.
  const scaleOf = s.format === "fp8_e4m3" ? blockScale(s.format, s.scales, "lr * (nb / 4u) + kb / 4u") : `unpack2x16float(${s.scales}[si >> 1u])[si & 1u]`;
  const R = range(BM);
  const J = range(CPT);
  const V = range(vecsPerWord);
  const zero = "vec4<f32>(0.0)";
  const acc = R.flatMap((r) => J.map((j) => `var acc_${r}_${j} = ${zero};`));
  // Per column: its scale (0 for a column outside the chunk, so its words, read at word 0, add nothing) and first word.
  const columns = J.map(
    (j) => `var s_${j} = 0.0; var wb_${j} = 0u; { let c = c0 + ${j}u; var ok = false; var lr = 0u; ${s.column}
      if (ok) { let si = lr * nb + kb; s_${j} = ${scaleOf}; wb_${j} = (lr * nb + kb) * ${wpb}u; } }`,
  );
  // Q4_0's offset: Σ a·(q − 8) = Σ a·q − 8·Σ a, so the nibbles convert as they are and the block's
  // A sum (shared by the row's columns) is taken once.
  const offset = s.format === "q4_0";
  const bsum = [...R.flatMap((r) => J.map((j) => `var b_${r}_${j} = ${zero};`)), ...(offset ? R.map((r) => `var as_${r} = ${zero};`) : [])];
  const words = J.flatMap((j) => [`let q_${j} = ${s.values}[wb_${j} + i];`, ...dequantWord(s.format, j)]);
  const fmas = R.map(
    (r) =>
      `{ let r = ${r}u; ${V.map((h) => `{ let k4 = kb * 8u + i * ${vecsPerWord}u + ${h}u; var v = ${zero}; ${s.loadA}${offset ? ` as_${r} += v;` : ""} ${J.map((j) => `b_${r}_${j} = fma(v, d${h}_${j}, b_${r}_${j});`).join(" ")} }`).join(" ")} }`,
  );
  const scale = R.flatMap((r) => J.map((j) => `acc_${r}_${j} = fma(${offset ? `fma(as_${r}, vec4<f32>(-8.0), b_${r}_${j})` : `b_${r}_${j}`}, vec4<f32>(s_${j}), acc_${r}_${j});`));
  const total = (r: number, j: number) => `dot(acc_${r}_${j}, vec4<f32>(1.0))`;
  const loop = `
  let lane = tid % ${lanes}u;
  let c0 = (tid / ${lanes}u) * ${CPT}u;
  let nb = (${s.K}) / 32u;
  ${acc.join("\n  ")}
  for (var kb = lane; kb < nb; kb += ${lanes}u) {
    ${columns.join("\n    ")}
    ${bsum.join(" ")}
    ${range(wpb).map((i) => `{ let i = ${i}u;
      ${words.join("\n      ")}
      ${fmas.join("\n      ")}
    }`).join("\n    ")}
    ${scale.join(" ")}
  }`;
  if (lanes === 1) {
    const stores = R.flatMap((r) => J.map((j) => `{ let r = ${r}u; let c = c0 + ${j}u; var v = ${total(r, j)}; ${s.store} }`));
    return `${loop}
  ${stores.join("\n  ")}`;
  }
  // Partial sums at red[(r·BN + c)·lanes + lane]; output o = r·BN + c sums its `lanes` words.
  const parts = R.flatMap((r) => J.map((j) => `red[(${r}u * ${BN}u + c0 + ${j}u) * ${lanes}u + lane] = ${total(r, j)};`));
  return `${loop}
  ${parts.join("\n  ")}
  workgroupBarrier();
  for (var o = tid; o < ${BM * BN}u; o += ${GEMV_WG}u) {
    let r = o / ${BN}u;
    let c = o % ${BN}u;
    var v = 0.0;
    for (var l = 0u; l < ${lanes}u; l++) { v += red[o * ${lanes}u + l]; }
    ${s.store}
  }`;
}
