// MLA's row orders and rotary (§13.0, DeepSeek-V3's DeepseekV3Attention) on hand-built weights
// whose answer changes if any order is swapped: per head Dn no-rope then Dr rope rows of q; wkv_a's
// latent c_kv then the shared k_pe; wkv_b's per head Dn key rows then Dv value rows; q_rank's
// wq_a → q_norm → wq_b; rotary on q_pe and k_pe at their positions; the mscale² softmax scale.
// Inputs are one-hot rows (x_t = e_t): column t of a projection is that projection at position t.
import { describe, expect, it } from "vitest";
import { mlaReference } from "../../../runtime/reference/ref-attention.js";
import { blockMap, expectValues, eye, fromColumns, mlaDesc, rope, rowsOf, yarn } from "../../helpers/model-blocks.js";

const eps = 1e-6;
// kv_norm of a one-value latent c with weight 1: c / sqrt(c² + ε) = ±ν.
const nu = 1 / Math.sqrt(1 + eps);
const x = rowsOf([1, 0], [0, 1]);

describe("row orders (H = 2, Dn = Dr = Dv = 1, kv_rank 1, T = 2, no rotary)", () => {
  // wkv_a rows: c_kv = [1, −1] (t = 0, 1), then k_pe = [0, 1]; normalized latent n = [ν, −ν].
  // wkv_b = [1, 2, 3, 4] = head 0 (key 1, value 2), head 1 (key 3, value 4):
  //   head 0: k_nope(s) = ±ν, v(s) = ±2ν;  head 1: k_nope(s) = ±3ν, v(s) = ±4ν  (+ at s = 0, − at s = 1)
  // q(1) = [1, 0 | 3, 2]: head 0 (nope 1, rope 0), head 1 (nope 3, rope 2). Scale 1/sqrt(Dn + Dr) = 1/√2.
  //   head 0: s(1,0) = (1·ν + 0·0)/√2, s(1,1) = (1·(−ν) + 0·1)/√2; v(1) = −v(0), so
  //           out = 2ν·(p0 − p1) = 2ν·tanh((s0 − s1)/2) = 2ν·tanh(ν/√2)
  //   head 1: s(1,0) = (3·3ν + 2·0)/√2, s(1,1) = (3·(−3ν) + 2·1)/√2 → (s0 − s1)/2 = (9ν − 1)/√2,
  //           out = 4ν·tanh((9ν − 1)/√2)
  // Row 0 reads itself: [v_0(0), v_1(0)] = [2ν, 4ν] (wo = I).
  // Swapping q's nope/rope rows gives head 0 scores [0, 1/√2]; value-then-key in wkv_b makes head
  // 0's key 2ν and value ν; k_pe-then-latent in wkv_a makes the latent [0, 1]; all-keys-then-all-
  // values in wkv_b gives head 0 key 1, value 3: every one of these changes row 1.
  const W = blockMap("m", {
    wq: fromColumns([[0.5, -1, 2, 1], [1, 0, 3, 2]]),
    wkv_a: fromColumns([[1, 0], [-1, 1]]),
    kv_norm: [1],
    wkv_b: [1, 2, 3, 4],
    wo: eye(2),
  });
  const desc = mlaDesc({ heads: 2, qRank: 0, kvRank: 1, nopeDim: 1, ropeDim: 1, vDim: 1, normEps: eps, rope: rope("none", 0) });

  it("q_rank = 0 (wq)", () => {
    expectValues(mlaReference(desc, W, x, 2, 2), [2 * nu, 4 * nu, 2 * nu * Math.tanh(nu / Math.SQRT2), 4 * nu * Math.tanh((9 * nu - 1) / Math.SQRT2)]);
  });

  it("q_rank = 1: q = wq_b · rmsnorm(wq_a · x; q_norm)", () => {
    // wq_a = [1, 1] → c_q(t) = 1; q_norm [2] → 2/sqrt(1 + ε) = 2ν; wq_b = [1, 0, 3, 2] → q(t) = 2ν·[1, 0, 3, 2].
    //   head 0: (s0 − s1)/2 = 2ν·2ν/(2√2) = √2·ν² → out = 2ν·tanh(√2·ν²)
    //   head 1: s0 = 6ν·3ν/√2, s1 = (6ν·(−3ν) + 4ν·1)/√2 → (s0 − s1)/2 = (18ν² − 2ν)/√2 → out = 4ν·tanh((18ν² − 2ν)/√2)
    const Wq = new Map([...W].filter(([k]) => k !== "m.wq"));
    for (const [k, v] of blockMap("m", { wq_a: [1, 1], q_norm: [2], wq_b: [1, 0, 3, 2] })) Wq.set(k, v);
    const y = mlaReference({ ...desc, qRank: 1 }, Wq, x, 2, 2);
    expectValues(y, [2 * nu, 4 * nu, 2 * nu * Math.tanh(Math.SQRT2 * nu * nu), 4 * nu * Math.tanh((18 * nu * nu - 2 * nu) / Math.SQRT2)]);
  });
});

describe("rotary on q_pe and the shared k_pe, and DeepSeek's mscale² (H = 1, Dn = 1, Dr = 2, Dv = 1)", () => {
  // YaRN factor 8, original 32, mscale = mscale_all_dim = 1, θ = 10000, r = 2:
  //   correction dims: 2·ln(32/64π)/(2·ln 10⁴) = −1.8379/9.2103 = −0.1996 → low 0;
  //   2·ln(32/2π)/(2·ln 10⁴) = 1.6279/9.2103 = 0.1767 → ceil 1 → high min(1, r − 1) = 1;
  //   ramp(0) = 0 → inv_freq[0] = the unscaled 1; cos/sin factor get_mscale(8,1)/get_mscale(8,1) = 1.
  //   Softmax scale: (0.1·ln 8 + 1)² / sqrt(Dn + Dr) = 1.2079442² / √3 = σ.
  // wkv_a rows [c_kv, k_pe0, k_pe1]: t = 0: [1, 1, 0], t = 1: [−1, 0, 1]; wkv_b = [0 (key), 1 (value)]
  // → k_nope = 0, v(s) = ±ν. q(1) = [5 (nope, meets k_nope = 0), 1, 0].
  //   q_pe(1) turned by angle 1: [cos1, sin1]; k_pe(0) = [1, 0] (t = 0, not turned): dot cos 1;
  //   k_pe(1) = [0, 1] turned by 1: [−sin1, cos1]: dot −cos1·sin1 + sin1·cos1 = 0.
  //   (Unturned k_pe(1) would give sin 1; an unturned q_pe, 1 and −sin 1.)
  //   Row 1: v = ν·(p0 − p1) = ν·tanh(σ·cos1 / 2); wo = [1, 2] → [h, 2h]. Row 0: [ν, 2ν].
  const W = blockMap("m", {
    wq: fromColumns([[0, 0, 0], [5, 1, 0]]),
    wkv_a: fromColumns([[1, 1, 0], [-1, 0, 1]]),
    kv_norm: [1],
    wkv_b: [0, 1],
    wo: [1, 2],
  });
  const desc = (kind: "interleaved" | "half", mscaleAllDim: number) =>
    mlaDesc({ heads: 1, qRank: 0, kvRank: 1, nopeDim: 1, ropeDim: 2, vDim: 1, normEps: eps, rope: rope(kind, 2, 10000, yarn(8, 32, 1, mscaleAllDim)) });

  it("with mscale_all_dim = 1: scale (0.1·ln 8 + 1)²/√3", () => {
    const sigma = (0.1 * Math.log(8) + 1) ** 2 / Math.sqrt(3);
    expect(sigma).toBeCloseTo(1.2079442 ** 2 / Math.sqrt(3), 6);
    const h = nu * Math.tanh((sigma * Math.cos(1)) / 2);
    for (const kind of ["interleaved", "half"] as const) expectValues(mlaReference(desc(kind, 1), W, x, 2, 2), [nu, 2 * nu, h, 2 * h]);
  });

  it("with mscale_all_dim = 0: scale 1/√3, and cos/sin take get_mscale(8) = 0.1·ln 8 + 1", () => {
    // Both q_pe and k_pe are multiplied by c = 1.2079442 (cos and sin are), so their dot by c².
    const c = 0.1 * Math.log(8) + 1;
    const h = nu * Math.tanh((c * c * Math.cos(1)) / Math.sqrt(3) / 2);
    expectValues(mlaReference(desc("interleaved", 0), W, x, 2, 2), [nu, 2 * nu, h, 2 * h]);
  });
});
