// The float64 peer cross-attention of Mixture of Thoughts (LANGUAGE.md §11.1) against numbers
// derived by hand: identity projections, so scores are q·k/√hd of the latents themselves, and one
// softmax per head over the union of every peer's positions ≤ t (not one softmax per peer).
import { describe, expect, it } from "vitest";
import { peerAttentionReference } from "../../../runtime/reference/ref-peer-attention.js";

const I2 = Float64Array.from([1, 0, 0, 1]);
const W = (wo = I2) => new Map([["p.wq", I2], ["p.wk", I2], ["p.wv", I2], ["p.wo", wo]]);
const rows = (r: number[][]) => Float64Array.from(r.flat());

describe("peer attention (float64 reference)", () => {
  it("one peer, one head: position t reads the peer's positions ≤ t", () => {
    const z0 = rows([[1, 0], [0, 1]]);
    const z1 = rows([[1, 0], [0, 2]]);
    const y = peerAttentionReference("p", 1, 2, W(), z0, [z1], 2, 2);
    // t = 0: only (1, 0) is visible → v = [1, 0].
    // t = 1: q = [0, 1]; scores 0 and 2/√2 = √2 over positions 0, 1.
    const p1 = Math.exp(Math.SQRT2) / (1 + Math.exp(Math.SQRT2));
    const want = [1, 0, (1 - p1) * 1, p1 * 2];
    want.forEach((v, i) => expect(y[i]).toBeCloseTo(v, 14));
  });

  it("two peers share one softmax over their union; wo maps the heads", () => {
    const z0 = rows([[1, 0]]);
    const z1 = rows([[1, 0]]);
    const z2 = rows([[0, 1]]);
    const wo = Float64Array.from([2, 0, 0, 3]);
    const y = peerAttentionReference("p", 1, 2, W(wo), z0, [z1, z2], 1, 2);
    // Scores 1/√2 (peer 1) and 0 (peer 2), one softmax: a = e^(1/√2) / (e^(1/√2) + 1).
    const a = Math.exp(Math.SQRT1_2) / (Math.exp(Math.SQRT1_2) + 1);
    [2 * a, 3 * (1 - a)].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 14));
  });

  it("heads use their own rows, scaled by 1/√(ds/h)", () => {
    // ds = 2, h = 2: head 0 reads value 0, head 1 value 1, each over hd = 1 (scale 1).
    const z0 = rows([[1, 1], [1, -1]]);
    const z1 = rows([[2, 0], [0, 2]]);
    const y = peerAttentionReference("p", 2, 2, W(), z0, [z1], 2, 2);
    // t = 1, head 0: q = 1, keys 2 and 0 → weights σ(2), 1 − σ(2) on values 2, 0.
    // t = 1, head 1: q = −1, keys 0 and 2 → scores 0 and −2: weights σ(2), 1 − σ(2) on values 0, 2.
    const s = 1 / (1 + Math.exp(-2));
    [2, 0, 2 * s, 2 * (1 - s)].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 14));
  });
});
