// ggml's Q4_K super-block (ggml-common.h `block_q4_K`, 144 bytes, 256 values): f16 d, f16 dmin,
// 12 bytes of 6-bit sub-block scales and mins (k-scales.ts), 128 bytes of nibbles. Eight
// sub-blocks of 32: value = d·scale_j·q − dmin·min_j. Per 64 values (dequantize_row_q4_K), 32
// bytes hold sub-block 2i in their low nibbles and sub-block 2i+1 in their high nibbles.
// The encoder is a plain one (not ggml's iterative make_qkx2_quants): per sub-block the offset
// −min(0, min x) and the step (max − min)/15, both then quantized to 6 bits against the
// super-block's d and dmin; the documented bound is one step of the sub-block's own range/15
// plus the 6-bit rounding of its min.

import { f16BitsToF32, f32ToF16Bits } from "../../safetensors/dtype.js";
import { packScaleMinK4, scaleMinK4 } from "./k-scales.js";

export const QK_K = 256;
export const Q4_K_BYTES = 144;

export function decodeQ4K(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let b = 0; b < count / QK_K; b++) {
    const o = b * Q4_K_BYTES;
    const d = f16BitsToF32(bytes[o]! | (bytes[o + 1]! << 8));
    const dmin = f16BitsToF32(bytes[o + 2]! | (bytes[o + 3]! << 8));
    const qs = o + 16;
    for (let i = 0; i < 4; i++) {
      const [sc1, m1] = scaleMinK4(2 * i, bytes, o + 4);
      const [sc2, m2] = scaleMinK4(2 * i + 1, bytes, o + 4);
      const y = b * QK_K + 64 * i;
      for (let l = 0; l < 32; l++) {
        const q = bytes[qs + 32 * i + l]!;
        out[y + l] = d * sc1 * (q & 0x0f) - dmin * m1;
        out[y + 32 + l] = d * sc2 * (q >> 4) - dmin * m2;
      }
    }
  }
  return out;
}

export function encodeQ4K(values: Float32Array): Uint8Array {
  const blocks = values.length / QK_K;
  const out = new Uint8Array(blocks * Q4_K_BYTES);
  for (let b = 0; b < blocks; b++) {
    const x = values.subarray(b * QK_K, (b + 1) * QK_K);
    const offs = new Float64Array(8), steps = new Float64Array(8);
    for (let j = 0; j < 8; j++) {
      let lo = 0, hi = -Infinity;
      for (let l = 0; l < 32; l++) {
        const v = x[32 * j + l]!;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      offs[j] = -lo;
      steps[j] = (hi - lo) / 15;
    }
    const o = b * Q4_K_BYTES;
    const dminBits = f32ToF16Bits(Math.max(...offs) / 63);
    const dmin = f16BitsToF32(dminBits);
    const mins = Array.from(offs, (m) => (dmin === 0 ? 0 : Math.min(63, Math.round(m / dmin))));
    // The step must reach the sub-block's max from the stored (rounded) offset.
    const need = Array.from(steps, (s, j) => Math.max(s, (Math.max(...Array.from(x.subarray(32 * j, 32 * j + 32))) + dmin * mins[j]!) / 15));
    // Round d up so that ⌈need/d⌉ ≤ 63 for every sub-block.
    let dBits = f32ToF16Bits(Math.max(...need) / 63);
    if (f16BitsToF32(dBits) * 63 < Math.max(...need)) dBits++;
    const d = f16BitsToF32(dBits);
    const scales = need.map((s) => (d === 0 ? 0 : Math.min(63, Math.ceil(s / d - 1e-9))));
    out[o] = dBits & 0xff;
    out[o + 1] = dBits >> 8;
    out[o + 2] = dminBits & 0xff;
    out[o + 3] = dminBits >> 8;
    packScaleMinK4(scales, mins, out, o + 4);
    for (let i = 0; i < 4; i++) {
      for (let half = 0; half < 2; half++) {
        const j = 2 * i + half;
        const step = d * scales[j]!, off = dmin * mins[j]!;
        for (let l = 0; l < 32; l++) {
          const q = step === 0 ? 0 : Math.max(0, Math.min(15, Math.round((x[32 * j + l]! + off) / step)));
          out[o + 16 + 32 * i + l]! |= q << (4 * half);
        }
      }
    }
  }
  return out;
}
