// The DUME router: fitted in closed form it sends each domain's inputs to that domain's expert;
// the `ridge` stage on the GPU matches its float64 reference (RouterTester); fitRidge against
// the normal equations solved independently.
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { RouterTester } from "../../../cli/testing/router-tester.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, itGpu, releaseTestGpu, testGpu } from "../../../tests/helpers/gpu-context.js";
import { normals, rng } from "../../../tests/helpers/random.js";
import dume, { fitRidge } from "../index.js";

let gpu: GpuContext;
let tester: RouterTester;
beforeAllGpu(async () => {
  gpu = await testGpu();
  tester = await RouterTester.create({ plugins: [dume], gpu });
});
afterAll(releaseTestGpu);

const D = 16, E = 4;
/** Domain e: N(μ_e, 1) with well-separated means. */
function domain(e: number, n: number, seed: number): Float32Array {
  const r = rng(seed);
  const mu = normals(rng(100 + e), D, 1.2);
  const x = normals(r, n * D);
  for (let i = 0; i < n; i++) for (let k = 0; k < D; k++) x[i * D + k]! += mu[k]!;
  return x;
}

describe("DUME ridge-fitted router", () => {
  itGpu("ridge(temp) matches its reference on the GPU (E up to 4096, both kernel forms)", async () => {
    await tester.run({ pipeline: "ridge(temp = 0.1) |> topk(1) |> softmax", experts: [8, 4096], tokens: [1, 9], seeds: 1 });
    await tester.run({ pipeline: "ridge |> softmax |> topk(2) |> renorm", experts: [8], tokens: [7], seeds: 1, bothForms: false });
  });

  it("fitRidge solves (A + λI) w = b, then normalizes each expert's column", () => {
    const doms = [0, 1].map((e) => domain(e, 40, e + 1));
    const { weight, bias } = fitRidge(doms, D, { lambda: 0.5 });
    // Check the normal equations for expert 0 in float64: (A + λI)·(s·[w_0; b_0]) = b_0-column,
    // for the scale s = ‖unnormalized w_0‖ that makes it hold: so A·v ∝ rhs with one factor.
    const n = D + 1;
    const A = new Float64Array(n * n), rhs = new Float64Array(n);
    doms.forEach((X, e) => {
      for (let r = 0; r < 40; r++) {
        const row = [...Array.from(X.subarray(r * D, (r + 1) * D)), 1];
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) A[i * n + j]! += row[i]! * row[j]!;
          if (e === 0) rhs[i]! += row[i]!;
        }
      }
    });
    for (let i = 0; i < n; i++) A[i * n + i]! += 0.5;
    const v = [...Array.from(weight.subarray(0, D)), bias[0]!];
    const Av = Array.from({ length: n }, (_, i) => v.reduce((a, vj, j) => a + A[i * n + j]! * vj, 0));
    const scale = Av[0]! / rhs[0]!;
    Av.forEach((x, i) => expect(x / scale).toBeCloseTo(rhs[i]!, 2));
    let norm = 0;
    for (let k = 0; k < D; k++) norm += weight[k]! ** 2;
    expect(norm).toBeCloseTo(1, 5);
  });

  itGpu("routes held-out inputs of each domain to its expert", async () => {
    const fitted = fitRidge([0, 1, 2, 3].map((e) => domain(e, 200, e + 10)), D, { lambda: 0.01, ctx: 512 });
    const c = compile({ plugins: [dume], source: `layer l(x: [T, D], D = ${D}) {\n  experts E[${E}] = ffn(hidden = 8)\n  router r = ridge(temp = 0.1) |> topk(1) |> softmax\n  return moe(x, r, E)\n}` });
    expect(c.ok, c.formatDiagnostics()).toBe(true);
    const w = randomWeights(c.program!, 1);
    w.set("r.weight", fitted.weight);
    w.set("r.bias", fitted.bias);
    const exec = await createExecutor(gpu, c.program!, w);
    let right = 0;
    for (let e = 0; e < E; e++) {
      await exec.run(new Map([["x", domain(e, 50, 999 + e)]]), 50, { returnRouting: true });
      const r = exec.lastRouting!.get("r")!;
      for (let t = 0; t < 50; t++) if (r.ids[t * r.maxPerToken] === e) right++;
    }
    exec.dispose();
    expect(right / (E * 50)).toBeGreaterThan(0.95);
  });
});
