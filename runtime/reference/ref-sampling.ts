// Float64 reference of LANGUAGE.md §13.2's sampling, written from the text and independent of the
// WGSL (it sorts; the kernel bisects): given one row of logits, the seen set and the options, the
// exact probability of each token after temperature, repetition penalty, top-k, top-p and min-p,
// or, at τ = 0, the greedy id. Tests compare the GPU's draws against these probabilities.

import { resolveSamplingOptions, type SamplingOptions } from "../kernels/sampling/sampling-options.js";

export interface ReferenceSampling {
  /** Probability of each token id (sums to 1; exactly one 1 when greedy). */
  probs: Float64Array;
  /** The greedy id at τ = 0, else undefined. */
  greedy?: number;
}

/** Hugging Face's repetition penalty on one logit: divided by R when positive, multiplied when not. */
export function penalize(z: number, r: number): number {
  return z > 0 ? z / r : z * r;
}

/**
 * The distribution the sampler draws from. `seen` holds the ids of the prompt and the tokens
 * generated so far (duplicates do not matter: the penalty applies once per token).
 * Greedy applies the repetition penalty too (as Hugging Face's greedy search does), then takes the
 * highest value, ties to the lowest id.
 */
export function referenceSampling(logits: ArrayLike<number>, seen: Iterable<number>, options: SamplingOptions): ReferenceSampling {
  const o = resolveSamplingOptions(options);
  const V = logits.length;
  const seenSet = new Set(seen);
  const tau = o.temperature === 0 ? 1 : o.temperature;
  const z = new Float64Array(V);
  for (let i = 0; i < V; i++) {
    const t = logits[i]! / tau;
    z[i] = seenSet.has(i) ? penalize(t, o.repetitionPenalty) : t;
  }
  const probs = new Float64Array(V);
  // The one total order every filter keeps a prefix of: value descending, then id ascending.
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => z[b]! - z[a]! || a - b);
  if (o.temperature === 0) {
    probs[order[0]!] = 1;
    return { probs, greedy: order[0]! };
  }
  let kept = order;
  if (o.topK > 0 && o.topK < V) kept = kept.slice(0, o.topK);
  const zmax = z[kept[0]!]!;
  const weight = (i: number): number => Math.exp(z[i]! - zmax);
  if (o.topP < 1) {
    // Renormalized over what top-k kept; the shortest prefix whose mass reaches P.
    const total = kept.reduce((s, i) => s + weight(i), 0);
    let mass = 0;
    let n = 0;
    while (n < kept.length) {
      mass += weight(kept[n]!) / total;
      n++;
      if (mass >= o.topP) break;
    }
    kept = kept.slice(0, n);
  }
  if (o.minP > 0) {
    // p_i / p_max = exp(z_i − z_max) whatever the normalization, so renormalizing cannot change it.
    kept = kept.filter((i) => weight(i) >= o.minP);
  }
  const total = kept.reduce((s, i) => s + weight(i), 0);
  for (const i of kept) probs[i] = weight(i) / total;
  return { probs };
}
