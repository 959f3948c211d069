// Heterogeneous pools (`experts E = [ffn(…), lowrank(…), atom(), identity()]`) on the GPU vs the
// float64 reference, compiled from .moe source: every member with weights runs in one ragged
// grouped-GEMM launch pair whatever its kind; null members in the combine. 5 dispatches.

import { afterAll, expect, it } from "vitest";
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

function compiled(source: string, set?: Record<string, number>): IrProgram {
  const c = compile({ source, set });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

async function check(program: IrProgram, T: number, seed: number, weights?: Map<string, Float32Array>, maxActivationBytes?: number) {
  const D = program.values[program.inputs[0]!.value]!.width;
  const w = weights ?? randomWeights(program, seed);
  const x = normals(rng(seed + 1000), T * D);
  const res = await checkProgram(ctx, program, w, new Map([["x", x]]), T, { maxActivationBytes });
  for (const [name, o] of res.outputs) expect(o.err.excess, `${name}: max abs err ${o.err.maxAbs}`).toBeLessThanOrEqual(2e-4);
  expect(res.selection.mismatches).toEqual([]);
  expect(res.routingWeightErr).toBeLessThan(1e-5);
  return res;
}

describeGpu("heterogeneous pools", () => {
  it("[ffn(hidden = 64), lowrank(rank = 4), atom(), identity()], top-2 of softmax: T = 1, 21, 64", async () => {
    const p = compiled(`layer mixed(x: [T, D], D = 32) {
  experts E = [ffn(hidden = 64), lowrank(rank = 4), atom(), identity()]
  router r = linear |> softmax |> topk(2) |> renorm
  return moe(x, r, E)
}`);
    expect(p.ops[0]).toMatchObject({ op: "moe", pool: { kind: "mixed", count: 4 } });
    for (const [T, seed] of [[1, 1], [21, 2], [64, 3]] as const) {
      const r = await check(p, T, seed);
      expect(r.info.dispatches).toBe(5);
    }
  });

  it("every kind and option: gated/plain ffn with biases, geglu atoms, ranks 1…9, zero(), k = E", async () => {
    const p = compiled(`layer mixed(x: [T, D], D = 24) {
  experts E = [ffn(hidden = 70, act = relu, bias = true), lowrank(rank = 1), atom(act = geglu), zero(),
               ffn(hidden = 8, act = geglu, bias = true), lowrank(rank = 9), atom(act = gelu), identity(), ffn(hidden = 16)]
  router r = linear |> topk(9) |> softmax
  return x + moe(x, r, E)
}`);
    await check(p, 19, 4);
  });

  it("FlexMoRE-style mixed ranks with a sigmoid top-3 router at random inputs", async () => {
    const p = compiled(`layer flex(x: [T, D], D = 40) {
  experts E = [lowrank(rank = 2), lowrank(rank = 4), lowrank(rank = 8), lowrank(rank = 16), lowrank(rank = 32), lowrank(rank = 64), lowrank(rank = 128)]
  router r = linear |> sigmoid |> topk(3) |> renorm
  return x + moe(x, r, E)
}`);
    await check(p, 33, 5);
  });

  it("split into token chunks when activations exceed the binding limit (packed weights are not activations)", async () => {
    const p = compiled(`layer mixed(x: [T, D], D = 32) {
  experts E = [ffn(hidden = 64), lowrank(rank = 4), atom(), identity()]
  router r = linear |> softmax |> topk(2) |> renorm
  return moe(x, r, E)
}`);
    // 16 KiB activations: the [T·k, 64] hidden rows fit only a few tokens per chunk.
    const r = await check(p, 50, 7, undefined, 16384);
    expect(r.info.chunks!.count).toBeGreaterThan(1);
  });

  it("only null members: [identity(), zero(), identity()]", async () => {
    const p = compiled(`layer nulls(x: [T, D], D = 8) {
  experts E = [identity(), zero(), identity()]
  router r = linear |> softmax |> topk(2)
  return moe(x, r, E)
}`);
    const r = await check(p, 9, 6);
    expect(r.info.dispatches).toBe(2);
  });
});
