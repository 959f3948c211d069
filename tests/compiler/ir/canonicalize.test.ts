// The canonicalize-router pass (compiler/ir/passes): before/after pairs on IR routers compiled
// from source, the kernel path picked from the canonical form, and the same routing on the GPU
// whichever form is written.
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrRouter } from "../../../compiler/ir/ir.js";
import { canonicalizeRouter, printStages } from "../../../compiler/ir/passes/canonicalize-router.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { planRouter } from "../../../runtime/kernels/router-plan.js";
import { P } from "../../../runtime/kernels/router-layout.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";

function routerOf(pipeline: string, E = 8) {
  const c = compile({ source: `layer l(x: [T, D], D = 16, N = ${E}) {\n  experts E[N] = ffn(hidden = 4)\n  router r = ${pipeline}\n  return moe(x, r, E)\n}` });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return { program: c.program!, router: (c.program!.ops.find((o) => o.op === "moe") as { router: IrRouter }).router };
}

describe("canonicalize-router: before → after", () => {
  const cases: [string, string, string[]][] = [
    ["linear |> softmax |> topk(2) |> renorm", "linear(bias=false) |> topk(k=2) |> softmax", ["softmax-topk-renorm"]],
    ["linear |> temp(2) |> exp |> topk(3) |> renorm |> scale(2)", "linear(bias=false) |> temp(tau=2) |> topk(k=3) |> softmax |> scale(s=2)", ["exp-topk-renorm"]],
    ["linear |> log_softmax |> topk(2) |> softmax", "linear(bias=false) |> topk(k=2) |> softmax", ["logsoftmax-topk-softmax"]],
    ["linear |> log_softmax |> softmax |> topk(2) |> renorm", "linear(bias=false) |> topk(k=2) |> softmax", ["softmax-topk-renorm", "logsoftmax-topk-softmax"]],
    ["linear |> bias(aux_free) |> softmax |> topk(2) |> renorm", "linear(bias=false) |> bias(mode=aux_free, rate=0.001) |> topk(k=2) |> softmax", ["softmax-topk-renorm"]],
  ];
  for (const [before, after, rules] of cases) {
    it(before, () => {
      const { router } = routerOf(before);
      const c = canonicalizeRouter(router);
      expect(printStages(c.router)).toBe(after);
      expect(c.rewrites).toEqual(rules);
      expect(c.entropyFromSoftmax).toBe(true);
      // The pass never changes its input.
      expect(printStages(router)).not.toBe(after);
    });
  }
  for (const keep of [
    "linear |> softmax |> topk(2)", // weights stay the full-softmax probabilities (DeepSeekMoE)
    "linear |> softmax |> topp(0.5) |> renorm", // top-p compares cumulative softmax mass
    "linear |> softmax |> group_topk(2, groups = 4, keep = 2) |> renorm", // group sums of probabilities
    "linear |> sigmoid |> topk(2) |> renorm",
    "linear |> softmax |> topk(2) |> scale(2) |> renorm",
  ]) {
    it(`${keep} (unchanged)`, () => {
      const { router } = routerOf(keep);
      const c = canonicalizeRouter(router);
      expect(c.rewrites).toEqual([]);
      expect(c.router).toBe(router);
    });
  }
});

describe("the kernel path follows the canonical form", () => {
  it("Mixtral routing runs with no full-row transform: softmax over the k selected only", () => {
    const plan = planRouter(routerOf("linear |> softmax |> topk(2) |> renorm").router);
    expect(plan.rewrites).toEqual(["softmax-topk-renorm"]);
    const words = plan.params(4, 0, 0, 32);
    expect(words[P.NT]).toBe(0);
    expect(words[P.NPOST]).toBe(1);
  });

  let ctx: GpuContext;
  beforeAllGpu(async () => {
    ctx = await testGpu();
  });
  afterAll(releaseTestGpu);

  itGpu("`softmax |> topk |> renorm` and `topk |> softmax` route identically on the GPU", async () => {
    const a = routerOf("linear |> softmax |> topk(3) |> renorm", 16);
    const b = routerOf("linear |> topk(3) |> softmax", 16);
    const w = randomWeights(a.program, 5);
    const T = 33;
    const x = Float32Array.from({ length: T * 16 }, (_, i) => Math.sin(i * 1.7) * 1.3);
    const res = [];
    for (const p of [a.program, b.program]) {
      const ex = await createExecutor(ctx, p, w);
      await ex.run(new Map([["x", x]]), T, { returnRouting: true });
      res.push(ex.lastRouting!.get("r")!);
      ex.dispose();
    }
    expect(Array.from(res[0]!.ids)).toEqual(Array.from(res[1]!.ids));
    res[0]!.weights.forEach((v, i) => expect(v).toBeCloseTo(res[1]!.weights[i]!, 6));
  });
});
