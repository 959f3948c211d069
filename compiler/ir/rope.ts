// Rotary position tables and attention scales of LANGUAGE.md §13.0, computed once for the GPU
// kernels (uploaded as data) and the float64 reference alike, so the two can only differ in
// arithmetic, not in convention. YaRN follows Hugging Face's `_compute_yarn_parameters`
// (transformers/modeling_rope_utils.py) step by step; DeepSeek's extra softmax factor mscale²
// follows its attention module.
import type { IrAttention, IrMla, IrRope } from "./ir.js";

export interface RopeTables {
  /** Inverse frequency of pair i < dim/2: value i rotates by angle t · invFreq[i] at position t. */
  invFreq: Float64Array;
  /** Multiplies cos and sin (YaRN's attention factor; 1 without scaling). */
  cosSinScale: number;
}

/** get_mscale(scale, mscale) of Hugging Face and DeepSeek: 0.1 · mscale · ln(scale) + 1 above scale 1. */
export function yarnMscale(scale: number, mscale = 1): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

export function ropeTables(rope: IrRope): RopeTables {
  const r = rope.dim;
  const n = Math.floor(r / 2);
  const base = rope.theta;
  // pos_freqs = base^(2i / r); extrapolation 1 / pos_freqs.
  const extrapolation = Float64Array.from({ length: n }, (_, i) => 1 / Math.pow(base, (2 * i) / r));
  const y = rope.yarn;
  if (!y) return { invFreq: extrapolation, cosSinScale: 1 };
  const interpolation = extrapolation.map((f) => f / y.factor);
  // find_correction_dim(num_rotations) = r · ln(original / (num_rotations · 2π)) / (2 ln base); truncated to integers.
  const correctionDim = (rotations: number) => (r * Math.log(y.original / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
  const low = Math.max(Math.floor(correctionDim(y.betaFast)), 0);
  let high = Math.min(Math.ceil(correctionDim(y.betaSlow)), r - 1);
  if (low === high) high += 0.001;
  const invFreq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
    const extrapolationFactor = 1 - ramp;
    invFreq[i] = interpolation[i]! * (1 - extrapolationFactor) + extrapolation[i]! * extrapolationFactor;
  }
  // attention_factor: mscale / mscale_all_dim when both are set (non-zero), else get_mscale(factor).
  const cosSinScale = y.mscale && y.mscaleAllDim ? yarnMscale(y.factor, y.mscale) / yarnMscale(y.factor, y.mscaleAllDim) : yarnMscale(y.factor);
  return { invFreq, cosSinScale };
}

/** The factor applied to q·k before the softmax: 1/sqrt(hd). */
export function attentionScale(a: IrAttention): number {
  return 1 / Math.sqrt(a.headDim);
}

/** MLA's: 1/sqrt(Dn + Dr), times DeepSeek's mscale² (yarn_get_mscale(factor, mscale_all_dim)²) with YaRN. */
export function mlaScale(a: IrMla): number {
  const base = 1 / Math.sqrt(a.nopeDim + a.ropeDim);
  const y = a.rope.yarn;
  if (!y || !y.mscaleAllDim) return base;
  const m = yarnMscale(y.factor, y.mscaleAllDim);
  return base * m * m;
}
