// Granularity on the GPU: `split` pools at DeepSeek-V3 scale (256 fine experts), split weights
// read from every file form, the slices of coarse experts summing to them, and `iterate`
// (Chain-of-Experts, §12), each against the float64 reference or an independent dense computation.

import { afterAll, expect, it } from "vitest";
import * as path from "node:path";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { readSafetensors } from "../../../runtime/safetensors/reader.js";
import { encodeSafetensors, type TensorData } from "../../../runtime/safetensors/writer.js";
import { bindWeights } from "../../../runtime/weights/bind-weights.js";
import { canonicalToFile, type FileForm } from "../../../runtime/weights/canonical-to-file.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { checkProgram } from "../../helpers/moe-check.js";
import { expectClose } from "../../helpers/numerics.js";
import { normals, rng } from "../../helpers/random.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

const EXAMPLES = path.resolve(__dirname, "../../../examples");

function compiled(o: { source?: string; file?: string; set?: Record<string, number> }): IrProgram {
  const c = compile(o);
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

async function check(program: IrProgram, T: number, seed: number, weights?: Map<string, Float32Array>) {
  const D = program.values[program.inputs[0]!.value]!.width;
  const w = weights ?? randomWeights(program, seed);
  const x = normals(rng(seed + 1000), T * D);
  const res = await checkProgram(ctx, program, w, new Map([["x", x]]), T);
  for (const [name, o] of res.outputs) expect(o.err.excess, `${name}: max abs err ${o.err.maxAbs}`).toBeLessThanOrEqual(2e-4);
  expect(res.selection.mismatches).toEqual([]);
  expect(res.routingWeightErr).toBeLessThan(1e-5);
  return res;
}

async function runGpu(program: IrProgram, weights: Map<string, Float32Array>, x: Float32Array, T: number): Promise<Float32Array> {
  const exec = await createExecutor(ctx, program, weights);
  try {
    return (await exec.run(new Map([["x", x]]), T)).get("y")!;
  } finally {
    exec.dispose();
  }
}

const bindForm = (program: IrProgram, canon: Map<string, Float32Array>, form: FileForm) => {
  const entries: Map<string, TensorData> = canonicalToFile(program, canon, form);
  const r = bindWeights(program, readSafetensors(encodeSafetensors(entries), `${form}.safetensors`));
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return { weights: r.weights, names: [...entries.keys()] };
};

const V3_LIKE = `layer v3(x: [T, D], D = 32, C = 32, I = 64, M = 8) {
  shared S[1] = ffn(hidden = 16)
  experts E[C] = ffn(hidden = I) split M
  router r = linear |> sigmoid |> bias(aux_free, rate = 0.001) |> group_topk(8, groups = 8, keep = 4) |> renorm |> scale(2.5)
  return S(x) + moe(x, r, E)
}`;

describeGpu("split pools", () => {
  it("DeepSeek-V3-like: 32 coarse experts split 8 = 256 fine experts of hidden 8, group-limited top-8", async () => {
    const p = compiled({ source: V3_LIKE });
    const moe = p.ops.find((o) => o.op === "moe")!;
    expect(moe.pool).toMatchObject({ count: 256, hidden: 8, split: 8 });
    const w = randomWeights(p, 61);
    w.set("r.e_bias", Float32Array.from({ length: 256 }, (_, e) => ((e * 37) % 11) * 0.02));
    const r = await check(p, 48, 61, w);
    // 5 for the pool whatever its 256 experts, + 1: the aux-free bias update after the run.
    expect(r.info.dispatchesPerOp.find((o) => o.kind === "moe")!.dispatches).toBe(6);
  });

  it("gives the same answer from coarse, per-member fine, stacked and stacked-coarse weight files", async () => {
    const p = compiled({ source: V3_LIKE, set: { C: 8, M: 4, I: 32 } });
    const canon = randomWeights(p, 62);
    const T = 21;
    const x = normals(rng(63), T * 32);
    const forms: FileForm[] = ["coarse", "per-member", "stacked", "stacked-coarse"];
    const outs: Float32Array[] = [];
    for (const form of forms) {
      const { weights, names } = bindForm(p, canon, form);
      if (form === "coarse") expect(names).toContain("E.7.w_gate"); // [4·8, D]: coarse expert 7
      if (form === "per-member") expect(names).toContain("E.31.w_gate"); // [8, D]: fine expert 31
      outs.push(await runGpu(p, weights, x, T));
    }
    for (let i = 1; i < outs.length; i++) expect(Buffer.from(outs[i]!.buffer).equals(Buffer.from(outs[0]!.buffer)), forms[i]).toBe(true);
    await check(p, T, 62, canon);
  });

  it("the slices of coarse experts, all active with weight 1, sum to the coarse experts (with biases)", async () => {
    // One coarse-named checkpoint feeds a split pool, the unsplit pool and (for one expert) a dense FFN.
    const D = 16;
    const layer = (decl: string) => `layer l(x: [T, D], D = ${D}) {
  ${decl}
  router r = linear |> exp |> dense
  return moe(x, r, E)
}`;
    const split = compiled({ source: layer("experts E[3] = ffn(hidden = 24, act = gelu, bias = true) split 4") });
    const coarse = compiled({ source: layer("experts E[3] = ffn(hidden = 24, act = gelu, bias = true)") });
    const cw = randomWeights(coarse, 64);
    cw.set("r.weight", new Float32Array(3 * D)); // exp(0) = 1 for every expert
    const file: Map<string, TensorData> = canonicalToFile(coarse, cw, "per-member");
    file.set("r.weight", { dtype: "F32", shape: [12, D], data: new Float32Array(12 * D) });
    const sw = bindWeights(split, readSafetensors(encodeSafetensors(file), "coarse.safetensors"));
    if (!sw.ok) throw new Error(sw.errors.map((e) => e.message).join("\n"));
    const T = 9;
    const x = normals(rng(65), T * D);
    const ySplit = await runGpu(split, sw.weights, x, T);
    const yCoarse = await runGpu(coarse, cw, x, T);
    expectClose(ySplit, yCoarse, 2e-5, 1e-5, "split vs coarse");
    // And against a float64 dense evaluation of the three coarse FFNs from the file's tensors.
    const gelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
    const ref = new Float64Array(T * D);
    for (let c = 0; c < 3; c++) {
      const up = cw.get(`E.w_up`)!.subarray(c * 24 * D), bu = cw.get("E.b_up")!.subarray(c * 24);
      const down = cw.get("E.w_down")!.subarray(c * D * 24), bd = cw.get("E.b_down")!.subarray(c * D);
      for (let t = 0; t < T; t++) {
        const h = Array.from({ length: 24 }, (_, i) => gelu(bu[i]! + Array.from({ length: D }, (_, d) => up[i * D + d]! * x[t * D + d]!).reduce((a, b) => a + b, 0)));
        for (let d = 0; d < D; d++) ref[t * D + d]! += bd[d]! + h.reduce((a, hi, i) => a + down[d * 24 + i]! * hi, 0);
      }
    }
    expectClose(ySplit, ref, 2e-4, 1e-4, "split vs float64 dense");
  });
});

describeGpu("iterate (Chain-of-Experts)", () => {
  it("examples/chain_of_experts.moe at --set D=32 N=15 I=24: shared pool and experts reused by 2 routers", async () => {
    const p = compiled({ file: path.join(EXAMPLES, "chain_of_experts.moe"), set: { D: 32, N: 15, I: 24 } });
    const moes = p.ops.filter((o) => o.op === "moe");
    expect(moes.map((o) => [o.router.key, o.pool.key])).toEqual([["r.0", "E"], ["r.1", "E"]]);
    await check(p, 29, 70);
  });

  it("a pool and router inside the body (per iteration: E.1.3.w_gate, r.2.weight), fine atoms outside", async () => {
    const p = compiled({
      source: `layer it(x: [T, D], D = 16) {
  experts A[256] = atom(act = swiglu)
  iterate 3 {
    experts E[4] = ffn(hidden = 8) split 2
    router r = linear |> softmax |> topk(2)
    router q = linear |> softmax |> topk(8)
    x = x + moe(x, r, E) + moe(x, q, A)
  }
  return x
}`,
    });
    expect(p.ops.filter((o) => o.op === "moe").map((o) => `${o.router.key}→${o.pool.key}`)).toEqual(["r.0→E.0", "q.0→A", "r.1→E.1", "q.1→A", "r.2→E.2", "q.2→A"]);
    await check(p, 17, 71);
  });
});

/** erf by its Maclaurin series / continued fraction (float64, |error| < 1e-14 on the range used). */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax, sum = ax;
    for (let n = 1; n < 100; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f));
}
