// hash(seed) on the GPU vs its float64 reference (RouterTester), and what makes it a hash router:
// equal inputs share an expert, assignments spread over the pool, and the seed changes them.
import { afterAll, describe, expect, it } from "vitest";
import { RouterTester } from "../../../cli/testing/router-tester.js";
import { beforeAllGpu, itGpu, releaseTestGpu, testGpu } from "../../../tests/helpers/gpu-context.js";
import hashPlugin, { hashExpert, mix32 } from "../index.js";

let tester: RouterTester;
beforeAllGpu(async () => {
  tester = await RouterTester.create({ plugins: [hashPlugin], gpu: await testGpu() });
});
afterAll(releaseTestGpu);

describe("hash routing", () => {
  itGpu("matches its float64 reference on the GPU (E up to 4096, T = 1, both kernel forms)", async () => {
    const r = await tester.run({ pipeline: "hash(seed = 7) |> topk(1)", experts: [8, 64, 4096], seeds: 1 });
    expect(r.compared).toBe(r.tokens);
    expect(r.maxWeightError).toBe(0);
    await tester.run({ pipeline: "hash(3) |> topk(1) |> scale(2)", experts: [16], seeds: 1 });
  });

  it("murmur3's finalizer (known answers)", () => {
    expect(mix32(0)).toBe(0);
    expect(mix32(1)).toBe(0x514e28b7);
  });

  it("equal inputs share an expert; the seed reshuffles; loads spread over the pool", () => {
    const x = Float64Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
    expect(hashExpert(x, 16, 7)).toBe(hashExpert(Float64Array.from(x), 16, 7));
    // Only signs matter: rounding noise does not move a token.
    expect(hashExpert(x.map((v) => v * (1 + 1e-6)), 16, 7)).toBe(hashExpert(x, 16, 7));
    const load = new Array(16).fill(0);
    let moved = 0;
    let s = 12345;
    const uniform = () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let q = Math.imul(s ^ (s >>> 15), s | 1);
      q ^= q + Math.imul(q ^ (q >>> 7), q | 61);
      return ((q ^ (q >>> 14)) >>> 0) / 4294967296;
    };
    for (let t = 0; t < 4096; t++) {
      const xt = Float64Array.from({ length: 16 }, () => uniform() - 0.5);
      load[hashExpert(xt, 16, 7)]++;
      if (hashExpert(xt, 16, 7) !== hashExpert(xt, 16, 8)) moved++;
    }
    // 256 tokens per expert expected; 5σ ≈ 78.
    for (const l of load) expect(Math.abs(l - 256)).toBeLessThan(80);
    expect(moved).toBeGreaterThan(3500);
  });
});
