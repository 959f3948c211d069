// The LANGUAGE.md §12 programs whose routers needed this work — DeepSeek-V3 (sigmoid, selection-
// only bias with its update, group_topk, scale), expert choice, OmniMoE (product keys with
// BatchNorm state), SMoRA (bias over rank-1 experts) — compiled from their example files at small
// sizes, whole layers on the GPU against the float64 reference (on the GPU's own selection where
// scores are near-tied), with statistics.
import { afterAll, expect, it } from "vitest";
import * as path from "node:path";
import { compile } from "../../compiler/index.js";
import type { GpuContext } from "../../runtime/gpu/device.js";
import { randomWeights } from "../../runtime/weights/random-weights.js";
import { checkProgram } from "../helpers/moe-check.js";
import { normals, rng } from "../helpers/random.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../helpers/gpu-context.js";
import { REPO_ROOT } from "../helpers/frontend/paths.js";

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

// `checked`: tokens whose selection the helper can compare on its own (its near-tie test does not
// know group_topk, whose selections RouterTester checks in std-stages.test.ts).
const CASES: { file: string; set: Record<string, number>; T: number; checked?: number; state?: (w: Map<string, Float32Array>) => void }[] = [
  {
    file: "deepseek_v3.moe", set: { D: 32, I: 16 }, T: 9, checked: 0,
    state: (w) => w.set("r.e_bias", Float32Array.from({ length: 256 }, (_, e) => ((e * 37) % 11) * 0.01)),
  },
  { file: "expert_choice.moe", set: { D: 32, I: 24 }, T: 13 },
  {
    file: "omni_moe.moe", set: { D: 16, P: 8, SI: 24 }, T: 5,
    state: (w) => {
      for (const i of [0, 1]) {
        w.set(`r.${i}.running_mean`, Float32Array.from({ length: 8 }, (_, j) => 0.05 * (j - 4)));
        w.set(`r.${i}.running_var`, Float32Array.from({ length: 8 }, (_, j) => 0.6 + 0.1 * j));
      }
    },
  },
  { file: "smora.moe", set: { D: 32 }, T: 7 },
];

describeGpu("§12 routers on the GPU, whole layers vs the float64 reference", () => {
  for (const c of CASES) {
    it(`${c.file} at ${JSON.stringify(c.set)}, T = ${c.T}`, async () => {
      const comp = compile({ file: path.join(REPO_ROOT, "examples", c.file), set: c.set });
      expect(comp.ok, comp.formatDiagnostics()).toBe(true);
      const program = comp.program!;
      const w = randomWeights(program, 17);
      c.state?.(w);
      const D = program.values[program.inputs[0]!.value]!.width;
      const res = await checkProgram(gpu, program, w, new Map([["x", normals(rng(23), c.T * D)]]), c.T, { stats: true });
      for (const [name, o] of res.outputs) expect(o.err.excess, `${name}: max abs err ${o.err.maxAbs}`).toBeLessThanOrEqual(2e-4);
      expect(res.selection.mismatches).toEqual([]);
      expect(res.selection.checked).toBeGreaterThanOrEqual(c.checked ?? c.T / 2);
      expect(res.routingWeightErr).toBeLessThan(1e-5);
    });
  }
});
