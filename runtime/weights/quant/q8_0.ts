// ggml's Q8_0 block (ggml-common.h `block_q8_0`): 32 values as an f16 scale d then 32 int8 q;
// value = q·d. 34 bytes per block. The encoder is ggml's reference (quantize_row_q8_0_ref):
// d = max|x|/127, q = round(x/d), so each value is within d/2 of its input.

import { f16BitsToF32, f32ToF16Bits } from "../../safetensors/dtype.js";

export const Q8_0_BLOCK = 32;
export const Q8_0_BYTES = 34;

export function decodeQ8_0(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let b = 0; b < count / Q8_0_BLOCK; b++) {
    const o = b * Q8_0_BYTES;
    const d = f16BitsToF32(bytes[o]! | (bytes[o + 1]! << 8));
    for (let i = 0; i < Q8_0_BLOCK; i++) out[b * Q8_0_BLOCK + i] = ((bytes[o + 2 + i]! << 24) >> 24) * d;
  }
  return out;
}

export function encodeQ8_0(values: Float32Array): Uint8Array {
  const blocks = values.length / Q8_0_BLOCK;
  const out = new Uint8Array(blocks * Q8_0_BYTES);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let i = 0; i < Q8_0_BLOCK; i++) amax = Math.max(amax, Math.abs(values[b * Q8_0_BLOCK + i]!));
    const dBits = f32ToF16Bits(amax / 127);
    // Quantize against the stored (f16-rounded) scale, so the decoder's d is the one used here.
    const d = f16BitsToF32(dBits);
    const o = b * Q8_0_BYTES;
    out[o] = dBits & 0xff;
    out[o + 1] = dBits >> 8;
    for (let i = 0; i < Q8_0_BLOCK; i++) {
      const q = d === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(values[b * Q8_0_BLOCK + i]! / d)));
      out[o + 2 + i] = q & 0xff;
    }
  }
  return out;
}
