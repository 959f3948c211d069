// Every router stage of LANGUAGE.md §5 on the GPU (the fused router kernel, both its subgroup and
// workgroup forms) against its float64 reference, through RouterTester: random inputs and
// shapes (E up to 4096, T = 1), exact ties (input 0 → ties to the lower index), near-ties
// skipped as DESIGN.md says, weights on the GPU's own selection, §10 statistics.
import { afterAll, expect, it } from "vitest";
import { RouterTester } from "../../cli/testing/router-tester.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../helpers/gpu-context.js";

let tester: RouterTester;
beforeAllGpu(async () => {
  tester = await RouterTester.create({ gpu: await testGpu() });
});
afterAll(releaseTestGpu);

const BIG = [8, 64, 4096];

async function ok(pipeline: string, opts: Parameters<RouterTester["run"]>[0] extends infer C ? Partial<C> : never = {}) {
  const r = await tester.run({ pipeline, seeds: 1, ...opts });
  expect(r.cases).toBeGreaterThan(0);
  // Near-ties are rare with random N(0, 1/D) weights; most tokens must really be compared.
  expect(r.compared).toBeGreaterThan(0.8 * r.tokens);
  return r;
}

describeGpu("score stages", () => {
  it("linear (with and without bias), E up to 4096, T = 1", async () => {
    const r = await ok("linear |> softmax |> topk(2) |> renorm", { experts: BIG });
    expect(r.exactTies).toBeGreaterThan(0);
    await ok("linear(bias = true) |> sigmoid |> topk(3) |> scale(2.5)", { experts: [8, 64] });
  });
  it("cosine(temp): normalized x and w_e; input 0 scores 0 (exact ties)", async () => {
    const r = await ok("cosine(temp = 0.1) |> softmax |> topk(2)", { experts: BIG });
    expect(r.exactTies).toBeGreaterThan(0);
  });
  it("product keys: 2 and 3 parts, norm = batch with non-trivial running statistics", async () => {
    await ok("product(parts = 2, size = 4, norm = batch) |> topk(3) |> exp", {
      experts: [16],
      weights: (w) => {
        for (const i of [0, 1]) {
          w.set(`r.${i}.running_mean`, Float32Array.from({ length: 4 }, (_, j) => 0.1 * (j - 1.5)));
          w.set(`r.${i}.running_var`, Float32Array.from({ length: 4 }, (_, j) => 0.5 + 0.25 * j));
        }
      },
    });
    await ok("product(parts = 3, size = 2) |> topk(2) |> softmax", { experts: [8] });
    await ok("product(size = 64) |> topk(16) |> exp", { experts: [4096], tokens: [1, 5] });
  });
});

describeGpu("transforms and post-select stages", () => {
  it("log_softmax, temp, threshold (may select none)", async () => {
    await ok("linear |> log_softmax |> temp(2) |> threshold(-4.5, max = 3)", { experts: [8, 64] });
    await ok("linear |> sigmoid |> threshold(0.6)", { experts: [8] });
  });
  it("exp before and after the select stage; scale", async () => {
    await ok("linear |> exp |> topk(2) |> renorm", { experts: [8, 64] });
    await ok("linear |> temp(0.5) |> topk(3) |> exp |> scale(0.5)", { experts: [8] });
  });
  it("bias(aux_free) on the selection stream only, before and after other transforms", async () => {
    const bias = (w: Map<string, Float32Array>, c: { E: number }) => w.set("r.e_bias", Float32Array.from({ length: c.E }, (_, e) => ((e * 7) % 5) * 0.05));
    await ok("linear |> sigmoid |> bias(aux_free, rate = 0.01) |> topk(2) |> renorm", { experts: [8, 64], weights: bias });
    await ok("linear |> bias(aux_free) |> softmax |> topk(2)", { experts: [8, 64], weights: bias });
  });
});

describeGpu("select stages", () => {
  it("topp(p, max) without and with renorm", async () => {
    await ok("linear |> softmax |> topp(0.5, max = 4) |> renorm", { experts: [8, 64] });
    await ok("linear |> softmax |> topp(0.9)", { experts: [8] });
  });
  it("group_topk (DeepSeek-V3: sigmoid, selection-only bias, renorm, scale), E = 256", async () => {
    await ok("linear |> sigmoid |> bias(aux_free, rate = 0.001) |> group_topk(8, groups = 8, keep = 4) |> renorm |> scale(2.5)", {
      experts: [256],
      weights: (w, c) => w.set("r.e_bias", Float32Array.from({ length: c.E }, (_, e) => (e % 3) * 0.02)),
    });
    await ok("linear |> softmax |> group_topk(2, groups = 4, keep = 2)", { experts: [8, 64] });
  });
  it("choose(capacity): expert choice over the run (a token may get 0 … E experts)", async () => {
    await ok("linear |> softmax |> choose(capacity = 2.0)", { experts: [8, 64], tokens: [1, 7, 33] });
    await ok("linear |> softmax |> choose(capacity = 1.3) |> renorm", { experts: [8], tokens: [10, 33] });
  });
  it("dense, with a post-select softmax", async () => {
    await ok("linear |> softmax |> dense", { experts: [8, 64] });
    await ok("linear |> dense |> softmax", { experts: [8, 4096], tokens: [1, 3] });
  });
});
