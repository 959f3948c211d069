// NonFiniteWeightsCheck over an FP8 checkpoint's rows (HostWeights.fp8Rows): the rows are passed on
// unchanged for the device to upload as read, and a non-finite block scale is counted as the
// values it makes (hand-derived: ∞·0 is NaN, ∞·1 is +∞, ∞·(−1) is −∞).
import { describe, expect, it } from "vitest";
import type { HostWeights } from "../../../runtime/weights/host-weights.js";
import { NonFiniteWeightsCheck } from "../../../runtime/weights/nonfinite-weights.js";
import type { Fp8Rows } from "../../../runtime/weights/quant/fp8-e4m3.js";

class Fp8Only extends Map<string, Float32Array> implements HostWeights {
  constructor(private readonly rows: Map<string, Fp8Rows>) {
    super();
  }
  fp8Rows(name: string): Fp8Rows | undefined {
    return this.rows.get(name);
  }
}

describe("NonFiniteWeightsCheck and FP8 rows", () => {
  it("passes the rows on and counts the values a non-finite scale makes", () => {
    // [2, 128]: row 0 scale 1 (all 1.0 bytes, 0x38); row 1 scale +∞ over 0 (0x00), −1 (0xb8) and 126 ones.
    const bytes = new Uint8Array(256).fill(0x38);
    bytes[128] = 0x00;
    bytes[130] = 0xb8;
    const bad: Fp8Rows = { rows: 2, cols: 128, bytes, rowScales: Float32Array.from([1, Infinity]) };
    const good: Fp8Rows = { rows: 1, cols: 128, bytes: new Uint8Array(128).fill(0x38), rowScales: Float32Array.from([0.5]) };
    const check = new NonFiniteWeightsCheck(new Fp8Only(new Map([["a.weight", bad], ["b.weight", good]])));
    expect(check.fp8Rows("a.weight")).toBe(bad);
    expect(check.fp8Rows("b.weight")).toBe(good);
    expect(check.fp8Rows("c.weight")).toBeUndefined();
    expect([...check.found]).toEqual([["a.weight", { nan: 1, posInf: 126, negInf: 1, first: 128 }]]);
  });

  it("has no FP8 rows where the weights it wraps have none", () => {
    expect(new NonFiniteWeightsCheck(new Map([["w", new Float32Array(4)]])).fp8Rows("w")).toBeUndefined();
  });
});
