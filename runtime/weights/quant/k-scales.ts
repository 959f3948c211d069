// The 12-byte scale field of ggml's Q4_K and Q5_K super-blocks: 8 sub-block scales and 8 mins of
// 6 bits each (ggml-quants.c `get_scale_min_k4`). Sub-blocks 0–3 keep scale and min in the low 6
// bits of bytes 0–3 and 4–7; sub-blocks 4–7 keep their low 4 bits in the nibbles of bytes 8–11
// (scale low, min high) and their top 2 bits in the top 2 bits of bytes 0–3 (scale) and 4–7 (min).

/** Sub-block j's 6-bit scale and min. */
export function scaleMinK4(j: number, q: Uint8Array, o: number): [number, number] {
  if (j < 4) return [q[o + j]! & 63, q[o + j + 4]! & 63];
  return [(q[o + j + 4]! & 0x0f) | ((q[o + j - 4]! >> 6) << 4), (q[o + j + 4]! >> 4) | ((q[o + j]! >> 6) << 4)];
}

/** Packs 8 scales and 8 mins (each 0–63) into the 12 bytes at `o`. */
export function packScaleMinK4(scales: ArrayLike<number>, mins: ArrayLike<number>, out: Uint8Array, o: number): void {
  for (let j = 0; j < 4; j++) {
    out[o + j] = (scales[j]! & 63) | ((scales[j + 4]! >> 4) << 6);
    out[o + j + 4] = (mins[j]! & 63) | ((mins[j + 4]! >> 4) << 6);
    out[o + j + 8] = (scales[j + 4]! & 0x0f) | ((mins[j + 4]! & 0x0f) << 4);
  }
}
