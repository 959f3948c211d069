// The attention reference's §13.0 conventions on hand-built weights, each with its answer worked
// out by hand: q/k norm over the whole width vs per head, the GQA head mapping, biases, the causal
// mask and the sliding window (Hugging Face's: a position reads itself and the W − 1 before it).
// Inputs are one-hot rows (x_t = e_t), so column t of a projection is that projection at position t.
import { describe, expect, it } from "vitest";
import { attentionReference } from "../../../runtime/reference/ref-attention.js";
import { attn, blockMap, expectValues, eye, fromColumns, rope, rowsOf } from "../../helpers/model-blocks.js";

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const none = rope("none", 0);
const e = (n: number, i: number) => Array.from({ length: n }, (_, j) => (j === i ? 1 : 0));

describe("q/k norm: full width vs per head (H = 2, KV = 1, hd = 2, T = 2)", () => {
  // q(1) = [3, 0 | 1, 0] (heads 0 | 1), k(0) = [0, 0], k(1) = [1, 0], v(0) = [0, 0], v(1) = [1, 0].
  // Row 1, head h: scores [q'_h·k0', q'_h·k1'] / sqrt(2) = [0, s_h] (k0 = 0 stays 0), so head h's
  // output is σ(s_h)·v(1) = [σ(s_h), 0]. Row 0 reads only v(0) = 0. k' = k / sqrt(mean(k²) + ε) · 1:
  // k1' = [1/sqrt(0.5 + ε), 0]. With ε = qkEps = 1e-6:
  const eps = 1e-6;
  const k1 = 1 / Math.sqrt(0.5 + eps);
  const base = {
    wq: fromColumns([[1, 1, 1, 1], [3, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
    wk: fromColumns([[0, 0], [1, 0], [0, 0], [0, 0]]),
    wv: fromColumns([[0, 0], [1, 0], [0, 0], [0, 0]]),
    wo: eye(4),
  };
  const x = rowsOf(e(4, 0), e(4, 1));
  const run = (qkNorm: "none" | "full" | "head", norms: Record<string, number[]>) =>
    attentionReference(attn({ heads: 2, kvHeads: 1, headDim: 2, qkNorm, qkEps: eps, rope: none }), blockMap("a", { ...base, ...norms }), x, 2, 4);
  const row1 = (s0: number, s1: number) => [0, 0, 0, 0, sigmoid(s0), 0, sigmoid(s1), 0];

  it("none: s = q·k1 / √2 = [3/√2, 1/√2]", () => expectValues(run("none", {}), row1(3 / Math.SQRT2, 1 / Math.SQRT2)));

  it("head (Qwen3): each head's 2 values normalized alone, one [hd] weight [2, 5] for both", () => {
    // head 0: [3, 0] → mean² 4.5 → q' = [3·2/sqrt(4.5 + ε), 0]; head 1: [1, 0] → mean² 0.5 → [1·2/sqrt(0.5 + ε), 0].
    // s_0 = 6/sqrt(4.5+ε) · k1 / √2 ≈ 2√2, s_1 = 2/sqrt(0.5+ε) · k1 / √2 ≈ 2√2: the heads now agree.
    const s0 = (6 / Math.sqrt(4.5 + eps)) * k1 / Math.SQRT2;
    const s1 = (2 / Math.sqrt(0.5 + eps)) * k1 / Math.SQRT2;
    expect(s0).toBeCloseTo(2 * Math.SQRT2, 5);
    expectValues(run("head", { q_norm: [2, 5], k_norm: [1, 1] }), row1(s0, s1));
  });

  it("full (OLMoE): all H·hd = 4 values normalized together, weight [H·hd] = [2, 7, 5, 11]", () => {
    // [3, 0, 1, 0] → mean² (9 + 1)/4 = 2.5 → q' = [3·2, 0, 1·5, 0] / sqrt(2.5 + ε).
    // s_0 = 6/sqrt(2.5+ε) · k1/√2 ≈ 3.7947, s_1 = 5/sqrt(2.5+ε) · k1/√2 ≈ 3.1623.
    const s0 = (6 / Math.sqrt(2.5 + eps)) * k1 / Math.SQRT2;
    const s1 = (5 / Math.sqrt(2.5 + eps)) * k1 / Math.SQRT2;
    expect([s0, s1].map((s) => +s.toFixed(4))).toEqual([3.7947, 3.1623]);
    expectValues(run("full", { q_norm: [2, 7, 5, 11], k_norm: [1, 1] }), row1(s0, s1));
  });
});

describe("GQA: H = 4, KV = 2, heads 0, 1 read kv head 0 and heads 2, 3 kv head 1", () => {
  // hd = 1, scale 1. q(1) per head = [1, 0, 1, 0]. kv head 0: k = [0, ln3], v = [4, 8] (s = 0, 1);
  // kv head 1: k = [ln3, 0], v = [12, 16].
  //   q = 1 on kv 0: softmax[0, ln3] = [1/4, 3/4] → 4/4 + 8·3/4 = 7;  q = 0 on kv 0: [1/2, 1/2] → 6
  //   q = 1 on kv 1: softmax[ln3, 0] = [3/4, 1/4] → 9 + 4 = 13;       q = 0 on kv 1: → 14
  // Row 1 (wo = I, heads concatenated in order) = [7, 6, 13, 14]; row 0 = [4, 4, 12, 12].
  // The wrong mapping h mod KV would give row 0 = [4, 12, 4, 12] and row 1 = [7, 14, 7, 6].
  const W = blockMap("a", {
    wq: fromColumns([[1, 0, 1, 0], [1, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
    wk: fromColumns([[0, Math.log(3)], [Math.log(3), 0], [0, 0], [0, 0]]),
    wv: fromColumns([[4, 12], [8, 16], [0, 0], [0, 0]]),
    wo: eye(4),
  });
  it("gives [4, 4, 12, 12] then [7, 6, 13, 14]", () => {
    expectValues(attentionReference(attn({ heads: 4, kvHeads: 2, headDim: 1, rope: none }), W, rowsOf(e(4, 0), e(4, 1)), 2, 4), [4, 4, 12, 12, 7, 6, 13, 14]);
  });
});

describe("masks (H = 1, hd = 2, q = k = v = x, wo = [[2, 0], [1, 3]])", () => {
  // x0 = [1, 0], x1 = x2 = [0, 1]; scale a = 1/√2; out = wo · head = [2·h0, h0 + 3·h1].
  //   row 0 reads only itself: head = x0 → [2, 1], whatever the window.
  //   causal, row 1: scores [0, a] → head = [1, e^a] / (1 + e^a)
  //   causal, row 2: scores [0, a, a] → head = [1, 2e^a] / (1 + 2e^a)
  //   window 2, row 2 reads s ∈ {1, 2} only: scores [a, a] → head = [0, 1] → [0, 3]
  //   window 1: every row reads itself: heads x0, x1, x2 → [2, 1], [0, 3], [0, 3]
  const W = blockMap("a", { wq: eye(2), wk: eye(2), wv: eye(2), wo: [2, 0, 1, 3] });
  const x = rowsOf([1, 0], [0, 1], [0, 1]);
  const a = 1 / Math.SQRT2;
  const out = (h0: number, h1: number) => [2 * h0, h0 + 3 * h1];
  const causal1 = out(1 / (1 + Math.exp(a)), Math.exp(a) / (1 + Math.exp(a)));
  const causal2 = out(1 / (1 + 2 * Math.exp(a)), (2 * Math.exp(a)) / (1 + 2 * Math.exp(a)));
  const run = (window: number) => attentionReference(attn({ heads: 1, kvHeads: 1, headDim: 2, window, rope: none }), W, x, 3, 2);

  it("causal (window 0): position t reads positions ≤ t; row 0 is its own v after wo", () => expectValues(run(0), [2, 1, ...causal1, ...causal2]));
  it("window 2: itself and the one before it (t − W < s ≤ t), not W + 1 positions", () => expectValues(run(2), [2, 1, ...causal1, 0, 3]));
  it("window 1: each position reads only itself", () => expectValues(run(1), [2, 1, 0, 3, 0, 3]));
  it("a window at least T long is plain causal attention", () => expectValues(run(3), [2, 1, ...causal1, ...causal2]));

  it("bias: q = wq·x + bq, v = wv·x + bv (row 0 = wo · (x0 + bv); row 1 by hand)", () => {
    // bq = [b, 0] with b = 1 + √2·ln3, bk = 0, bv = [1, 1]. Row 0: head v(0) = [2, 1] → wo → [4, 5].
    // Row 1: q(1) = [b, 1]; scores a·[q·k0, q·k1] = a·[b, 1] → difference a·(b − 1) = ln 3 → p = [3/4, 1/4];
    // v(0) = [2, 1], v(1) = [1, 2] → head [7/4, 5/4] → wo → [7/2, 7/4 + 15/4] = [3.5, 5.5].
    // (A k bias adds q·bk to every score of a row, which the softmax ignores without rope or q/k norm.)
    const b = 1 + Math.SQRT2 * Math.log(3);
    const Wb = new Map([...W, ...blockMap("a", { bq: [b, 0], bk: [0, 0], bv: [1, 1] })]);
    const y = attentionReference(attn({ heads: 1, kvHeads: 1, headDim: 2, bias: true, rope: none }), Wb, x, 3, 2);
    expectValues(y.subarray(0, 4), [4, 5, 3.5, 5.5]);
  });
});
