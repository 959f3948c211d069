// The host-side token choice of decoding graphs (LANGUAGE.md §11.2 with §13.2's order): logits are
// read back and chosen from here, because `mean` combines several agents' distributions and
// `cascade` needs A's confidence before choosing. Each agent has its own generator, seeded
// `seed + i`. Greedy: the highest value, ties to the lowest id.
import { resolveSamplingOptions, type ResolvedSamplingOptions, type SamplingOptions } from "../../kernels/sampling/sampling-options.js";
import { xoshiro128ss } from "../../weights/random-weights.js";

export class CpuSampler {
  private readonly next: () => number;
  readonly options: ResolvedSamplingOptions;

  constructor(options: SamplingOptions, agent: number) {
    this.options = resolveSamplingOptions(options);
    this.next = xoshiro128ss(this.options.seed + agent);
  }

  get greedy(): boolean {
    return this.options.temperature === 0;
  }

  /** One agent's logits divided by τ (1 when greedy), then its repetition penalty on `seen`. */
  prepare(logits: ArrayLike<number>, seen: ReadonlySet<number>): Float64Array {
    const tau = this.greedy ? 1 : this.options.temperature, r = this.options.repetitionPenalty;
    const z = new Float64Array(logits.length);
    for (let i = 0; i < z.length; i++) {
      const t = logits[i]! / tau;
      z[i] = seen.has(i) ? (t > 0 ? t / r : t * r) : t;
    }
    return z;
  }

  /** Draws from one agent's logits (τ, penalty, top-k, top-p, min-p). */
  pick(logits: ArrayLike<number>, seen: ReadonlySet<number>): number {
    return this.choose(this.prepare(logits, seen));
  }

  /** Chooses from prepared values (no second division by τ): greedy, or top-k, top-p, min-p and a draw. */
  choose(z: Float64Array): number {
    if (this.greedy) {
      let best = 0;
      for (let i = 1; i < z.length; i++) if (z[i]! > z[best]!) best = i;
      return best;
    }
    const { topK, topP, minP } = this.options;
    let order = Array.from({ length: z.length }, (_, i) => i).sort((a, b) => z[b]! - z[a]! || a - b);
    if (topK > 0 && topK < order.length) order = order.slice(0, topK);
    const top = z[order[0]!]!;
    const w = order.map((i) => Math.exp(z[i]! - top));
    let n = w.length;
    if (topP < 1) {
      const total = w.reduce((s, x) => s + x, 0);
      let mass = 0;
      for (n = 0; n < w.length; ) if ((mass += w[n++]! / total) >= topP) break;
    }
    let kept = order.slice(0, n).map((id, j) => ({ id, w: w[j]! }));
    if (minP > 0) kept = kept.filter((k) => k.w >= minP);
    const total = kept.reduce((s, k) => s + k.w, 0);
    let u = (this.next() / 4294967296) * total;
    for (const k of kept) if ((u -= k.w) < 0) return k.id;
    return kept[kept.length - 1]!.id;
  }
}

/** The ensemble's values `log(mean_i softmax(z_i))` over agents' prepared logits (§11.2 `mean`). */
export function logMeanSoftmax(zs: readonly Float64Array[]): Float64Array {
  const V = zs[0]!.length;
  const lsm = zs.map((z) => {
    let m = -Infinity;
    for (const x of z) m = Math.max(m, x);
    let s = 0;
    for (const x of z) s += Math.exp(x - m);
    const lse = m + Math.log(s);
    return z.map((x) => x - lse);
  });
  const out = new Float64Array(V);
  for (let v = 0; v < V; v++) {
    let m = -Infinity;
    for (const l of lsm) m = Math.max(m, l[v]!);
    let s = 0;
    for (const l of lsm) s += Math.exp(l[v]! - m);
    out[v] = m + Math.log(s / lsm.length);
  }
  return out;
}

/** The highest probability of softmax(logits) (τ = 1): `cascade`'s confidence. */
export function confidence(logits: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]!);
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i]! - m);
  return 1 / s;
}
