// AWQ int4 linear weights as AutoAWQ's GEMM layout writes them (awq/modules/linear/gemm.py):
//   qweight int32 [in, out/8] and qzeros int32 [groups, out/8], both packed along the output
//   dimension in the interleaved order [0, 2, 4, 6, 1, 3, 5, 7]: nibble i of a word holds output
//   column 8·word + ORDER[i] (so column j is in nibble REVERSE[j], [0, 4, 1, 5, 2, 6, 3, 7]);
//   zeros are stored as they are (no +1 as in GPTQ v1); scales f16 [groups, out]; group k/group_size.
// W[n, k] = scales[g, n] · (q − z); returned as [out, in].

import type { Int4Linear } from "./gptq.js";

export const AWQ_REVERSE_ORDER = [0, 4, 1, 5, 2, 6, 3, 7] as const;

export interface AwqLinear extends Int4Linear {
  groupSize: number;
}

export function dequantizeAwq(w: AwqLinear): Float32Array {
  const { inFeatures: K, outFeatures: N, qweight, qzeros, scales, groupSize } = w;
  const out = new Float32Array(N * K);
  const words = N / 8;
  const at = (packed: Int32Array, row: number, n: number) => (packed[row * words + (n >> 3)]! >>> (4 * AWQ_REVERSE_ORDER[n & 7]!)) & 0x0f;
  for (let k = 0; k < K; k++) {
    const g = Math.floor(k / groupSize);
    for (let n = 0; n < N; n++) out[n * K + k] = scales[g * N + n]! * (at(qweight, k, n) - at(qzeros, g, n));
  }
  return out;
}
