// Rotary positions as §13.0 means them, against numbers worked out by hand: rotate_half vs
// interleaved pairing (on one vector and through attention at two positions), partial rope_dim,
// the inverse frequencies θ^(−2i/r), YaRN's tables after Hugging Face's _compute_yarn_parameters
// and the attention factors (0.1·ln s + 1 on cos/sin, DeepSeek's mscale² on the MLA softmax scale).
import { describe, expect, it } from "vitest";
import { attentionScale, mlaScale, ropeTables } from "../../../compiler/ir/rope.js";
import { attentionReference, rotate } from "../../../runtime/reference/ref-attention.js";
import { attn, blockMap, expectValues, eye, mlaDesc, rope, rowsOf, yarn } from "../../helpers/model-blocks.js";

const { cos, sin, exp, log } = Math;

describe("rotate: which values pair", () => {
  // r = 4, θ = 100: invFreq = [100^0, 100^(−2/4)] = [1, 0.1]; at t = 2 the angles are 2 and 0.2.
  const tables = ropeTables(rope("half", 4, 100));
  it("θ = 100, r = 4 gives inverse frequencies [1, 0.1]", () => expectValues(tables.invFreq, [1, 0.1], 15));

  it("position 0 rotates nothing", () => {
    for (const kind of ["half", "interleaved"] as const) {
      const x = Float64Array.of(1, 2, 3, 4);
      rotate(x, 0, kind, tables, 0);
      expect(Array.from(x)).toEqual([1, 2, 3, 4]);
    }
  });

  it("half pairs i with i + r/2 (rotate_half), interleaved 2i with 2i+1, at t = 2", () => {
    // half: (x0, x2) by angle 2, (x1, x3) by 0.2:
    //   x0' = 1·cos2 − 3·sin2 = −0.41615 − 2.72789 = −3.14404   x2' = 3·cos2 + 1·sin2 = −1.24844 + 0.90930 = −0.33914
    //   x1' = 2·cos.2 − 4·sin.2 = 1.96013 − 0.79468 = 1.16546   x3' = 4·cos.2 + 2·sin.2 = 3.92027 + 0.39734 = 4.31761
    const h = Float64Array.of(1, 2, 3, 4);
    rotate(h, 0, "half", tables, 2);
    expectValues(h, [cos(2) - 3 * sin(2), 2 * cos(0.2) - 4 * sin(0.2), 3 * cos(2) + sin(2), 4 * cos(0.2) + 2 * sin(0.2)]);
    expectValues(h, [-3.14404, 1.16546, -0.33914, 4.31761], 4);
    // interleaved: (x0, x1) by angle 2, (x2, x3) by 0.2:
    //   x0' = 1·cos2 − 2·sin2 = −2.23474   x1' = 2·cos2 + 1·sin2 = 0.07700
    //   x2' = 3·cos.2 − 4·sin.2 = 2.14552  x3' = 4·cos.2 + 3·sin.2 = 4.51628
    const v = Float64Array.of(1, 2, 3, 4);
    rotate(v, 0, "interleaved", tables, 2);
    expectValues(v, [cos(2) - 2 * sin(2), 2 * cos(2) + sin(2), 3 * cos(0.2) - 4 * sin(0.2), 4 * cos(0.2) + 3 * sin(0.2)]);
    expectValues(v, [-2.23474, 0.077, 2.14552, 4.51628], 4);
  });

  it("acts on the slice at its offset only", () => {
    const x = Float64Array.of(9, 9, 1, 2, 3, 4, 9);
    rotate(x, 2, "interleaved", tables, 2);
    expect([x[0], x[1], x[6]]).toEqual([9, 9, 9]);
    expectValues(x.subarray(2, 6), [cos(2) - 2 * sin(2), 2 * cos(2) + sin(2), 3 * cos(0.2) - 4 * sin(0.2), 4 * cos(0.2) + 3 * sin(0.2)]);
  });
});

describe("rotary through attention, two positions (H = 1, hd = 4, wq = wk = wv = wo = I)", () => {
  // q = k = v = x, scale 1/sqrt(4) = 1/2. x0 = [1, 0, 0, 1], x1 = [0, 0, 1, 0]; θ = 10000, r = 4:
  // invFreq = [1, 0.01], so at t = 1 the pairs turn by 1 and 0.01 rad; at t = 0 by nothing.
  // Row 1's scores: q1'·k1' = |x1|² = 1 (both turned alike); q1'·k0 depends on the pairing:
  //   half:        q1' = [0·c1 − 1·s1, 0, 1·c1 + 0, 0] = [−sin1, 0, cos1, 0]  → q1'·x0 = −sin 1
  //   interleaved: (x2, x3) = (1, 0) turns by 0.01 → q1' = [0, 0, cos.01, sin.01] → q1'·x0 = sin 0.01
  //   none:        q1·x0 = 0
  // p0 = e^{d/2} / (e^{d/2} + e^{1/2}), p1 = 1 − p0, row 1 = p0·x0 + p1·x1 = [p0, 0, p1, p0];
  // row 0 reads only itself: x0.
  const W = blockMap("a", { wq: eye(4), wk: eye(4), wv: eye(4), wo: eye(4) });
  const x = rowsOf([1, 0, 0, 1], [0, 0, 1, 0]);
  const expected = (d: number) => {
    const p0 = exp(d / 2) / (exp(d / 2) + exp(0.5));
    return [1, 0, 0, 1, p0, 0, 1 - p0, p0];
  };
  for (const [kind, d] of [["half", -sin(1)], ["interleaved", sin(0.01)], ["none", 0]] as const) {
    it(`rope = ${kind}: q1'·k0 = ${d.toFixed(5)}`, () => {
      const a = attn({ heads: 1, kvHeads: 1, headDim: 4, rope: rope(kind, kind === "none" ? 0 : 4) });
      expectValues(attentionReference(a, W, x, 2, 4), expected(d));
    });
  }

  it("partial rope_dim = 2 rotates the first 2 values of a head and leaves the rest", () => {
    // r = 2: invFreq = [θ^0] = [1]; pair (0, 1) (the same for half and interleaved when r = 2).
    // x0 = [0, 1, 0, 2], x1 = [1, 0, 1, 0]. q1' = [cos1, sin1, 1, 0] → q1'·x0 = sin1;
    // q1'·k1' = |x1|² = 2. Scores /2: [sin1/2, 1]. (Rotating all 4 values the half way would give
    // q1'·x0 = 0; rotating the last 2 instead, 2·sin1.) Row 1 = p0·x0 + p1·x1 = [p1, p0, p1, 2·p0].
    const xs = rowsOf([0, 1, 0, 2], [1, 0, 1, 0]);
    const p0 = exp(sin(1) / 2) / (exp(sin(1) / 2) + exp(1));
    for (const kind of ["half", "interleaved"] as const) {
      const a = attn({ heads: 1, kvHeads: 1, headDim: 4, rope: rope(kind, 2) });
      expectValues(attentionReference(a, W, xs, 2, 4), [0, 1, 0, 2, 1 - p0, p0, 1 - p0, 2 * p0]);
    }
  });
});

describe("rope tables", () => {
  it("inverse frequencies are θ^(−2i/r) over r = rope_dim, not head_dim", () => {
    // θ = 10000, r = 8: 10000^(−i/4) = 1, 0.1, 0.01, 0.001; r = 4: 10000^(−i/2) = 1, 0.01.
    expectValues(ropeTables(rope("half", 8)).invFreq, [1, 0.1, 0.01, 0.001], 15);
    expectValues(ropeTables(rope("interleaved", 4)).invFreq, [1, 0.01], 15);
    expect(ropeTables(rope("half", 8)).cosSinScale).toBe(1);
  });

  it("YaRN: factor 4, original 64, β_fast 32, β_slow 1, θ = 10000, r = 8, by hand", () => {
    // find_correction_dim(β) = r · ln(original / (β · 2π)) / (2 · ln θ), 2 · ln 10000 = 18.420681:
    //   β_fast = 32: 8 · ln(64 / 64π) = 8 · ln(1/π) = 8 · (−1.144730) = −9.157839 → /18.420681 = −0.497150
    //                → floor −1 → low = max(−1, 0) = 0
    //   β_slow = 1:  8 · ln(64 / 2π) = 8 · ln 10.185916 = 8 · 2.321006 = 18.568048 → /18.420681 = 1.008000
    //                → ceil 2 → high = min(2, r − 1 = 7) = 2
    // ramp_i = clamp((i − low) / (high − low), 0, 1) = [0, 0.5, 1, 1]; extrapolation factor = 1 − ramp.
    // extrapolation θ^(−2i/8) = [1, 0.1, 0.01, 0.001]; interpolation = that / 4 = [0.25, 0.025, 0.0025, 0.00025]
    // inv_freq = interpolation · ramp + extrapolation · (1 − ramp)
    //          = [1, 0.025·0.5 + 0.1·0.5, 0.0025, 0.00025] = [1, 0.0625, 0.0025, 0.00025]
    // attention factor (no mscale_all_dim): get_mscale(4) = 0.1 · ln 4 + 1 = 1.138629436
    const t = ropeTables(rope("half", 8, 10000, yarn(4, 64)));
    expectValues(t.invFreq, [1, 0.0625, 0.0025, 0.00025], 15);
    expect(t.cosSinScale).toBeCloseTo(1.138629436, 9);
    expect(t.cosSinScale).toBeCloseTo(0.1 * log(4) + 1, 15);
  });

  it("YaRN with low = high: high += 0.001, so the ramp is a step", () => {
    // r = 8, θ = 10000, original 4: correction dims 8·ln(4/64π)/18.420681 = −1.701 → low 0 and
    // 8·ln(4/2π)/18.420681 = −0.196 → ceil 0 → high 0 = low → high = 0.001;
    // ramp = clamp(i / 0.001) = [0, 1, 1, 1] → inv_freq = [1, 0.1/s, 0.01/s, 0.001/s] with s = 2.
    expectValues(ropeTables(rope("half", 8, 10000, yarn(2, 4))).invFreq, [1, 0.05, 0.005, 0.0005], 15);
  });

  it("YaRN's attention factor: get_mscale(s, mscale) / get_mscale(s, mscale_all_dim) when both are set", () => {
    // factor 40 (DeepSeek-V3: mscale = mscale_all_dim = 1): (0.1·ln40 + 1) / (0.1·ln40 + 1) = 1.
    expect(ropeTables(rope("interleaved", 4, 10000, yarn(40, 4096, 1, 1))).cosSinScale).toBe(1);
    // mscale 1, mscale_all_dim 0.5: (0.1·ln 8 + 1) / (0.05·ln 8 + 1) = 1.2079442 / 1.1039721 = 1.0941800
    expect(ropeTables(rope("half", 4, 10000, yarn(8, 64, 1, 0.5))).cosSinScale).toBeCloseTo(1.09418, 5);
    // factor ≤ 1: get_mscale is 1.
    expect(ropeTables(rope("half", 4, 10000, yarn(1, 64))).cosSinScale).toBe(1);
  });
});

describe("softmax scales", () => {
  it("attention: 1/sqrt(hd), whatever the rope scaling", () => {
    expect(attentionScale(attn({ heads: 2, kvHeads: 2, headDim: 16, rope: rope("half", 16, 10000, yarn(4, 64)) }))).toBe(0.25);
  });

  it("mla: 1/sqrt(Dn + Dr), times DeepSeek's mscale² = get_mscale(s, mscale_all_dim)² with YaRN", () => {
    const m = (mscaleAllDim: number) => mlaDesc({ heads: 1, qRank: 0, kvRank: 4, nopeDim: 128, ropeDim: 64, vDim: 128, rope: rope("interleaved", 64, 10000, yarn(40, 4096, 1, mscaleAllDim)) });
    // DeepSeek-V3: factor 40, mscale_all_dim 1: (0.1·ln 40 + 1)² / sqrt(192)
    //   ln 40 = 3.688879, get_mscale = 1.368888, squared 1.873854; sqrt(192) = 13.856406 → 0.135234
    expect(mlaScale(m(1))).toBeCloseTo(0.135234, 6);
    expect(mlaScale(m(1))).toBeCloseTo((0.1 * log(40) + 1) ** 2 / Math.sqrt(192), 15);
    // DeepSeek-V2 (mscale_all_dim 0.707): (0.0707·ln 40 + 1)² / sqrt(192) = 1.260804² / 13.856406 = 1.589627 / 13.856406 = 0.114721
    expect(mlaScale(m(0.707))).toBeCloseTo(0.114721, 6);
    // mscale_all_dim 0: no extra factor.
    expect(mlaScale(m(0))).toBe(1 / Math.sqrt(192));
  });
});
