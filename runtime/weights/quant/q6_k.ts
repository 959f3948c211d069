// ggml's Q6_K super-block (ggml-common.h `block_q6_K`, 210 bytes, 256 values): 128 bytes ql (low
// 4 bits), 64 bytes qh (high 2 bits), 16 int8 sub-block scales, f16 d. As dequantize_row_q6_K,
// per 128 values (half n, using ql[64n…], qh[32n…], scales[8n…]) and l < 32:
//   y[l]    = d·sc[l/16]·(q1 − 32),  q1 = ql[l] & 15      | (qh[l] >> 0 & 3) << 4
//   y[l+32] = d·sc[l/16+2]·(q2 − 32), q2 = ql[l+32] & 15  | (qh[l] >> 2 & 3) << 4
//   y[l+64] = d·sc[l/16+4]·(q3 − 32), q3 = ql[l] >> 4     | (qh[l] >> 4 & 3) << 4
//   y[l+96] = d·sc[l/16+6]·(q4 − 32), q4 = ql[l+32] >> 4  | (qh[l] >> 6 & 3) << 4

import { f16BitsToF32 } from "../../safetensors/dtype.js";
import { QK_K } from "./q4_k.js";

export const Q6_K_BYTES = 210;

export function decodeQ6K(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let b = 0; b < count / QK_K; b++) {
    const o = b * Q6_K_BYTES;
    const d = f16BitsToF32(bytes[o + 208]! | (bytes[o + 209]! << 8));
    for (let n = 0; n < 2; n++) {
      const ql = o + 64 * n, qh = o + 128 + 32 * n, sc = o + 192 + 8 * n;
      const y = b * QK_K + 128 * n;
      const s = (k: number) => (bytes[sc + k]! << 24) >> 24;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4, h = bytes[qh + l]!;
        const a = bytes[ql + l]!, c = bytes[ql + l + 32]!;
        out[y + l] = d * s(is) * (((a & 15) | (((h >> 0) & 3) << 4)) - 32);
        out[y + l + 32] = d * s(is + 2) * (((c & 15) | (((h >> 2) & 3) << 4)) - 32);
        out[y + l + 64] = d * s(is + 4) * (((a >> 4) | (((h >> 4) & 3) << 4)) - 32);
        out[y + l + 96] = d * s(is + 6) * (((c >> 4) | (((h >> 6) & 3) << 4)) - 32);
      }
    }
  }
  return out;
}
