// elastic_topk(k, max) on the GPU vs its float64 reference (RouterTester), and k changed per run
// through router state — without recompiling anything.
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { RouterTester } from "../../../cli/testing/router-tester.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, itGpu, releaseTestGpu, testGpu } from "../../../tests/helpers/gpu-context.js";
import elastic from "../index.js";

let gpu: GpuContext;
let tester: RouterTester;
beforeAllGpu(async () => {
  gpu = await testGpu();
  tester = await RouterTester.create({ plugins: [elastic], gpu });
});
afterAll(releaseTestGpu);

describe("elastic top-k (EMoE)", () => {
  itGpu("matches its reference at the compiled k and at run values of k (clamped to max)", async () => {
    await tester.run({ pipeline: "linear |> softmax |> elastic_topk(2, max = 6) |> renorm", experts: [8, 64, 4096], seeds: 1 });
    for (const k of [1, 5, 9]) {
      await tester.run({ pipeline: "linear |> softmax |> elastic_topk(2, max = 6) |> renorm", experts: [8, 64], seeds: 1, weights: (w) => w.set("r.elastic_k", Float32Array.of(k)) });
    }
  });

  it("checks its arguments against the pool", () => {
    const c = compile({ plugins: [elastic], source: "layer l(x: [T, D], D = 8) {\n  experts E[4] = ffn(hidden = 4)\n  router r = linear |> elastic_topk(3, max = 6)\n  return moe(x, r, E)\n}" });
    expect(c.diagnostics.map((d) => d.message)).toEqual(["max = 6 is more than the pool's 4 experts"]);
    const d = compile({ plugins: [elastic], source: "layer l(x: [T, D], D = 8) {\n  experts E[8] = ffn(hidden = 4)\n  router r = linear |> elastic_topk(5, max = 4)\n  return moe(x, r, E)\n}" });
    expect(d.diagnostics[0]!.message).toBe("k = 5 is more than max = 4");
  });

  itGpu("k changes between runs through state, with no new pipeline", async () => {
    const c = compile({ plugins: [elastic], source: "layer l(x: [T, D], D = 16) {\n  experts E[8] = ffn(hidden = 4)\n  router r = linear |> softmax |> elastic_topk(2, max = 8) |> renorm\n  return moe(x, r, E)\n}" });
    expect(c.ok, c.formatDiagnostics()).toBe(true);
    const exec = await createExecutor(gpu, c.program!, randomWeights(c.program!, 3), { stats: true });
    const x = Float32Array.from({ length: 5 * 16 }, (_, i) => Math.cos(i));
    // The first run builds its plan (the executor's own one-row plan may run another schedule).
    await exec.run(new Map([["x", x]]), 5);
    const pipelines = gpu.pipelines.size;
    const ks: number[] = [];
    for (const k of [0, 6, 3, 0]) {
      await exec.writeState(new Map([["r.elastic_k", [k]]]));
      await exec.run(new Map([["x", x]]), 5);
      ks.push(exec.lastStats!.get("r")!.active_k.mean);
    }
    expect(ks).toEqual([2, 6, 3, 2]);
    expect(gpu.pipelines.size).toBe(pipelines);
    await expect(exec.writeState(new Map([["r.nope", [1]]]))).rejects.toThrow(/no router state named 'r.nope'; the program's state: r.elastic_k/);
    exec.dispose();
  });
});
