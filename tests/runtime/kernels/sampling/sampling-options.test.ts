// SamplingOptions validation: defaults, and an error naming the option and the value for each rule
// of §13.2 (τ ≥ 0, integer k ≥ 0, 0 < P ≤ 1, 0 ≤ M < 1, R > 0, integer seed).
import { describe, expect, it } from "vitest";
import { DEFAULT_SAMPLING, resolveSamplingOptions, SamplingOptionsError, type SamplingOptions } from "../../../../runtime/kernels/sampling/sampling-options.js";

function errorOf(o: SamplingOptions): SamplingOptionsError {
  try {
    resolveSamplingOptions(o);
  } catch (e) {
    if (e instanceof SamplingOptionsError) return e;
    throw e;
  }
  throw new Error(`no error for ${JSON.stringify(o)}`);
}

describe("resolveSamplingOptions", () => {
  it("fills the defaults: greedy, no filters, no penalty, seed 0", () => {
    expect(resolveSamplingOptions()).toEqual({ temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: 0 });
    expect(DEFAULT_SAMPLING.temperature).toBe(0);
    expect(resolveSamplingOptions({ temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1.1, seed: 2 ** 40 + 3 })).toEqual({
      temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1.1, seed: 2 ** 40 + 3,
    });
    // The edges that are allowed.
    expect(() => resolveSamplingOptions({ topP: 1, minP: 0, topK: 0, temperature: 0 })).not.toThrow();
  });

  const bad: [SamplingOptions, keyof SamplingOptions, RegExp][] = [
    [{ temperature: -0.1 }, "temperature", /'temperature' must be a finite number ≥ 0, got -0\.1/],
    [{ temperature: Infinity }, "temperature", /got Infinity/],
    [{ temperature: NaN }, "temperature", /got NaN/],
    [{ topK: 2.5 }, "topK", /'topK' must be an integer ≥ 0 \(0 keeps every token\), got 2\.5/],
    [{ topK: -1 }, "topK", /got -1/],
    [{ topP: 0 }, "topP", /'topP' must be in \(0, 1\] \(1 keeps every token\), got 0/],
    [{ topP: 1.5 }, "topP", /got 1\.5/],
    [{ minP: 1 }, "minP", /'minP' must be in \[0, 1\) \(0 keeps every token\), got 1/],
    [{ minP: -0.2 }, "minP", /got -0\.2/],
    [{ repetitionPenalty: 0 }, "repetitionPenalty", /'repetitionPenalty' must be a finite number > 0 \(1 is no penalty\), got 0/],
    [{ repetitionPenalty: -1 }, "repetitionPenalty", /got -1/],
    [{ seed: 1.5 }, "seed", /'seed' must be an integer in \[0, 2\^53\), got 1\.5/],
    [{ seed: -3 }, "seed", /got -3/],
    [{ topK: "5" as unknown as number }, "topK", /got "5"/],
  ];
  for (const [o, option, msg] of bad) {
    it(`rejects ${JSON.stringify(o, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v))}`, () => {
      const e = errorOf(o);
      expect(e.option).toBe(option);
      expect(e.message).toMatch(msg);
    });
  }

  it("rejects an unknown option by name", () => {
    const e = errorOf({ top_k: 3 } as unknown as SamplingOptions);
    expect(e.message).toBe("unknown sampling option 'top_k' (known: temperature, topK, topP, minP, repetitionPenalty, seed)");
  });
});
