// Fine-grained layers compiled from .moe source (compile({ source | file, set })) on the GPU vs
// the float64 reference, evaluated with the GPU's own selection (near-ties cannot fail the
// numeric check; robust selections are compared too).

import { afterAll, expect, it } from "vitest";
import * as path from "node:path";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
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

const EXAMPLES = path.resolve(__dirname, "../../../examples");

function compiled(o: { source?: string; file?: string; set?: Record<string, number> }): IrProgram {
  const c = compile({ source: o.source, file: o.file, set: o.set });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

async function check(program: IrProgram, T: number, seed: number, opts: { schedule?: "token" | "expert" | "auto"; weights?: Map<string, Float32Array> } = {}) {
  const D = program.values[program.inputs[0]!.value]!.width;
  const weights = opts.weights ?? randomWeights(program, seed);
  const x = normals(rng(seed + 1000), T * D);
  const res = await checkProgram(ctx, program, weights, new Map([["x", x]]), T, { fineSchedule: opts.schedule });
  for (const [name, o] of res.outputs) expect(o.err.excess, `${name}: max abs err ${o.err.maxAbs}`).toBeLessThanOrEqual(2e-4);
  expect(res.selection.mismatches).toEqual([]);
  expect(res.routingWeightErr).toBeLessThan(1e-5);
  return res;
}

const atomLayer = (act: string, select: string) => `
layer atoms(x: [T, D], D = 16, N = 4096, K = 16) {
  experts A[N] = atom(act = ${act})
  router r = linear |> ${select}
  return moe(x, r, A)
}`;

describeGpu("atom and lowrank layers compiled from source", () => {
  it("T = 1, N = 4096 atoms, k = N: silu, gelu, relu, identity, swiglu, geglu", async () => {
    for (const [i, act] of ["silu", "gelu", "relu", "identity", "swiglu", "geglu"].entries()) {
      const p = compiled({ source: atomLayer(act, "topk(K) |> softmax"), set: { K: 4096 } });
      const r = await check(p, 1, 200 + i);
      expect(r.info.dispatches).toBeLessThanOrEqual(5);
    }
  });

  it("random shapes: N up to 4096, k up to N, T 1…40, both schedules", async () => {
    const r = rng(5);
    const pick = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    for (let i = 0; i < 5; i++) {
      const N = [4096, 1024, 300, 64, 7][i]!;
      const K = i === 0 ? N : pick(1, Math.min(N, 64));
      const set = { D: pick(4, 48), N, K };
      const p = compiled({ source: atomLayer(["silu", "swiglu", "gelu", "geglu", "relu"][i]!, "softmax |> topk(K) |> renorm"), set });
      await check(p, i === 0 ? 1 : pick(1, 40), 300 + i, { schedule: i % 2 ? "expert" : "token" });
    }
  });

  it("SMoRA (examples/smora.moe): rank-1 experts, selection-only bias, residual, at --set D=32 N=64", async () => {
    const p = compiled({ file: path.join(EXAMPLES, "smora.moe"), set: { D: 32, N: 64 } });
    expect(p.ops.find((o) => o.op === "moe")!.pool).toMatchObject({ kind: "lowrank", hidden: 1, count: 64 });
    const w = randomWeights(p, 9);
    w.set("r.e_bias", Float32Array.from({ length: 64 }, (_, e) => ((e * 7) % 5) * 0.05));
    await check(p, 23, 9, { weights: w });
  });

  it("lowrank(rank = R) for R = 1, 2, 5, 16 from source", async () => {
    for (const R of [1, 2, 5, 16]) {
      const p = compiled({
        source: `layer lr(x: [T, D], D = 24, N = 40, R = 1) {
  experts L[N] = lowrank(rank = R)
  router r = linear |> sigmoid |> topk(3) |> renorm
  return x + moe(x, r, L)
}`,
        set: { R },
      });
      await check(p, 17, 400 + R);
    }
  });
});
