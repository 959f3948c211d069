// The float64 sampling reference against probability tables derived by hand from §13.2: each
// filter alone, their order (top-p renormalizes over top-k's survivors), the tie rules, and greedy.
import { describe, expect, it } from "vitest";
import { referenceSampling } from "../../../runtime/reference/ref-sampling.js";

// Weights 8:4:2:2:1:1:1:1 (sum 20): probabilities .4 .2 .1 .1 .05 .05 .05 .05 at τ = 1.
const W = [8, 4, 2, 2, 1, 1, 1, 1];
const L = W.map(Math.log);
const table = (weights: number[]): number[] => {
  const s = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / s);
};

function expectProbs(got: Float64Array, want: number[]): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 12));
}

describe("referenceSampling", () => {
  it("temperature 1 is the softmax; temperature 2 takes square roots of the weights", () => {
    expectProbs(referenceSampling(L, [], { temperature: 1 }).probs, [0.4, 0.2, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05]);
    expectProbs(referenceSampling(L, [], { temperature: 2 }).probs, table(W.map(Math.sqrt)));
  });

  it("top-k keeps the k most likely, the lower id on a tie", () => {
    expectProbs(referenceSampling(L, [], { temperature: 1, topK: 3 }).probs, table([8, 4, 2, 0, 0, 0, 0, 0]));
    expectProbs(referenceSampling(L, [], { temperature: 1, topK: 5 }).probs, table([8, 4, 2, 2, 1, 0, 0, 0]));
  });

  it("top-p keeps the shortest prefix reaching P, after top-k's renormalization", () => {
    // .4 .6 .7 .8 ≥ .75: four tokens.
    expectProbs(referenceSampling(L, [], { temperature: 1, topP: 0.75 }).probs, table([8, 4, 2, 2, 0, 0, 0, 0]));
    // After top-k = 6 the masses are 8/18, 12/18, 14/18, 16/18 = .889 ≥ .87: four tokens (without
    // renormalizing, .8 < .87 would keep a fifth).
    expectProbs(referenceSampling(L, [], { temperature: 1, topK: 6, topP: 0.87 }).probs, table([8, 4, 2, 2, 0, 0, 0, 0]));
    // A prefix that reaches P exactly in the middle of a tie keeps the lower id: .4 .6 .7 ≥ .65.
    expectProbs(referenceSampling(L, [], { temperature: 1, topP: 0.65 }).probs, table([8, 4, 2, 0, 0, 0, 0, 0]));
  });

  it("min-p drops tokens below M · p_max", () => {
    // 0.3 · .4 = .12: .2 stays, .1 goes.
    expectProbs(referenceSampling(L, [], { temperature: 1, minP: 0.3 }).probs, table([8, 4, 0, 0, 0, 0, 0, 0]));
    // 0.2 · .4 = .08: the .1s stay.
    expectProbs(referenceSampling(L, [], { temperature: 1, minP: 0.2 }).probs, table([8, 4, 2, 2, 0, 0, 0, 0]));
  });

  it("the repetition penalty divides a positive seen logit by R and multiplies a negative one", () => {
    const l = [1, 2, -1, 0.5, 0, 0, 0, 0];
    // seen {1, 2}, R = 2: 2 → 1, −1 → −2; unseen and zero logits unchanged.
    const want = table([Math.E, Math.E, Math.exp(-2), Math.exp(0.5), 1, 1, 1, 1]);
    expectProbs(referenceSampling(l, [1, 2, 2], { temperature: 1, repetitionPenalty: 2 }).probs, want);
    // Applied after τ = 0.5: 2·[1, 2, −1, .5] → seen 4/2 = 2 and −2·2 = −4.
    expectProbs(referenceSampling(l, [1, 2], { temperature: 0.5, repetitionPenalty: 2 }).probs, table([Math.exp(2), Math.exp(2), Math.exp(-4), Math.E, 1, 1, 1, 1]));
  });

  it("greedy takes the highest value, the lowest id on a tie, after the penalty", () => {
    expect(referenceSampling([1, 3, 3, 2], [], {}).greedy).toBe(1);
    expect(referenceSampling([1, 3, 3, 2], [1], { repetitionPenalty: 2 }).greedy).toBe(2);
    // 3 / 2 = 1.5 < 2: id 3 wins once both 3s are penalized.
    expect(referenceSampling([1, 3, 3, 2], [1, 2], { repetitionPenalty: 2 }).greedy).toBe(3);
    expectProbs(referenceSampling([-5, -1, -1], [], {}).probs, [0, 1, 0]);
  });
});
