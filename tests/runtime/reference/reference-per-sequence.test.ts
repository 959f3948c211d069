// `per sequence` routing in the float64 reference against numbers derived by hand from LANGUAGE.md
// §11.1: the router scores the mean of x over the run's tokens, every token gets that one decision
// and weight, and the chosen expert still reads each token's own row.
import { describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { HAND_P, HAND_WEIGHTS, HAND_X, HAND_Y_SEQUENCE, PER_SEQUENCE_HAND } from "../../helpers/per-sequence-hand.js";

function run(unit: string): number[] {
  const c = compile({ source: PER_SEQUENCE_HAND(unit) });
  expect(c.formatDiagnostics()).toBe("");
  const W = new Map([...HAND_WEIGHTS].map(([k, v]) => [k, Float64Array.from(v)]));
  return Array.from(interpretReference(c.program!, W, new Map([["x", HAND_X]]), 2).get("y")!);
}

describe("per sequence routing (float64 reference)", () => {
  it("one decision from the mean row, applied to every token's own x", () => {
    const y = run("per sequence");
    HAND_Y_SEQUENCE.forEach((v, i) => expect(y[i]).toBeCloseTo(v, 14));
  });

  it("per token routes token 1 to expert 1 instead (the decisions differ)", () => {
    // Token 0: scores [3, 0] → expert 0, p = 1/(1+e^−3); token 1: [0, 1] → expert 1, p = 1/(1+e^−1).
    const p0 = 1 / (1 + Math.exp(-3));
    const y = run("");
    [6 * p0, 0, 0, 5 * HAND_P].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 14));
  });
});
