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

/** Nearest e4m3fn byte to `x`, ties to the even mantissa (PyTorch's `to(torch.float8_e4m3fn)`),
 *  except that it saturates: every magnitude from 448 on (±Infinity included) is ±448, where
 *  PyTorch gives NaN from 464 (exclusive) up. NaN is the callers' to refuse; here it encodes as 0. */
export function f32ToE4m3(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x80 : 0;
  const a = Math.abs(x);
  if (!(a > 0)) return sign; // ±0 (and NaN → 0)
  if (a >= 448) return sign | 0x7e;
  // a's binade 2^e (e ≥ −6: below 2⁻⁶ the subnormals share the quantum 2⁻⁹) has the quantum
  // 2^(e−3). a / quantum is exact in a double (a power-of-two divisor), so rounding it is exact.
  let e = Math.max(-6, Math.floor(Math.log2(a)));
  if (e > -6 && 2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const q = a / 2 ** (e - 3);
  let n = Math.floor(q);
  if (q - n > 0.5 || (q - n === 0.5 && n % 2 === 1)) n++;
  if (n === 16) [e, n] = [e + 1, 8]; // rounded up into the next binade
  // n ≥ 8: the normal 2^e·(n/8), mantissa n − 8; n < 8 (only at e = −6): the subnormal n·2⁻⁹.
  // a < 448 keeps the result at or below 0x7e (e = 8, n ≤ 14).
  return sign | (n >= 8 ? ((e + 7) << 3) | (n - 8) : n);
}

/** An FP8 matrix [rows, cols] as the device keeps it (weights/quant/gpu-blocks.ts): its e4m3fn
 *  bytes row-major and one f32 scale per (row, 128-column block), [rows, ⌈cols/128⌉] row-major. */
export interface Fp8Rows {
  rows: number;
  cols: number;
  bytes: Uint8Array;
  rowScales: Float32Array;
}

/** The values of FP8 rows: each byte times its row block's scale. */
export function dequantizeFp8Rows(w: Fp8Rows): Float32Array {
  const nb = Math.ceil(w.cols / FP8_BLOCK);
  const out = new Float32Array(w.rows * w.cols);
  for (let r = 0; r < w.rows; r++) for (let c = 0; c < w.cols; c++) out[r * w.cols + c] = TABLE[w.bytes[r * w.cols + c]!]! * w.rowScales[r * nb + Math.floor(c / FP8_BLOCK)]!;
  return out;
}

/** A checkpoint's block scales [⌈rows/br⌉, ⌈cols/128⌉] replicated for each row of their row
 *  block: the same f32 values, so W = fp8 · scale is unchanged. Column blocks must be 128 wide. */
export function fp8RowScales(scaleInv: Float32Array, rows: number, cols: number, br: number): Float32Array {
  const nb = Math.ceil(cols / FP8_BLOCK);
  const out = new Float32Array(rows * nb);
  for (let r = 0; r < rows; r++) out.set(scaleInv.subarray(Math.floor(r / br) * nb, Math.floor(r / br) * nb + nb), r * nb);
  return out;
}
