// The host-side choice of decoding graphs (runtime/generate/graphs/cpu-sampler.ts): draws follow
// §13.2's distribution as the float64 reference computes it (runtime/reference/ref-sampling.ts,
// which sorts independently), agent i's stream is seeded seed + i, greedy takes the highest value
// with ties to the lowest id, and the ensemble's log-mean-softmax and cascade's confidence equal
// hand-derived numbers.
import { describe, expect, it } from "vitest";
import { CpuSampler, confidence, logMeanSoftmax } from "../../../../runtime/generate/graphs/cpu-sampler.js";
import { referenceSampling } from "../../../../runtime/reference/ref-sampling.js";

const LOGITS = [1.5, -0.5, 2.0, 0.25, 2.0, -1.0, 0.75, 1.0];

describe("CpuSampler", () => {
  it("greedy: highest penalized value, ties to the lowest id", () => {
    const s = new CpuSampler({}, 0);
    expect(s.pick(LOGITS, new Set())).toBe(2); // 2.0 at ids 2 and 4
    expect(new CpuSampler({ repetitionPenalty: 2 }, 0).pick(LOGITS, new Set([2, 4]))).toBe(0); // 2.0 / 2 = 1.0 < 1.5
  });

  for (const opts of [{ temperature: 0.8 }, { temperature: 1.2, topK: 4, repetitionPenalty: 1.3 }, { temperature: 1, topP: 0.7 }, { temperature: 0.9, minP: 0.3 }]) {
    it(`draws follow the reference distribution: ${JSON.stringify(opts)}`, () => {
      const seen = new Set([0, 6]);
      const ref = referenceSampling(LOGITS, seen, opts).probs;
      const s = new CpuSampler({ ...opts, seed: 11 }, 0);
      const n = 40_000;
      const counts = new Array<number>(LOGITS.length).fill(0);
      for (let i = 0; i < n; i++) counts[s.pick(LOGITS, seen)]!++;
      for (let v = 0; v < LOGITS.length; v++) {
        // Binomial standard deviation; 5σ plus a small floor.
        const sd = Math.sqrt(ref[v]! * (1 - ref[v]!) / n);
        expect(Math.abs(counts[v]! / n - ref[v]!), `id ${v}`).toBeLessThanOrEqual(5 * sd + 1e-3);
        if (ref[v] === 0) expect(counts[v]).toBe(0);
      }
    });
  }

  it("agent i's stream is seeded seed + i: reproducible, and agents differ", () => {
    const draws = (seed: number, agent: number) => {
      const s = new CpuSampler({ temperature: 1, seed }, agent);
      return Array.from({ length: 32 }, () => s.pick(LOGITS, new Set()));
    };
    expect(draws(5, 1)).toEqual(draws(5, 1));
    expect(draws(5, 1)).toEqual(draws(6, 0));
    expect(draws(5, 1)).not.toEqual(draws(5, 0));
  });
});

describe("ensemble and cascade numbers", () => {
  it("log-mean-softmax equals log((softmax(a) + softmax(b)) / 2) by hand", () => {
    const a = Float64Array.of(0, Math.log(3)); // softmax: 1/4, 3/4
    const b = Float64Array.of(Math.log(3), 0); // softmax: 3/4, 1/4
    const m = logMeanSoftmax([a, b]);
    expect(m[0]).toBeCloseTo(Math.log(0.5), 12);
    expect(m[1]).toBeCloseTo(Math.log(0.5), 12);
    const c = logMeanSoftmax([Float64Array.of(0, 0, Math.log(2))]); // 1/4, 1/4, 1/2
    expect(Array.from(c)).toEqual([Math.log(0.25), Math.log(0.25), Math.log(0.5)].map((x) => expect.closeTo(x, 12)));
  });

  it("confidence is the highest softmax probability at τ = 1", () => {
    expect(confidence([0, Math.log(3)])).toBeCloseTo(0.75, 12);
    expect(confidence([5, 5, 5, 5])).toBeCloseTo(0.25, 12);
  });
});
