// float64 reference of the model ops that act row by row (LANGUAGE.md §13): `embed` and `norm`,
// plus the helpers the attention reference shares with them (an RMS norm of one slice, a block's
// weights read through the one definition of its tensors, compiler/ir/block-tensors.ts).
// Written from §13.0 alone, independently of the GPU kernels.

import type { BlockTensor } from "../../compiler/ir/block-tensors.js";
import { normTensors } from "../../compiler/ir/block-tensors.js";
import { type RefTensors, tensor } from "./ref-experts.js";

export type Vec = Float32Array | Float64Array;

/** A block's tensors by name (`wq` → weights[`${key}.wq`]), each checked against its shape. */
export function blockWeights(W: RefTensors, key: string, tensors: BlockTensor[]): Record<string, Vec> {
  const out: Record<string, Vec> = {};
  for (const t of tensors) out[t.name] = tensor(W, `${key}.${t.name}`, t.shape.reduce((a, b) => a * b, 1));
  return out;
}

/**
 * In place: x[off … off+n) ← x / sqrt(mean(x²) + eps) · w[wOff …], Hugging Face's RMSNorm
 * (`x * rsqrt(x.pow(2).mean(-1) + eps)`, then the weight), in float64.
 */
export function rmsNormSlice(x: Float64Array, off: number, n: number, w: ArrayLike<number>, wOff: number, eps: number): void {
  let ss = 0;
  for (let i = 0; i < n; i++) ss += x[off + i]! * x[off + i]!;
  const inv = 1 / Math.sqrt(ss / n + eps);
  for (let i = 0; i < n; i++) x[off + i] = x[off + i]! * inv * w[wOff + i]!;
}

/**
 * `embed`: out[t] = weight[ids[t]] ([vocab, D]). An id that is not an integer in 0…vocab−1 is an
 * error naming the position and the id (§13.1), never a read of some other row.
 */
export function embedReference(weight: ArrayLike<number>, vocab: number, D: number, ids: ArrayLike<number>, T: number): Float64Array {
  const out = new Float64Array(T * D);
  for (let t = 0; t < T; t++) {
    const id = ids[t]!;
    if (!Number.isInteger(id) || id < 0 || id >= vocab) {
      throw new Error(`reference: token ${t} is id ${id}, outside the vocabulary 0…${vocab - 1}`);
    }
    for (let d = 0; d < D; d++) out[t * D + d] = weight[id * D + d]!;
  }
  return out;
}

/**
 * `norm` over each row of x [T, D]: rms `x / sqrt(mean(x²) + eps) · w`, or layer
 * `(x − mean) / sqrt(var + eps) · w + b` with the population variance (divided by D, as
 * torch.nn.LayerNorm). Weights `${weight}.weight` [D] (and `.bias` [D]).
 */
export function normReference(kind: "rms" | "layer", W: RefTensors, weight: string, eps: number, x: Float64Array, T: number, D: number): Float64Array {
  const p = blockWeights(W, weight, normTensors(kind, D));
  const w = p["weight"]!;
  const out = Float64Array.from(x.subarray(0, T * D));
  for (let t = 0; t < T; t++) {
    const off = t * D;
    if (kind === "rms") {
      rmsNormSlice(out, off, D, w, 0, eps);
      continue;
    }
    const b = p["bias"]!;
    let mean = 0;
    for (let d = 0; d < D; d++) mean += out[off + d]!;
    mean /= D;
    let v = 0;
    for (let d = 0; d < D; d++) v += (out[off + d]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / D + eps);
    for (let d = 0; d < D; d++) out[off + d] = (out[off + d]! - mean) * inv * w[d]! + b[d]!;
  }
  return out;
}
