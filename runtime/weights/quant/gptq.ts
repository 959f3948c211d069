// GPTQ int4 linear weights as AutoGPTQ writes them (auto_gptq/nn_modules/qlinear, v1 checkpoints):
//   qweight int32 [in/8, out]: input k of output n is nibble k%8 of qweight[k/8, n] (bits 4·(k%8));
//   qzeros  int32 [groups, out/8]: output n's zero is nibble n%8 of qzeros[g, n/8], stored minus
//           one (the pack step does `zeros -= 1`, the kernels add it back), so z = nibble + 1
//           (checkpoint_format "gptq_v2" stores z itself: zeroOffset 0);
//   scales  f16  [groups, out];   g_idx int32 [in]: the group of input k (k / group_size unless
//           act-order reordered it).
// W[n, k] = scales[g, n] · (q − z), g = g_idx[k]; returned as [out, in] like a float checkpoint.

export interface Int4Linear {
  inFeatures: number;
  outFeatures: number;
  qweight: Int32Array;
  qzeros: Int32Array;
  scales: Float32Array;
}

export interface GptqLinear extends Int4Linear {
  gIdx: Int32Array;
  /** Added to a stored zero: 1 for GPTQ v1 checkpoints (the default), 0 for checkpoint_format gptq_v2. */
  zeroOffset?: number;
}

const nibble = (word: number, i: number) => (word >>> (4 * i)) & 0x0f;

export function dequantizeGptq(w: GptqLinear): Float32Array {
  const { inFeatures: K, outFeatures: N, qweight, qzeros, scales, gIdx } = w;
  const offset = w.zeroOffset ?? 1;
  const out = new Float32Array(N * K);
  const zeroWords = N / 8;
  for (let k = 0; k < K; k++) {
    const g = gIdx[k]!;
    for (let n = 0; n < N; n++) {
      const q = nibble(qweight[(k >> 3) * N + n]!, k & 7);
      const z = nibble(qzeros[g * zeroWords + (n >> 3)]!, n & 7) + offset;
      out[n * K + k] = scales[g * N + n]! * (q - z);
    }
  }
  return out;
}
