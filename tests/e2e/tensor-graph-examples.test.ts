// The §11.1 examples at tiny --set sizes on the GPU against the float64 reference of the same IR:
// Mixture of Thoughts (examples/topologies/mixture_of_thoughts.moe: three MoE agents, expert
// choice among them, two rounds of peer cross-attention) and sequence-level routing
// (examples/sequence_routing.moe: every token gets the decision of the run's mean row) and agents
// as experts (examples/topologies/agents_as_experts.moe: MoE layers, expert choice among them, as
// pool members run on their own tokens).
import * as path from "node:path";
import { afterAll, expect, it } from "vitest";
import { compile } from "../../compiler/index.js";
import type { GpuContext } from "../../runtime/gpu/device.js";
import { randomWeights } from "../../runtime/weights/random-weights.js";
import { checkProgram } from "../helpers/moe-check.js";
import { normals, rng } from "../helpers/random.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../helpers/gpu-context.js";

const ex = (f: string) => path.resolve(__dirname, "../../examples", f);
let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

const CASES: { file: string; set: Record<string, number>; T: number }[] = [
  { file: "topologies/mixture_of_thoughts.moe", set: { D: 16, I: 16, DS: 8, H: 2 }, T: 6 },
  { file: "sequence_routing.moe", set: { D: 32, I: 48 }, T: 7 },
  { file: "topologies/agents_as_experts.moe", set: { D: 16, I: 16 }, T: 9 },
];

describeGpu("§11.1 tensor-graph examples on the GPU vs the float64 reference", () => {
  for (const c of CASES) {
    it(`${c.file} at ${JSON.stringify(c.set)}, T = ${c.T}`, async () => {
      const comp = compile({ file: ex(c.file), set: c.set });
      expect(comp.formatDiagnostics()).toBe("");
      const p = comp.program!;
      const D = p.values[p.inputs[0]!.value]!.width;
      const res = await checkProgram(ctx, p, randomWeights(p, 3), new Map([["x", normals(rng(5), c.T * D)]]), c.T);
      const o = res.outputs.get("y")!;
      expect(o.err.excess, `max abs err ${o.err.maxAbs}`).toBeLessThanOrEqual(2e-4);
      expect(res.selection.mismatches).toEqual([]);
      expect(res.info.commandBuffers).toBe(1);
    }, 120_000);
  }
});
