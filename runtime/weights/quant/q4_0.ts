// ggml's Q4_0 block (ggml-common.h `block_q4_0`): 32 values as an f16 scale d then 16 bytes of
// nibbles; value = (q − 8)·d; byte j's low nibble is element j, its high nibble element j + 16.
// 18 bytes per block. The encoder follows quantize_row_q4_0_ref: the value of largest magnitude
// m sets d = m / −8 (so it is exactly q = 0), q = min(15, ⌊x/d + 8.5⌋). Values on the other side
// of zero reach only 7·|d|, so the error bound is |d| = max|x|/8 (|d|/2 elsewhere).

import { f16BitsToF32, f32ToF16Bits } from "../../safetensors/dtype.js";

export const Q4_0_BLOCK = 32;
export const Q4_0_BYTES = 18;

export function decodeQ4_0(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let b = 0; b < count / Q4_0_BLOCK; b++) {
    const o = b * Q4_0_BYTES;
    const d = f16BitsToF32(bytes[o]! | (bytes[o + 1]! << 8));
    for (let j = 0; j < 16; j++) {
      const q = bytes[o + 2 + j]!;
      out[b * Q4_0_BLOCK + j] = ((q & 0x0f) - 8) * d;
      out[b * Q4_0_BLOCK + j + 16] = ((q >> 4) - 8) * d;
    }
  }
  return out;
}

export function encodeQ4_0(values: Float32Array): Uint8Array {
  const blocks = values.length / Q4_0_BLOCK;
  const out = new Uint8Array(blocks * Q4_0_BYTES);
  for (let b = 0; b < blocks; b++) {
    const x = values.subarray(b * Q4_0_BLOCK, (b + 1) * Q4_0_BLOCK);
    let m = 0;
    for (const v of x) if (Math.abs(v) > Math.abs(m)) m = v;
    const dBits = f32ToF16Bits(m / -8);
    const d = f16BitsToF32(dBits);
    const q = (v: number) => (d === 0 ? 8 : Math.max(0, Math.min(15, Math.floor(v / d + 8.5))));
    const o = b * Q4_0_BYTES;
    out[o] = dBits & 0xff;
    out[o + 1] = dBits >> 8;
    for (let j = 0; j < 16; j++) out[o + 2 + j] = q(x[j]!) | (q(x[j + 16]!) << 4);
  }
  return out;
}
