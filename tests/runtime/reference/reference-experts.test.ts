// The float64 reference's math, expert kinds and op semantics against hand-derived values.

import { describe, expect, it } from "vitest";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { expertForward } from "../../../runtime/reference/ref-experts.js";
import { erf, gelu } from "../../../stdlib/math64.js";
import { pool, ProgramBuilder, router, stages } from "../../helpers/ir-programs.js";

const F = (...v: number[]) => Float64Array.from(v);

describe("math", () => {
  it("erf matches tabulated values to 1e-15", () => {
    const table: [number, number][] = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3.5, 0.9999992569016276],
      [-1, -0.8427007929497149],
      [6, 0.9999999999999999785],
    ];
    for (const [x, v] of table) expect(Math.abs(erf(x) - v)).toBeLessThan(1e-15);
  });

  it("gelu is the exact erf form x·Φ(x)", () => {
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 15);
    expect(gelu(-1)).toBeCloseTo(-0.15865525393145707, 15);
  });
});

describe("expert kinds", () => {
  it("ffn swiglu: w_down · (silu(w_gate·x) ⊙ (w_up·x)) on hand numbers", () => {
    const p = pool({ count: 2, dim: 2, hidden: 1, act: "swiglu" });
    // Expert 1: gate row [1, 0], up row [0, 2], down column [1, -1].
    const W = new Map([
      ["E.w_gate", F(9, 9, 1, 0)],
      ["E.w_up", F(9, 9, 0, 2)],
      ["E.w_down", F(9, 9, 1, -1)],
    ]);
    const x = [1, 3];
    const h = (1 / (1 + Math.exp(-1))) * 6; // silu(1) · 6
    expect(Array.from(expertForward(p, W, 1, x))).toEqual([h, -h]);
  });

  it("ffn relu with biases; b_down is added once", () => {
    const p = pool({ count: 1, dim: 1, hidden: 2, act: "relu", bias: true });
    const W = new Map([
      ["E.w_up", F(1, -1)],
      ["E.b_up", F(0.5, 0.5)],
      ["E.w_down", F(2, 3)],
      ["E.b_down", F(10)],
    ]);
    // x = 2: up = [2.5, -1.5] → relu [2.5, 0] → down 5 + 10.
    expect(Array.from(expertForward(p, W, 0, [2]))).toEqual([15]);
  });

  it("atom (silu and swiglu), lowrank, identity and zero experts", () => {
    const atom = { ...pool({ count: 1, dim: 2, hidden: 1, act: "silu" }), kind: "atom" as const };
    const s = 2 / (1 + Math.exp(-2)); // silu(u·x) with u·x = 2
    expect(Array.from(expertForward(atom, new Map([["E.u", F(1, 1)], ["E.v", F(1, -2)]]), 0, [1, 1]))).toEqual([s, -2 * s]);
    const gatom = { ...atom, act: "swiglu" as const };
    const g = new Map([["E.u_gate", F(1, 0)], ["E.u_up", F(0, 3)], ["E.v", F(1, 1)]]);
    const sg = (1 / (1 + Math.exp(-1))) * 6;
    expect(Array.from(expertForward(gatom, g, 0, [1, 2]))).toEqual([sg, sg]);
    const lr = { ...pool({ count: 1, dim: 2, hidden: 1 }), kind: "lowrank" as const };
    expect(Array.from(expertForward(lr, new Map([["E.a", F(1, 1)], ["E.b", F(2, -1)]]), 0, [3, 4]))).toEqual([14, -7]);
    expect(Array.from(expertForward({ ...lr, kind: "identity" }, new Map(), 0, [3, 4]))).toEqual([3, 4]);
    expect(Array.from(expertForward({ ...lr, kind: "zero" }, new Map(), 0, [3, 4]))).toEqual([0, 0]);
  });
});

describe("programs", () => {
  it("moe = Σ weight · expert output; shared = Σ of all experts; broadcast binary and scalar ops", () => {
    const b = new ProgramBuilder();
    const x = b.input("x", 2);
    // Identity-like experts: relu ffn with hidden 2, w_up = I, w_down = c·I per expert.
    const E = pool({ count: 2, dim: 2, hidden: 2, act: "relu" });
    const m = b.moe(x, router({ numExperts: 2, dim: 2, stages: stages("linear", ["topk", { k: 1 }]) }), E);
    const S = pool({ key: "S", count: 2, dim: 2, hidden: 2, act: "identity", shared: true });
    const s = b.shared(x, S);
    const g = b.linear(x, "g", 1);
    const y = b.scalar("sub", b.binary("mul", b.binary("add", m, s), g), 1, true);
    const program = b.output("y", y).build();
    const W = new Map<string, Float64Array>([
      ["E.w_up", F(1, 0, 0, 1, 1, 0, 0, 1)],
      ["E.w_down", F(2, 0, 0, 2, 3, 0, 0, 3)],
      ["r.weight", F(1, 0, 0, 1)], // scores = x
      ["S.w_up", F(1, 0, 0, 1, 1, 0, 0, 1)],
      ["S.w_down", F(1, 0, 0, 1, 0, 1, 1, 0)], // expert 0: identity, expert 1: swap
      ["g.weight", F(0.5, 0.5)],
    ]);
    // x = [1, 2]: router picks expert 1 (score 2) with weight 2 → moe = 2·3·[1, 2] = [6, 12];
    // shared = [1, 2] + [2, 1] = [3, 3]; g = 1.5; y = 1 − 1.5·[9, 15].
    const out = interpretReference(program, W, new Map([["x", Float32Array.from([1, 2])]]), 1).get("y")!;
    expect(Array.from(out)).toEqual([1 - 13.5, 1 - 22.5]);
  });
});
