// WGSL pieces for kernels that read Q8_0/Q4_0/FP8_E4M3 blocks in the device form of
// weights/quant/gpu-blocks.ts (the GEMM generator's quant loop, the token-centric expert kernels,
// the embedding gather): a block's scale (f16 two to a word, or f32), a values word as f32
// vec4s, and the e4m3fn decode.

import { blockLength, type GpuBlockFormat, wordsPerBlock } from "../weights/quant/gpu-blocks.js";

/**
 * Statements `let OUT = vec4<f32>(…)`: the four e4m3fn bytes of the u32 expression `q` (the low
 * byte first) decoded exactly, by bits: with mag = the byte's low 7 bits (exponent e, mantissa m),
 * a normal value (e ≥ 1) 2^(e−7)·(1 + m/8) is the f32 of bits (mag << 20) + (120 << 23) (the
 * exponent rebiased from 7 to 127); a subnormal (e = 0) m·2⁻⁹ is made by a multiply, so no f32
 * subnormal (which a GPU may flush) appears; then the sign bit moves to bit 31 (0x80 is −0).
 * 0x7f/0xff (NaN in the format) would decode as ±480: the upload refuses them.
 */
export function fp8Vec4(q: string, out: string): string {
  return `let ${out}_b = (vec4<u32>(${q}) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(255u);
      let ${out}_m = ${out}_b & vec4<u32>(127u);
      let ${out}_u = select(bitcast<vec4<f32>>((${out}_m << vec4<u32>(20u)) + vec4<u32>(0x3c000000u)), vec4<f32>(${out}_m) * 0.001953125, ${out}_m < vec4<u32>(8u));
      let ${out} = bitcast<vec4<f32>>(bitcast<vec4<u32>>(${out}_u) | ((${out}_b & vec4<u32>(128u)) << vec4<u32>(24u)));`;
}

/** `fp8_e4m3(b)`: one e4m3fn byte (the low 8 bits of b) as f32, by the bits of fp8Vec4. */
export const FP8_DECODE_FN = `fn fp8_e4m3(b: u32) -> f32 {
  let m = b & 127u;
  let u = select(bitcast<f32>((m << 20u) + 0x3c000000u), f32(m) * 0.001953125, m < 8u);
  return bitcast<f32>(bitcast<u32>(u) | ((b & 128u) << 24u));
}`;

/** `blk_lo(q)` (and `blk_hi(q)` for Q4_0): a values word as vec4<f32> — Q8_0: its four int8;
 *  Q4_0: nibbles 0–3 and 4–7, each minus 8; FP8_E4M3: its four e4m3fn bytes. */
export function blockWordFns(f: GpuBlockFormat): string {
  if (f === "fp8_e4m3") return `fn blk_lo(q: u32) -> vec4<f32> {
      ${fp8Vec4("q", "v")}
  return v;
}`;
  if (f === "q8_0") return `fn blk_lo(q: u32) -> vec4<f32> { let qi = bitcast<i32>(q); return vec4<f32>(vec4<i32>(qi << 24u, qi << 16u, qi << 8u, qi) >> vec4<u32>(24u)); }`;
  return `fn blk_lo(q: u32) -> vec4<f32> { return vec4<f32>((vec4<u32>(q) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(15u)) - vec4<f32>(8.0); }
fn blk_hi(q: u32) -> vec4<f32> { return vec4<f32>((vec4<u32>(q) >> vec4<u32>(16u, 20u, 24u, 28u)) & vec4<u32>(15u)) - vec4<f32>(8.0); }`;
}

/** Scale `s` (a u32 expression: the block's index in the row-major [rows, K/block] grid) of the
 *  scale array `scales`: an f16 of a two-to-a-word array, or (FP8_E4M3) an f32 word. */
export const blockScale = (f: GpuBlockFormat, scales: string, s: string): string =>
  f === "fp8_e4m3" ? `bitcast<f32>(${scales}[${s}])` : `unpack2x16float(${scales}[(${s}) >> 1u])[(${s}) & 1u]`;

/**
 * Statements computing `let OUT: f32 = Σ_k W[lr, k] · V(k)` over a row of `len` (WGSL, a multiple
 * of the block length) values of the block matrix `values`/`scales`, where `vec(e)` is a vec4<f32> expression of
 * V at elements e … e+3 (e a u32 expression, a multiple of 4). Per block: one scale, the words
 * dequantized into a vec4 block sum, scaled once.
 */
export function blockRowDot(f: GpuBlockFormat, o: { values: string; scales: string; lr: string; len: string; vec: (e: string) => string; out: string }): string {
  const wpb = wordsPerBlock(f);
  const n = blockLength(f);
  const p = o.out;
  const body =
    f !== "q4_0"
      ? `${p}_bs = fma(blk_lo(${p}_q), ${o.vec(`${p}_kb * ${n}u + ${p}_i * 4u`)}, ${p}_bs);`
      : `${p}_bs = fma(blk_lo(${p}_q), ${o.vec(`${p}_kb * ${n}u + ${p}_i * 8u`)}, ${p}_bs); ${p}_bs = fma(blk_hi(${p}_q), ${o.vec(`${p}_kb * ${n}u + ${p}_i * 8u + 4u`)}, ${p}_bs);`;
  return `
    var ${p}_acc = vec4<f32>(0.0);
    let ${p}_nb = (${o.len}) / ${n}u;
    for (var ${p}_kb = 0u; ${p}_kb < ${p}_nb; ${p}_kb++) {
      let ${p}_si = (${o.lr}) * ${p}_nb + ${p}_kb;
      var ${p}_bs = vec4<f32>(0.0);
      for (var ${p}_i = 0u; ${p}_i < ${wpb}u; ${p}_i++) {
        let ${p}_q = ${o.values}[${p}_si * ${wpb}u + ${p}_i];
        ${body}
      }
      ${p}_acc = fma(${p}_bs, vec4<f32>(${blockScale(f, o.scales, `${p}_si`)}), ${p}_acc);
    }
    let ${p} = (${p}_acc.x + ${p}_acc.y) + (${p}_acc.z + ${p}_acc.w);`;
}
