// The row-wise model ops of the reference against hand arithmetic: embed (rows, and the error an
// out-of-range id gives), rms and layer norm (population variance), and the three chained through
// interpretReference from a compiled .moe (embed → layernorm → tied lm_head).
import { describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { embedReference, normReference } from "../../../runtime/reference/ref-blocks.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { expectValues } from "../../helpers/model-blocks.js";

const F = (...v: number[]) => Float64Array.from(v);

describe("embed", () => {
  const weight = F(1, 2, 3, 4, 5, 6); // [V = 3, D = 2]

  it("copies row ids[t] for each position", () => {
    expect(Array.from(embedReference(weight, 3, 2, [2, 0, 2], 3))).toEqual([5, 6, 1, 2, 5, 6]);
  });

  it("an id outside 0…V−1 is an error naming the position and the id", () => {
    expect(() => embedReference(weight, 3, 2, [0, 3], 2)).toThrow("token 1 is id 3, outside the vocabulary 0…2");
    expect(() => embedReference(weight, 3, 2, [-1], 1)).toThrow("token 0 is id -1, outside the vocabulary 0…2");
    expect(() => embedReference(weight, 3, 2, [0, 0, 1.5], 3)).toThrow("token 2 is id 1.5");
  });
});

describe("norm", () => {
  it("rms: x / sqrt(mean(x²) + eps) · w", () => {
    // x = [3, 4]: mean(x²) = (9 + 16)/2 = 12.5; + eps 0.5 = 13 → [3, 4]/√13 · [1, 2] = [3/√13, 8/√13].
    const W = new Map([["n.weight", F(1, 2)]]);
    expectValues(normReference("rms", W, "n", 0.5, F(3, 4), 1, 2), [3 / Math.sqrt(13), 8 / Math.sqrt(13)]);
  });

  it("layer: (x − mean) / sqrt(var + eps) · w + b, var the population variance, row by row", () => {
    // Row 0, x = [1, 2, 3, 6]: mean 3, deviations [−2, −1, 0, 3], var (4 + 1 + 0 + 9)/4 = 3.5
    // (the sample variance would be 14/3); sqrt(3.5 + 0.5) = 2 → [−1, −0.5, 0, 1.5]
    // · w [1, 2, 3, 4] + b [0, 1, 0, −1] = [−1, 0, 0, 5].
    // Row 1, x = [2, 2, 2, 2]: deviations 0 → b = [0, 1, 0, −1].
    const W = new Map([["n.weight", F(1, 2, 3, 4)], ["n.bias", F(0, 1, 0, -1)]]);
    expectValues(normReference("layer", W, "n", 0.5, F(1, 2, 3, 6, 2, 2, 2, 2), 2, 4), [-1, 0, 0, 5, 0, 1, 0, -1]);
  });

  it("a missing or mis-sized weight is named", () => {
    expect(() => normReference("layer", new Map([["n.weight", F(1, 1)]]), "n", 0.5, F(1, 2), 1, 2)).toThrow("missing weight 'n.bias'");
    expect(() => normReference("rms", new Map([["n.weight", F(1)]]), "n", 0.5, F(1, 2), 1, 2)).toThrow("weight 'n.weight' has 1 values, expected 2");
  });
});

describe("interpretReference runs embed, norm and a tied lm_head from a compiled model", () => {
  const source = `model m(tokens: [T], V = 2, D = 4) {
  let emb = embed(tokens, vocab = V, dim = D)
  let n = layernorm(emb, eps = 0.5)
  let logits = lm_head(n, tied = emb)
  return logits
}
`;
  const res = compile({ source, file: "m.moe" });
  const W = new Map([
    ["emb.weight", F(1, 2, 3, 6, 0, 0, 0, 0)],
    ["n.weight", F(1, 2, 3, 4)],
    ["n.bias", F(0, 1, 0, -1)],
  ]);

  it("gives the hand logits", () => {
    expect(res.ok, res.formatDiagnostics()).toBe(true);
    // ids [0, 1]: embed rows [1, 2, 3, 6] and [0, 0, 0, 0]; layernorm (as above) [−1, 0, 0, 5] and b = [0, 1, 0, −1];
    // logits = n · embᵀ: row 0 [−1 + 0 + 0 + 30, 0] = [29, 0]; row 1 [0 + 2 + 0 − 6, 0] = [−4, 0].
    const out = interpretReference(res.program!, W, new Map([["tokens", Int32Array.of(0, 1)]]), 2).get("logits")!;
    expectValues(out, [29, 0, -4, 0]);
  });

  it("reports an out-of-range id by position and id", () => {
    expect(() => interpretReference(res.program!, W, new Map([["tokens", Int32Array.of(1, 0, 7)]]), 3)).toThrow("token 2 is id 7, outside the vocabulary 0…1");
  });
});
