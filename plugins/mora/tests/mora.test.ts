// MoRA's stages on the GPU vs their float64 references (RouterTester), and the routing of
// "Little by Little" derived by hand on a small case.
import { afterAll, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { RouterTester } from "../../../cli/testing/router-tester.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../../tests/helpers/gpu-context.js";
import mora from "../index.js";

let gpu: GpuContext;
let tester: RouterTester;
beforeAllGpu(async () => {
  gpu = await testGpu();
  tester = await RouterTester.create({ plugins: [mora], gpu });
});
afterAll(releaseTestGpu);

describeGpu("MoRA self-activated rank routing", () => {
  it("l2norm and mora_gate match their references (E up to 4096, both kernel forms)", async () => {
    await tester.run({ pipeline: "linear |> l2norm |> mora_gate(temp = 0.5) |> threshold(0.1, max = 8)", experts: [8, 64, 4096], seeds: 1 });
    await tester.run({ pipeline: "linear |> l2norm |> softmax |> topk(2)", experts: [8], seeds: 1 });
  });

  it("selects on s = z/‖z‖ (top-k with s ≥ δ) and weighs by softmax(s/τ) over all ranks, not renormalized", async () => {
    const c = compile({ plugins: [mora], source: "layer l(x: [T, D], D = 4) {\n  experts R[4] = lowrank(rank = 1)\n  router r = linear |> l2norm |> mora_gate(temp = 0.5) |> threshold(0.1, max = 8)\n  return moe(x, r, R)\n}" });
    expect(c.ok, c.formatDiagnostics()).toBe(true);
    const w = randomWeights(c.program!, 1);
    w.set("r.weight", Float32Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0)));
    const exec = await createExecutor(gpu, c.program!, w);
    // z = x = [3, 4, 0, -0.5]: ‖z‖ = √25.25; s = z/‖z‖; ranks 1 and 0 pass δ = 0.1, rank 3 does not.
    await exec.run(new Map([["x", Float32Array.of(3, 4, 0, -0.5)]]), 1, { returnRouting: true });
    const r = exec.lastRouting!.get("r")!;
    expect(Array.from(r.ids.subarray(0, r.counts[0]!))).toEqual([1, 0]);
    const n = Math.sqrt(25.25);
    const s = [3 / n, 4 / n, 0, -0.5 / n];
    const Z = s.reduce((a, v) => a + Math.exp(v / 0.5), 0);
    expect(r.weights[0]).toBeCloseTo(Math.exp(s[1]! / 0.5) / Z, 6);
    expect(r.weights[1]).toBeCloseTo(Math.exp(s[0]! / 0.5) / Z, 6);
    exec.dispose();
  });
});
