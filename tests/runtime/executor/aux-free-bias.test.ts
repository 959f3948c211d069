// bias(aux_free, rate): the state e_bias is updated on the GPU after every run,
// e_bias ← e_bias + γ·sign(mean_load − load) (LANGUAGE.md §5), and evens out a skewed load:
// MaxVio falls over repeated runs. Each update is checked against the same rule in float64 on
// the reference's loads.
import { afterAll, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrRouter } from "../../../compiler/ir/ir.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { route } from "../../../runtime/reference/interpret.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { normals, rng } from "../../helpers/random.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

const E = 8, D = 16, T = 64, RATE = 0.02;

function skewed(): Float32Array {
  // Every token is one shared direction plus a little noise: the same experts win everywhere.
  const r = rng(3);
  const c = normals(r, D, 1.5);
  const x = normals(r, T * D, 0.3);
  for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) x[t * D + d]! += c[d]!;
  return x;
}

describeGpu("aux-loss-free balancing", () => {
  it("MaxVio falls over repeated runs on a skewed input; every update matches the float64 rule", async () => {
    const c = compile({ source: `layer l(x: [T, D], D = ${D}, N = ${E}) {
  experts E[N] = ffn(hidden = 4)
  router r = linear |> sigmoid |> bias(aux_free, rate = ${RATE}) |> topk(2) |> renorm
  report load, maxvio
  return moe(x, r, E)
}` });
    expect(c.ok, c.formatDiagnostics()).toBe(true);
    const program = c.program!;
    const router = (program.ops.find((o) => o.op === "moe") as { router: IrRouter }).router;
    const w = randomWeights(program, 11);
    const x = skewed();
    const exec = await createExecutor(ctx, program, w, { stats: true });
    const maxvio: number[] = [];
    let bias = new Float64Array(E); // zeros: no state in the weights
    try {
      for (let run = 0; run < 40; run++) {
        await exec.run(new Map([["x", x]]), T);
        const s = exec.lastStats!.get("r")!;
        maxvio.push(s.maxvio);
        // The reference routes with the bias the GPU used, then applies the rule to its loads.
        const ref = route(router, new Map<string, Float32Array | Float64Array>([...w, ["r.e_bias", bias]]), Float64Array.from(x), T);
        const load = new Float64Array(E);
        for (const sel of ref) for (const e of sel.ids) load[e]! += 1;
        expect(s.load).toEqual(Array.from(load));
        const mean = load.reduce((a, b) => a + b, 0) / E;
        bias = bias.map((b, e) => b + RATE * Math.sign(mean - load[e]!));
        const gpu = (await exec.readState()).get("r.e_bias")!;
        gpu.forEach((v, e) => expect(v).toBeCloseTo(bias[e]!, 5));
        expect(s.state?.e_bias).toEqual(Array.from(gpu));
      }
    } finally {
      exec.dispose();
    }
    const first = maxvio[0]!;
    const last = maxvio.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(first).toBeGreaterThan(1.5);
    expect(last).toBeLessThan(0.5 * first);
  });

  it("state is read from the weights when present, else zeros; it persists across plan rebuilds", async () => {
    const c = compile({ source: `layer l(x: [T, D], D = ${D}, N = ${E}) {
  experts E[N] = ffn(hidden = 4)
  router r = linear |> bias(aux_free, rate = 0.5) |> topk(1)
  return moe(x, r, E)
}` });
    const w = randomWeights(c.program!, 2);
    w.set("r.e_bias", Float32Array.from({ length: E }, (_, e) => 10 * e));
    const exec = await createExecutor(ctx, c.program!, w);
    expect(Array.from((await exec.readState()).get("r.e_bias")!)).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    // A strong bias sends every token to expert 7, which is then pushed down, the rest up.
    await exec.run(new Map([["x", normals(rng(1), 4 * D)]]), 4, { returnRouting: true });
    expect(Array.from(exec.lastRouting!.get("r")!.ids)).toEqual([7, 7, 7, 7]);
    expect(Array.from((await exec.readState()).get("r.e_bias")!)).toEqual([0.5, 10.5, 20.5, 30.5, 40.5, 50.5, 60.5, 69.5]);
    // 40 tokens need a bigger plan: the state carries over.
    await exec.run(new Map([["x", normals(rng(2), 40 * D)]]), 40);
    const after = (await exec.readState()).get("r.e_bias")!;
    expect(after[0]).toBeGreaterThanOrEqual(0.5);
    exec.dispose();
  });
});
