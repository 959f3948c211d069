// The float64 reference's router stages against values derived by hand from LANGUAGE.md §5.
// Scores are set directly: with D = E and an identity router weight, the logits are x itself.

import { describe, expect, it } from "vitest";
import type { IrStage } from "../../../compiler/ir/ir.js";
import { route, type RouterTrace } from "../../../runtime/reference/interpret.js";
import { router, stages, type StageSpec } from "../../helpers/ir-programs.js";

const identity = (E: number): Float64Array => Float64Array.from({ length: E * E }, (_, i) => (i % (E + 1) === 0 ? 1 : 0));

/** Routes each row of `logits` (one token per row) through linear(identity) |> specs. */
function routeLogits(logits: number[][], specs: StageSpec[], extra: [string, Float64Array][] = []) {
  const E = logits[0]!.length;
  const r = router({ numExperts: E, dim: E, stages: stages("linear", ...specs) });
  const W = new Map<string, Float64Array>([["r.weight", identity(E)], ...extra]);
  const trace = new Map<string, RouterTrace>();
  const sel = route(r, W, Float64Array.from(logits.flat()), logits.length, { trace });
  return { sel, trace: trace.get("r")! };
}

const close = (a: number[], b: number[]) => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 14));
};

describe("score → transform → select → post", () => {
  it("softmax |> topk(2) |> renorm: the two largest, renormalized (= softmax over the pair)", () => {
    const { sel } = routeLogits([[1, 3, 2, 0]], ["softmax", ["topk", { k: 2 }], "renorm"]);
    expect(sel[0]!.ids).toEqual([1, 2]);
    close(sel[0]!.weights, [1 / (1 + Math.exp(-1)), 1 / (1 + Math.exp(1))]);
  });

  it("softmax |> topk(2) without renorm keeps the full-softmax probabilities (sum < 1)", () => {
    const { sel } = routeLogits([[1, 3, 2, 0]], ["softmax", ["topk", { k: 2 }]]);
    const Z = Math.exp(1) + Math.exp(3) + Math.exp(2) + 1;
    close(sel[0]!.weights, [Math.exp(3) / Z, Math.exp(2) / Z]);
  });

  it("topk(k) |> softmax ≡ softmax |> topk(k) |> renorm (the equivalence §5 states)", () => {
    const a = routeLogits([[0.3, -1, 2.5, 0.7, 1.1]], [["topk", { k: 3 }], "softmax"]).sel[0]!;
    const b = routeLogits([[0.3, -1, 2.5, 0.7, 1.1]], ["softmax", ["topk", { k: 3 }], "renorm"]).sel[0]!;
    expect(a.ids).toEqual(b.ids);
    close(a.weights, b.weights);
  });

  it("ties go to the lower expert index", () => {
    expect(routeLogits([[2, 5, 5, 1]], [["topk", { k: 1 }]]).sel[0]!.ids).toEqual([1]);
    expect(routeLogits([[5, 5, 5, 5]], [["topk", { k: 2 }]]).sel[0]!.ids).toEqual([0, 1]);
  });

  it("raw linear weights may be negative; scale(s) multiplies the selected weights", () => {
    const { sel } = routeLogits([[-3, -1, -2]], [["topk", { k: 2 }], ["scale", { s: 2.5 }]]);
    expect(sel[0]!.ids).toEqual([1, 2]);
    close(sel[0]!.weights, [-2.5, -5]);
  });

  it("bias(aux_free) moves the selection only; the weight stays the unbiased score", () => {
    const eBias = Float64Array.from([1, 0, 0]);
    const { sel, trace } = routeLogits([[0, 0.1, 0.2]], ["sigmoid", ["bias", { mode: "aux_free" }], ["topk", { k: 1 }]], [["r.e_bias", eBias]]);
    expect(sel[0]!.ids).toEqual([0]);
    close(sel[0]!.weights, [0.5]);
    close(Array.from(trace.streams[0]!.sel), [1.5, 1 / (1 + Math.exp(-0.1)), 1 / (1 + Math.exp(-0.2))]);
  });

  it("temp, exp and log_softmax act on both streams", () => {
    const t = routeLogits([[2, 4]], [["temp", { tau: 2 }], "dense"]).sel[0]!;
    close(t.weights, [1, 2]);
    const e = routeLogits([[0, Math.log(3)]], ["exp", "dense"]).sel[0]!;
    close(e.weights, [1, 3]);
    const l = routeLogits([[0, Math.log(3)]], ["log_softmax", "dense"]).sel[0]!;
    close(l.weights, [Math.log(0.25), Math.log(0.75)]);
  });
});

describe("ragged and batch selectors", () => {
  const probs = [[Math.log(0.4), Math.log(0.3), Math.log(0.2), Math.log(0.1)]];

  it("topp: the shortest prefix whose weight sum exceeds p, at least 1, at most max", () => {
    expect(routeLogits(probs, ["softmax", ["topp", { p: 0.5 }]]).sel[0]!.ids).toEqual([0, 1]);
    expect(routeLogits(probs, ["softmax", ["topp", { p: 0.35 }]]).sel[0]!.ids).toEqual([0]);
    expect(routeLogits(probs, ["softmax", ["topp", { p: 0.95, max: 2 }]]).sel[0]!.ids).toEqual([0, 1]);
    expect(routeLogits(probs, ["softmax", ["topp", { p: 0.95, max: 99 }]]).sel[0]!.ids).toEqual([0, 1, 2, 3]);
  });

  it("threshold: scores ≥ δ, highest first, at most max; may be none", () => {
    expect(routeLogits(probs, ["softmax", ["threshold", { delta: 0.25 }]]).sel[0]!.ids).toEqual([0, 1]);
    expect(routeLogits(probs, ["softmax", ["threshold", { delta: 0.35 }]]).sel[0]!.ids).toEqual([0]);
    expect(routeLogits(probs, ["softmax", ["threshold", { delta: 0.15, max: 2 }]]).sel[0]!.ids).toEqual([0, 1]);
    expect(routeLogits(probs, ["softmax", ["threshold", { delta: 0.5 }]]).sel[0]!.ids).toEqual([]);
  });

  it("group_topk keeps the groups with the largest top-2 sums, then takes top-k inside them", () => {
    const logits = [[0.9, 0.1, 0.5, 0.45]];
    // groups {0,1}: 1.0, {2,3}: 0.95 → keep group 0, although expert 2 beats expert 1.
    expect(routeLogits(logits, [["group_topk", { k: 2, groups: 2, keep: 1 }]]).sel[0]!.ids).toEqual([0, 1]);
    expect(routeLogits(logits, [["topk", { k: 2 }]]).sel[0]!.ids).toEqual([0, 2]);
    // One expert per group: the group score is that expert's score.
    expect(routeLogits(logits, [["group_topk", { k: 2, groups: 4, keep: 2 }]]).sel[0]!.ids).toEqual([0, 2]);
  });

  it("choose: each expert takes its max(1, min(T, ⌊c·T/E⌋)) best tokens; a token may get 0…E experts", () => {
    // T = 4, E = 2, c = 1 → 2 tokens per expert.
    const logits = [
      [0.9, 0.8],
      [0.1, 0.7],
      [0.5, 0.2],
      [0.3, 0.1],
    ];
    const { sel } = routeLogits(logits, [["choose", { capacity: 1 }]]);
    expect(sel.map((s) => s.ids)).toEqual([[0, 1], [1], [0], []]);
    close(sel[0]!.weights, [0.9, 0.8]);
    // c = 0.1 → ⌊0.2⌋ = 0, raised to 1 token per expert.
    expect(routeLogits(logits, [["choose", { capacity: 0.1 }]]).sel.map((s) => s.ids)).toEqual([[0, 1], [], [], []]);
  });

  it("dense selects every expert in index order; post-select softmax and exp", () => {
    const d = routeLogits([[0, Math.log(2), Math.log(5)]], ["dense", "softmax"]).sel[0]!;
    expect(d.ids).toEqual([0, 1, 2]);
    close(d.weights, [1 / 8, 2 / 8, 5 / 8]);
    close(routeLogits([[1, 2]], ["dense", "exp"]).sel[0]!.weights, [Math.E, Math.E ** 2]);
  });

  it("renorm leaves all-zero weights at zero", () => {
    close(routeLogits([[0, 0, 0]], [["topk", { k: 2 }], "renorm"]).sel[0]!.weights, [0, 0]);
  });
});

describe("other score stages", () => {
  it("cosine(temp): cosine similarity of x and each expert row, divided by τ", () => {
    const st: IrStage[] = [
      { name: "cosine", role: "score", params: { temp: 0.5 } },
      { name: "dense", role: "select", params: {} },
    ];
    const r = { ...router({ numExperts: 2, dim: 2, stages: st }) };
    const W = new Map([["r.weight", Float64Array.from([3, 0, 1, 1])]]);
    const sel = route(r, W, Float64Array.from([0, 2]), 1);
    close(sel[0]!.weights, [0, Math.SQRT1_2 / 0.5]);
  });

  it("product keys: log_softmax per part, summed; expert index i0·n + i1", () => {
    const st: IrStage[] = [
      { name: "product", role: "score", params: { parts: 2, size: 2, norm: "none" } },
      { name: "dense", role: "select", params: {} },
    ];
    const r = router({ numExperts: 4, dim: 2, stages: st });
    // part 0 logits = [x0, 0], part 1 logits = [0, x1].
    const W = new Map([
      ["r.0.weight", Float64Array.from([1, 0, 0, 0])],
      ["r.1.weight", Float64Array.from([0, 0, 0, 1])],
    ]);
    const x = [Math.log(3), Math.log(4)];
    const sel = route(r, W, Float64Array.from(x), 1);
    const p0 = [3 / 4, 1 / 4];
    const p1 = [1 / 5, 4 / 5];
    close(sel[0]!.weights, [0, 1, 2, 3].map((e) => Math.log(p0[Math.floor(e / 2)]!) + Math.log(p1[e % 2]!)));
  });
});

describe("forced selection (near-tie tests evaluate the reference on the GPU's choice)", () => {
  it("uses the given ids, the reference's own weights and the post stages", () => {
    const E = 3;
    const r = router({ numExperts: E, dim: E, stages: stages("linear", "softmax", ["topk", { k: 2 }], "renorm") });
    const W = new Map([["r.weight", identity(E)]]);
    const sel = route(r, W, Float64Array.from([1, 1, 0]), 1, { forcedSelection: new Map([["r", [[1, 2]]]]) });
    expect(sel[0]!.ids).toEqual([1, 2]);
    close(sel[0]!.weights, [Math.E / (Math.E + 1), 1 / (Math.E + 1)]);
  });
});
