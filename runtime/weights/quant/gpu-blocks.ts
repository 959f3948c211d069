// The device form of block-quantized matrices (what the fused-dequantization GEMV reads): Q8_0
// and Q4_0 as ggml's blocks of 32 values along a row, FP8 E4M3 as blocks of 128 with an f32
// scale (DeepSeek-V3's column blocks), repacked at load so a shader reads whole u32 words.
//
//   values  Q8_0: word w of a row holds elements 4w … 4w+3 as int8, element 4w in the low byte
//           (ggml's q bytes in order). Q4_0: word w holds elements 8w … 8w+7 as unsigned nibbles,
//           element 8w + i in bits 4i … 4i+3 (ggml's byte j holds elements j and j + 16; the
//           repacking makes a word's nibbles consecutive, so one word is two vec4s of A).
//           FP8_E4M3: word w holds elements 4w … 4w+3 as e4m3fn bytes (fp8-e4m3.ts), element 4w
//           in the low byte (the checkpoint's bytes in order: a row of K bytes is K/4 words).
//   scales  Q8_0, Q4_0: one f16 d per block, two to a u32 word (block s of the matrix, row-major
//           over [rows, K/32]: word s >> 1, low half when s is even), read with unpack2x16float.
//           FP8_E4M3: one f32 per (row, 128-column block), a word each (block s of [rows, K/128]
//           at word s), read with bitcast<f32>. A checkpoint's 128×128 block scale is repeated
//           for each of its block's rows: exact (no re-rounding), and a row chunk of the matrix
//           (weight-store.ts) or a stacked expert's rows need no alignment to 128 rows. It costs
//           K/32 bits a row (0.25 bit a weight) against 0.002 for the shared 128×128 scale.
//
// value = q·d (Q8_0), (q − 8)·d (Q4_0): exactly ggml's dequantization of the same blocks;
// e4m3(byte)·scale (FP8_E4M3): exactly DeepSeek's weight_dequant of the same bytes and scales.

import { f32ToE4m3, FP8_BLOCK, type Fp8Rows } from "./fp8-e4m3.js";
import { encodeQ4_0, Q4_0_BLOCK, Q4_0_BYTES } from "./q4_0.js";
import { encodeQ8_0, Q8_0_BYTES } from "./q8_0.js";

export type GpuBlockFormat = "q8_0" | "q4_0" | "fp8_e4m3";

/** Every block format, in the order messages list them. */
export const GPU_BLOCK_FORMATS: readonly GpuBlockFormat[] = ["q8_0", "q4_0", "fp8_e4m3"];

/** Values per block along a row: 32 (Q8_0, Q4_0), 128 (FP8_E4M3). */
export const blockLength = (f: GpuBlockFormat): number => (f === "fp8_e4m3" ? FP8_BLOCK : Q4_0_BLOCK);

/** u32 words of values per block: 8 (Q8_0), 4 (Q4_0), 32 (FP8_E4M3). */
export const wordsPerBlock = (f: GpuBlockFormat): number => (f === "q8_0" ? 8 : f === "q4_0" ? 4 : 32);

export interface GpuBlocks {
  format: GpuBlockFormat;
  rows: number;
  K: number;
  values: Uint32Array;
  scales: Uint32Array;
}

/** Device bytes of a [rows, K] matrix in the format (values plus scales, before 4-byte padding). */
export function gpuBlockBytes(f: GpuBlockFormat, rows: number, K: number): number {
  const blocks = (rows * K) / blockLength(f);
  return blocks * wordsPerBlock(f) * 4 + (f === "fp8_e4m3" ? blocks * 4 : Math.ceil(blocks / 2) * 4);
}

/** Refuses a matrix whose rows are not whole blocks, naming it. */
export function checkWholeBlocks(name: string, f: GpuBlockFormat, rows: number, K: number): void {
  const n = blockLength(f);
  if (K % n !== 0 || K === 0) {
    throw new Error(`weight '${name}' [${rows}, ${K}]: rows of ${K} values are not whole ${f.toUpperCase()} blocks of ${n}; only matrices whose row length is a multiple of ${n} can be kept quantized`);
  }
}

/** Repacks ggml blocks (a [rows, K] matrix, `rows·K/32` blocks in row order) into the device form. */
export function repackGgmlBlocks(f: "q8_0" | "q4_0", blocks: Uint8Array, rows: number, K: number, name: string): GpuBlocks {
  checkWholeBlocks(name, f, rows, K);
  const n = (rows * K) / Q4_0_BLOCK;
  const blockBytes = f === "q8_0" ? Q8_0_BYTES : Q4_0_BYTES;
  if (blocks.length !== n * blockBytes) throw new Error(`weight '${name}' [${rows}, ${K}]: ${blocks.length} bytes of ${f.toUpperCase()} blocks, expected ${n} × ${blockBytes} = ${n * blockBytes}`);
  const wpb = wordsPerBlock(f);
  const values = new Uint32Array(n * wpb);
  const scales = new Uint32Array(Math.ceil(n / 2));
  for (let s = 0; s < n; s++) {
    const o = s * blockBytes;
    const d = blocks[o]! | (blocks[o + 1]! << 8);
    scales[s >> 1] = (scales[s >> 1]! | (d << ((s & 1) * 16))) >>> 0;
    for (let w = 0; w < wpb; w++) {
      let word = 0;
      if (f === "q8_0") {
        for (let i = 0; i < 4; i++) word |= blocks[o + 2 + 4 * w + i]! << (8 * i);
      } else {
        for (let i = 0; i < 8; i++) {
          const e = 8 * w + i; // element of the block: byte e % 16, low nibble below 16
          const byte = blocks[o + 2 + (e % 16)]!;
          word |= (e < 16 ? byte & 0x0f : byte >> 4) << (4 * i);
        }
      }
      values[s * wpb + w] = word >>> 0;
    }
  }
  return { format: f, rows, K, values, scales };
}

/** Quantizes a [rows, K] f32 matrix: ggml's reference encoder, then the repacking (Q8_0, Q4_0);
 *  per (row, 128-block) scale amax/448 and the nearest e4m3fn bytes (FP8_E4M3). */
export function quantizeForGpu(f: GpuBlockFormat, data: Float32Array, rows: number, K: number, name: string): GpuBlocks {
  checkWholeBlocks(name, f, rows, K);
  if (data.length !== rows * K) throw new Error(`weight '${name}': ${data.length} values, expected [${rows}, ${K}] = ${rows * K}`);
  if (f === "fp8_e4m3") return packFp8Rows(encodeFp8Rows(data, rows, K, name), name);
  return repackGgmlBlocks(f, f === "q8_0" ? encodeQ8_0(data) : encodeQ4_0(data), rows, K, name);
}

/** FP8 E4M3 with one scale per (row, 128-column block): s = amax/448 in f32, each value the
 *  nearest e4m3fn byte of x/s (computed in f32, as a PyTorch f32 division then cast would); an
 *  all-zero block has s = 0 and zero bytes. A NaN or infinite value is refused by position. */
export function encodeFp8Rows(data: Float32Array, rows: number, K: number, name: string): Fp8Rows {
  const nb = K / FP8_BLOCK;
  const bytes = new Uint8Array(rows * K);
  const rowScales = new Float32Array(rows * nb);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const o = r * K + b * FP8_BLOCK;
      let amax = 0;
      for (let i = 0; i < FP8_BLOCK; i++) {
        const x = data[o + i]!;
        if (!Number.isFinite(x)) throw new Error(`weight '${name}' [${rows}, ${K}]: element [${r}, ${b * FP8_BLOCK + i}] is ${x}; only finite weights can be kept as fp8_e4m3`);
        amax = Math.max(amax, Math.abs(x));
      }
      const s = Math.fround(amax / 448);
      rowScales[r * nb + b] = s;
      if (s === 0) continue;
      for (let i = 0; i < FP8_BLOCK; i++) bytes[o + i] = f32ToE4m3(Math.fround(data[o + i]! / s));
    }
  }
  return { rows, cols: K, bytes, rowScales };
}

/** FP8 bytes and row scales (a checkpoint's as read, or encodeFp8Rows') in the device form: the
 *  bytes as little-endian words, the scales' f32 bits. The NaN bytes 0x7f/0xff are refused (the
 *  shader does not decode them as NaN), naming the first one's position. */
export function packFp8Rows(w: Fp8Rows, name: string): GpuBlocks {
  const { rows, cols: K } = w;
  checkWholeBlocks(name, "fp8_e4m3", rows, K);
  if (w.bytes.length !== rows * K || w.rowScales.length !== (rows * K) / FP8_BLOCK) {
    throw new Error(`weight '${name}' [${rows}, ${K}]: ${w.bytes.length} FP8 bytes and ${w.rowScales.length} row scales, expected ${rows * K} and ${(rows * K) / FP8_BLOCK}`);
  }
  const values = new Uint32Array(rows * K / 4);
  for (let i = 0; i < values.length; i++) {
    const o = 4 * i;
    values[i] = (w.bytes[o]! | (w.bytes[o + 1]! << 8) | (w.bytes[o + 2]! << 16) | (w.bytes[o + 3]! << 24)) >>> 0;
  }
  for (let i = 0; i < w.bytes.length; i++) {
    if ((w.bytes[i]! & 0x7f) === 0x7f) throw new Error(`weight '${name}' [${rows}, ${K}]: element [${Math.floor(i / K)}, ${i % K}] is the FP8 NaN byte 0x${w.bytes[i]!.toString(16)}; only finite weights can be kept as fp8_e4m3`);
  }
  const scales = new Uint32Array(w.rowScales.buffer.slice(w.rowScales.byteOffset, w.rowScales.byteOffset + w.rowScales.byteLength));
  return { format: "fp8_e4m3", rows, K, values, scales };
}
