// Counting and describing non-finite values (runtime/nonfinite.ts), against hand-counted arrays.
import { describe, expect, it } from "vitest";
import { countNonFinite, describeNonFinite } from "../../runtime/nonfinite.js";

describe("countNonFinite", () => {
  it("counts NaN, +Inf and -Inf and finds the first", () => {
    expect(countNonFinite([1, NaN, Infinity, -Infinity, NaN, 2])).toEqual({ nan: 2, posInf: 1, negInf: 1, first: 1 });
    expect(countNonFinite(new Float32Array([0, 0, 0, -Infinity]))).toEqual({ nan: 0, posInf: 0, negInf: 1, first: 3 });
  });
  it("finite values, however large or signed, are none", () => {
    expect(countNonFinite(new Float32Array([3.4028234663852886e38, -3.4028234663852886e38, -0, 1e-45]))).toBeUndefined();
    expect(countNonFinite([])).toBeUndefined();
  });
});

describe("describeNonFinite", () => {
  it("names the tensor, the count by kind and the first position as [row, column] of the given width", () => {
    expect(describeNonFinite("x", { nan: 2, posInf: 1, negInf: 0, first: 7 }, 3)).toBe("`x` has 3 non-finite values (2 NaN, 1 +Inf), the first at [2, 1]");
    expect(describeNonFinite("E.w_down", { nan: 0, posInf: 0, negInf: 1, first: 5 })).toBe("`E.w_down` has 1 non-finite value (1 -Inf), the first at [5]");
  });
});
