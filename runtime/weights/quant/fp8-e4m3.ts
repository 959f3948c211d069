// FP8 E4M3 as PyTorch's float8_e4m3fn (and DeepSeek-V3's checkpoints) define it: sign, 4 exponent
// bits with bias 7, 3 mantissa bits; exponent 0 is subnormal (m/8·2⁻⁶); no infinities; S.1111.111
// (0x7f, 0xff) is NaN, so the largest value is 0x7e = 448. DeepSeek stores a weight [out, in] in
// F8_E4M3 with `weight_scale_inv` [⌈out/128⌉, ⌈in/128⌉] f32 (inference/kernel.py weight_dequant:
// W = fp8 · scale_inv of its 128×128 block; despite the name the factor multiplies).

export const FP8_BLOCK = 128;

/** One e4m3fn byte as a number. */
export function e4m3ToF32(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const e = (b >> 3) & 0x0f, m = b & 0x07;
  if (e === 0x0f && m === 0x07) return NaN;
  if (e === 0) return sign * (m / 8) * 2 ** -6;
  return sign * (1 + m / 8) * 2 ** (e - 7);
}

const TABLE = Float32Array.from({ length: 256 }, (_, b) => e4m3ToF32(b));

/** A [rows, cols] e4m3fn weight times its block scales `scaleInv` [⌈rows/br⌉, ⌈cols/bc⌉]
 *  (`block` = [br, bc], the config's weight_block_size; DeepSeek-V3's is [128, 128]). */
export function dequantizeFp8Blocks(bytes: Uint8Array, rows: number, cols: number, scaleInv: Float32Array, block: readonly [number, number] = [FP8_BLOCK, FP8_BLOCK]): Float32Array {
  const out = new Float32Array(rows * cols);
  const [br, bc] = block;
  const scaleCols = Math.ceil(cols / bc);
  for (let r = 0; r < rows; r++) {
    const srow = Math.floor(r / br) * scaleCols;
    for (let c = 0; c < cols; c++) out[r * cols + c] = TABLE[bytes[r * cols + c]!]! * scaleInv[srow + Math.floor(c / bc)]!;
  }
  return out;
}
