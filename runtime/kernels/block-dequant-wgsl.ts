// WGSL pieces for kernels that read Q8_0/Q4_0 blocks in the device form of
// weights/quant/gpu-blocks.ts outside the GEMM generator (the token-centric expert kernels): a
// block's f16 scale from the two-to-a-word scale array, and a values word as f32 vec4s.

import { type GpuBlockFormat, wordsPerBlock } from "../weights/quant/gpu-blocks.js";

/** `blk_lo(q)` (and `blk_hi(q)` for Q4_0): a values word as vec4<f32> — Q8_0: its four int8;
 *  Q4_0: nibbles 0–3 and 4–7, each minus 8. */
export function blockWordFns(f: GpuBlockFormat): string {
  if (f === "q8_0") return `fn blk_lo(q: u32) -> vec4<f32> { let qi = bitcast<i32>(q); return vec4<f32>(vec4<i32>(qi << 24u, qi << 16u, qi << 8u, qi) >> vec4<u32>(24u)); }`;
  return `fn blk_lo(q: u32) -> vec4<f32> { return vec4<f32>((vec4<u32>(q) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(15u)) - vec4<f32>(8.0); }
fn blk_hi(q: u32) -> vec4<f32> { return vec4<f32>((vec4<u32>(q) >> vec4<u32>(16u, 20u, 24u, 28u)) & vec4<u32>(15u)) - vec4<f32>(8.0); }`;
}

/** Scale `s` (a u32 expression) of the scale array `scales`. */
export const blockScale = (scales: string, s: string): string => `unpack2x16float(${scales}[(${s}) >> 1u])[(${s}) & 1u]`;

/**
 * Statements computing `let OUT: f32 = Σ_k W[lr, k] · V(k)` over a row of `len` (WGSL, a multiple
 * of 32) values of the block matrix `values`/`scales`, where `vec(e)` is a vec4<f32> expression of
 * V at elements e … e+3 (e a u32 expression, a multiple of 4). Per block: one scale, the words
 * dequantized into a vec4 block sum, scaled once.
 */
export function blockRowDot(f: GpuBlockFormat, o: { values: string; scales: string; lr: string; len: string; vec: (e: string) => string; out: string }): string {
  const wpb = wordsPerBlock(f);
  const p = o.out;
  const body =
    f === "q8_0"
      ? `${p}_bs = fma(blk_lo(${p}_q), ${o.vec(`${p}_kb * 32u + ${p}_i * 4u`)}, ${p}_bs);`
      : `${p}_bs = fma(blk_lo(${p}_q), ${o.vec(`${p}_kb * 32u + ${p}_i * 8u`)}, ${p}_bs); ${p}_bs = fma(blk_hi(${p}_q), ${o.vec(`${p}_kb * 32u + ${p}_i * 8u + 4u`)}, ${p}_bs);`;
  return `
    var ${p}_acc = vec4<f32>(0.0);
    let ${p}_nb = (${o.len}) / 32u;
    for (var ${p}_kb = 0u; ${p}_kb < ${p}_nb; ${p}_kb++) {
      let ${p}_si = (${o.lr}) * ${p}_nb + ${p}_kb;
      var ${p}_bs = vec4<f32>(0.0);
      for (var ${p}_i = 0u; ${p}_i < ${wpb}u; ${p}_i++) {
        let ${p}_q = ${o.values}[${p}_si * ${wpb}u + ${p}_i];
        ${body}
      }
      ${p}_acc = fma(${p}_bs, vec4<f32>(${blockScale(o.scales, `${p}_si`)}), ${p}_acc);
    }
    let ${p} = (${p}_acc.x + ${p}_acc.y) + (${p}_acc.z + ${p}_acc.w);`;
}
