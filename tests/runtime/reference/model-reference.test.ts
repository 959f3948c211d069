// A whole model through the float64 reference: tests/fixtures/ir/tiny_model.moe (embed, rms and
// layer norms, GQA attention with per-head q/k norm, interleaved partial rope and a window, MoE
// layers, full-q/k-norm attention with YaRN, two MLAs, attention without rope, a tied lm_head),
// compiled and run on random weights. Logits are [T, V] and finite, and causal: a position's
// logits do not depend on any later token, while they do depend on earlier ones.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";

const file = path.resolve(__dirname, "../../fixtures/ir/tiny_model.moe");
const V = 32;
const T = 12; // longer than the window of 8 in layers.K.attn

describe("tiny_model through interpretReference", () => {
  const res = compile({ file });
  const program = res.program!;
  const W = randomWeights(program, 7);
  const run = (ids: number[]) => interpretReference(program, W, new Map([["tokens", Int32Array.from(ids)]]), ids.length).get("logits")!;
  const ids = [3, 17, 0, 31, 8, 8, 22, 5, 14, 29, 1, 11];

  it("compiles to a program with every model op", () => {
    expect(res.ok, res.formatDiagnostics()).toBe(true);
    const ops = new Set(program.ops.map((o) => o.op));
    for (const op of ["embed", "norm", "attention", "mla", "moe", "linear"]) expect(ops.has(op as never), op).toBe(true);
  });

  it("gives finite logits of shape [T, V] that differ between positions", () => {
    const y = run(ids);
    expect(y.length).toBe(T * V);
    expect(y.every(Number.isFinite)).toBe(true);
    const rowMax = (t: number) => Math.max(...Array.from(y.subarray(t * V, (t + 1) * V), Math.abs));
    for (let t = 0; t < T; t++) expect(rowMax(t), `row ${t}`).toBeGreaterThan(1e-3);
    // Positions 4 and 5 hold the same token; attention makes their logits differ.
    expect(Array.from(y.subarray(4 * V, 5 * V))).not.toEqual(Array.from(y.subarray(5 * V, 6 * V)));
  });

  it("is causal: changing token T−1 leaves rows < T−1 unchanged bit for bit, and changes row T−1", () => {
    const a = run(ids);
    const b = run([...ids.slice(0, T - 1), (ids[T - 1]! + 1) % V]);
    expect(Array.from(b.subarray(0, (T - 1) * V))).toEqual(Array.from(a.subarray(0, (T - 1) * V)));
    expect(Array.from(b.subarray((T - 1) * V))).not.toEqual(Array.from(a.subarray((T - 1) * V)));
  });

  it("reads the past: changing token 0 changes every later row", () => {
    const a = run(ids);
    const b = run([(ids[0]! + 1) % V, ...ids.slice(1)]);
    for (let t = 1; t < T; t++) expect(Array.from(b.subarray(t * V, (t + 1) * V)), `row ${t}`).not.toEqual(Array.from(a.subarray(t * V, (t + 1) * V)));
  });

  it("a prefix run gives the same rows as the full run (positions are row indices)", () => {
    const full = run(ids);
    const prefix = run(ids.slice(0, 5));
    expect(Array.from(prefix)).toEqual(Array.from(full.subarray(0, 5 * V)));
  });
});
