// `per sequence` routing (LANGUAGE.md §11.1) on the GPU: the sequence-mean kernel writes the run's
// mean row into every row the one fused router reads. Checked against the hand computation
// (tests/helpers/per-sequence-hand.ts) and against the float64 reference at random weights, with
// every token's selection equal to token 0's; runs that need token chunks and decoding are refused.
import { afterAll, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { checkProgram } from "../../helpers/moe-check.js";
import { normals, rng } from "../../helpers/random.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { HAND_WEIGHTS, HAND_X, HAND_Y_SEQUENCE, PER_SEQUENCE_HAND } from "../../helpers/per-sequence-hand.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

function compiled(source: string): IrProgram {
  const c = compile({ source });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

describeGpu("per sequence routing", () => {
  it("matches the hand computation: one decision from the mean row, experts on each token's row", async () => {
    const exec = await createExecutor(ctx, compiled(PER_SEQUENCE_HAND("per sequence")), HAND_WEIGHTS);
    try {
      const y = (await exec.run(new Map([["x", HAND_X]]), 2)).get("y")!;
      HAND_Y_SEQUENCE.forEach((v, i) => expect(y[i]).toBeCloseTo(v, 5));
    } finally {
      exec.dispose();
    }
  });

  const FFN = `layer l(x: [T, D], D = 16) {
  experts E[4] = ffn(hidden = 16)
  router r = linear |> softmax |> topk(2) |> renorm per sequence
  return x + moe(x, r, E)
}`;

  it("ffn pool, softmax |> topk(2) |> renorm per sequence: T = 1 and 9 against the reference", async () => {
    const p = compiled(FFN);
    for (const [T, seed] of [[1, 1], [9, 2]] as const) {
      const w = randomWeights(p, seed);
      const res = await checkProgram(ctx, p, w, new Map([["x", normals(rng(seed + 1000), T * 16)]]), T);
      const o = res.outputs.get("y")!;
      expect(o.err.excess, `max abs err ${o.err.maxAbs}`).toBeLessThanOrEqual(2e-4);
      expect(res.selection.mismatches).toEqual([]);
      expect(res.selection.checked).toBe(T);
      expect(res.routingWeightErr).toBeLessThan(1e-5);
    }
  });

  it("a run that needs token chunks is refused, naming the router (the mean needs every token)", async () => {
    const p = compiled(FFN);
    const exec = await createExecutor(ctx, p, randomWeights(p, 3), { maxActivationBytes: 4096 });
    try {
      await expect(exec.run(new Map([["x", normals(rng(9), 200 * 16)]]), 200)).rejects.toThrow(/router 'r' routes per sequence/);
    } finally {
      exec.dispose();
    }
  });

  it("a model with a per-sequence router is not decoded step by step (ExecutorInputError naming it)", async () => {
    const p = compiled(`layer sm(x: [T, D], D = 16) {
  experts E[4] = ffn(hidden = 8)
  router r = linear |> softmax |> topk(2) per sequence
  return moe(x, r, E)
}
model tiny(tokens: [T], V = 32, D = 16) {
  let h = embed(tokens, vocab = V, dim = D)
  let m = sm(h)
  let logits = lm_head(m, vocab = V)
  return logits
}`);
    await expect(createExecutor(ctx, p, randomWeights(p, 3), { decode: { context: 16 } })).rejects.toThrow(/router 'm.r' of model `tiny` routes per sequence/);
  });
});
