// Agents as experts (LANGUAGE.md §11.1) on the GPU against the float64 reference, which runs each
// member layer on its own token subset: the GPU compacts each member's tokens, runs the member's
// kernels with its count as run.T (read from a copied run uniform), and scatter-adds the weighted
// rows. Members: a top-2 MoE layer, an expert-choice layer (its capacity from its own count),
// a dense ffn and identity(); and nested: a member that is itself a pool of layers, a graph member.
import { afterAll, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { checkProgram } from "../../helpers/moe-check.js";
import { normals, rng } from "../../helpers/random.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import { AGENT_HAND_WEIGHTS, AGENT_HAND_X, AGENT_HAND_Y, AGENT_POOL_HAND } from "../../helpers/agent-pool-hand.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

const AGENTS = `
layer moe2(x: [T, D], D = 16, N = 4, I = 8) {
  experts E[N] = ffn(hidden = I)
  router r = linear |> softmax |> topk(2) |> renorm
  return moe(x, r, E)
}
layer ec(x: [T, D], D = 16, N = 4, I = 8) {
  experts E[N] = ffn(hidden = I, act = gelu)
  router r = linear |> softmax |> choose(capacity = 2.0)
  return moe(x, r, E)
}
layer agents(x: [T, D], D = 16) {
  experts A = [moe2(I = 12), ec(), ffn(hidden = 8), identity()]
  router r = linear |> softmax |> topk(2) |> renorm
  return x + moe(x, r, A)
}
`;

describeGpu("agents as experts", () => {
  it("matches the hand computation: a member's expert choice sees only its own two tokens", async () => {
    const c = compile({ source: AGENT_POOL_HAND, entry: "agents" });
    if (!c.ok) throw new Error(c.formatDiagnostics());
    const exec = await createExecutor(ctx, c.program!, AGENT_HAND_WEIGHTS);
    try {
      const y = (await exec.run(new Map([["x", AGENT_HAND_X]]), 4)).get("y")!;
      AGENT_HAND_Y.forEach((v, i) => expect(y[i]).toBeCloseTo(v, 5));
    } finally {
      exec.dispose();
    }
  });

  it("[moe2(I = 12), ec(), ffn(hidden = 8), identity()], top-2: T = 1, 6 and 23 against the reference", async () => {
    const c = compile({ source: AGENTS, entry: "agents" });
    if (!c.ok) throw new Error(c.formatDiagnostics());
    const p = c.program!;
    for (const [T, seed] of [[1, 1], [6, 2], [23, 3]] as const) {
      const res = await checkProgram(ctx, p, randomWeights(p, seed), new Map([["x", normals(rng(seed + 1000), T * 16)]]), T);
      const o = res.outputs.get("y")!;
      expect(o.err.excess, `T = ${T}: max abs err ${o.err.maxAbs}`).toBeLessThanOrEqual(2e-4);
      expect(res.selection.mismatches).toEqual([]);
      expect(res.info.commandBuffers).toBe(1);
    }
  });

  it("nested: a member that is itself a pool of layers, and a graph member (a chain), T = 13", async () => {
    const c = compile({ source: `${AGENTS}
layer inner(x: [T, D], D = 16) {
  experts B = [moe2(), ffn(hidden = 4)]
  router r = linear |> softmax |> topk(1)
  return x + moe(x, r, B)
}
graph chain2(x: [T, D], D = 16) = moe2(D = D) -> ec(D = D)
layer outer(x: [T, D], D = 16) {
  experts A = [inner(), chain2(), identity()]
  router r = linear |> softmax |> topk(2) |> renorm
  return moe(x, r, A)
}`, entry: "outer" });
    if (!c.ok) throw new Error(c.formatDiagnostics());
    const p = c.program!;
    const res = await checkProgram(ctx, p, randomWeights(p, 7), new Map([["x", normals(rng(77), 13 * 16)]]), 13);
    const o = res.outputs.get("y")!;
    expect(o.err.excess, `max abs err ${o.err.maxAbs}`).toBeLessThanOrEqual(2e-4);
    expect(res.selection.mismatches).toEqual([]);
  });
});
