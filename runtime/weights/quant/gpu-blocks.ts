// The device form of Q8_0 and Q4_0 matrices (what the fused-dequantization GEMV reads): ggml's
// blocks of 32 values along a row, repacked at load so a shader reads whole u32 words.
//
//   values  Q8_0: word w of a row holds elements 4w … 4w+3 as int8, element 4w in the low byte
//           (ggml's q bytes in order). Q4_0: word w holds elements 8w … 8w+7 as unsigned nibbles,
//           element 8w + i in bits 4i … 4i+3 (ggml's byte j holds elements j and j + 16; the
//           repacking makes a word's nibbles consecutive, so one word is two vec4s of A).
//   scales  one f16 d per block, two to a u32 word (block s of the matrix, row-major over
//           [rows, K/32]: word s >> 1, low half when s is even), read with unpack2x16float.
//
// value = q·d (Q8_0), (q − 8)·d (Q4_0): exactly ggml's dequantization of the same blocks.

import { encodeQ4_0, Q4_0_BLOCK, Q4_0_BYTES } from "./q4_0.js";
import { encodeQ8_0, Q8_0_BYTES } from "./q8_0.js";

export type GpuBlockFormat = "q8_0" | "q4_0";

export const GPU_BLOCK = Q4_0_BLOCK; // 32 for both formats

/** u32 words of values per block: 8 (Q8_0), 4 (Q4_0). */
export const wordsPerBlock = (f: GpuBlockFormat): number => (f === "q8_0" ? 8 : 4);

export interface GpuBlocks {
  format: GpuBlockFormat;
  rows: number;
  K: number;
  values: Uint32Array;
  scales: Uint32Array;
}

/** Device bytes of a [rows, K] matrix in the format (values plus scales, before 4-byte padding). */
export function gpuBlockBytes(f: GpuBlockFormat, rows: number, K: number): number {
  const blocks = (rows * K) / GPU_BLOCK;
  return blocks * wordsPerBlock(f) * 4 + Math.ceil(blocks / 2) * 4;
}

/** Refuses a matrix whose rows are not whole blocks, naming it. */
export function checkWholeBlocks(name: string, f: GpuBlockFormat, rows: number, K: number): void {
  if (K % GPU_BLOCK !== 0 || K === 0) {
    throw new Error(`weight '${name}' [${rows}, ${K}]: rows of ${K} values are not whole ${f.toUpperCase()} blocks of ${GPU_BLOCK}; only matrices whose row length is a multiple of ${GPU_BLOCK} can be kept quantized`);
  }
}

/** Repacks ggml blocks (a [rows, K] matrix, `rows·K/32` blocks in row order) into the device form. */
export function repackGgmlBlocks(f: GpuBlockFormat, blocks: Uint8Array, rows: number, K: number, name: string): GpuBlocks {
  checkWholeBlocks(name, f, rows, K);
  const n = (rows * K) / GPU_BLOCK;
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

/** Quantizes a [rows, K] f32 matrix with ggml's reference encoder, then repacks it. */
export function quantizeForGpu(f: GpuBlockFormat, data: Float32Array, rows: number, K: number, name: string): GpuBlocks {
  checkWholeBlocks(name, f, rows, K);
  if (data.length !== rows * K) throw new Error(`weight '${name}': ${data.length} values, expected [${rows}, ${K}] = ${rows * K}`);
  return repackGgmlBlocks(f, f === "q8_0" ? encodeQ8_0(data) : encodeQ4_0(data), rows, K, name);
}
