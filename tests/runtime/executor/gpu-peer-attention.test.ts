// Mixture of Thoughts' `primary_peers` (LANGUAGE.md §11.1) on the GPU against the float64
// reference: agent layers per round, the peer projections, and the cross-attention as the flash
// kernel reading P interleaved key rows per position (kv_per_pos), at T = 3 (one query tile) and
// T = 21 (two query tiles, keys beyond one key tile).
import { afterAll, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { checkProgram } from "../../helpers/moe-check.js";
import { normals, rng } from "../../helpers/random.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

const SOURCE = `
layer moe2(x: [T, D], D = 16, N = 4, I = 8) {
  experts E[N] = ffn(hidden = I)
  router r = linear |> softmax |> topk(2) |> renorm
  return moe(x, r, E)
}
layer dense(x: [T, D], D = 16, I = 8) {
  let f = ffn(x, hidden = I)
  return x + f
}
graph mot(x: [T, D], D = 16) = primary_peers(moe2(D = D), dense(D = D), dense(D = D, I = 4), latent = 8, heads = 2, rounds = 2)
`;

describeGpu("primary_peers (Mixture of Thoughts)", () => {
  it("3 agents, latent 8, 2 heads, 2 rounds: T = 3 and 21 against the float64 reference", async () => {
    const c = compile({ source: SOURCE, entry: "mot" });
    if (!c.ok) throw new Error(c.formatDiagnostics());
    const p = c.program!;
    for (const [T, seed] of [[3, 1], [21, 2]] as const) {
      const res = await checkProgram(ctx, p, randomWeights(p, seed), new Map([["x", normals(rng(seed + 1000), T * 16)]]), T);
      const o = res.outputs.get("y")!;
      expect(o.err.excess, `max abs err ${o.err.maxAbs}`).toBeLessThanOrEqual(2e-4);
      expect(res.selection.mismatches).toEqual([]);
    }
  });
});
