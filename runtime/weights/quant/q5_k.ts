// ggml's Q5_K super-block (ggml-common.h `block_q5_K`, 176 bytes, 256 values): f16 d, f16 dmin,
// 12 bytes of 6-bit scales and mins (k-scales.ts), 32 bytes qh of fifth bits, 128 bytes of
// nibbles. As dequantize_row_q5_K: for the i-th 64 values, sub-block 2i takes the low nibbles
// of qs[32i…] and bit 2i of qh[l]; sub-block 2i+1 the high nibbles and bit 2i+1;
// value = d·scale_j·(q + 16·bit) − dmin·min_j.

import { f16BitsToF32 } from "../../safetensors/dtype.js";
import { scaleMinK4 } from "./k-scales.js";
import { QK_K } from "./q4_k.js";

export const Q5_K_BYTES = 176;

export function decodeQ5K(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let b = 0; b < count / QK_K; b++) {
    const o = b * Q5_K_BYTES;
    const d = f16BitsToF32(bytes[o]! | (bytes[o + 1]! << 8));
    const dmin = f16BitsToF32(bytes[o + 2]! | (bytes[o + 3]! << 8));
    const qh = o + 16, qs = o + 48;
    for (let i = 0; i < 4; i++) {
      const [sc1, m1] = scaleMinK4(2 * i, bytes, o + 4);
      const [sc2, m2] = scaleMinK4(2 * i + 1, bytes, o + 4);
      const u1 = 1 << (2 * i), u2 = 2 << (2 * i);
      const y = b * QK_K + 64 * i;
      for (let l = 0; l < 32; l++) {
        const q = bytes[qs + 32 * i + l]!, h = bytes[qh + l]!;
        out[y + l] = d * sc1 * ((q & 0x0f) + (h & u1 ? 16 : 0)) - dmin * m1;
        out[y + 32 + l] = d * sc2 * ((q >> 4) + (h & u2 ? 16 : 0)) - dmin * m2;
      }
    }
  }
  return out;
}
