// The granularity examples run on the GPU at small --set sizes and match the float64 reference
// (evaluated with the GPU's own selection; robust selections compared): OmniMoE, PEER, SMoRA,
// FlexMoRE and Chain-of-Experts.

import { afterAll, expect, it } from "vitest";
import * as path from "node:path";
import { compile } from "../../compiler/index.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import type { GpuContext } from "../../runtime/gpu/device.js";
import { randomWeights } from "../../runtime/weights/random-weights.js";
import { checkProgram } from "../helpers/moe-check.js";
import { normals, rng } from "../helpers/random.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../helpers/gpu-context.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

const EX = path.resolve(__dirname, "../../examples");

function compiled(file: string, set: Record<string, number>): IrProgram {
  const c = compile({ file: path.join(EX, file), set });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

/** Random weights, with BatchNorm statistics and selection biases away from their identity init. */
function weightsOf(p: IrProgram, seed: number): Map<string, Float32Array> {
  const w = randomWeights(p, seed);
  const r = rng(seed);
  for (const [name, t] of w) {
    if (name.endsWith(".running_mean")) for (let i = 0; i < t.length; i++) t[i] = (r() - 0.5) * 0.4;
    if (name.endsWith(".running_var")) for (let i = 0; i < t.length; i++) t[i] = 0.5 + r();
    if (name.endsWith(".e_bias")) for (let i = 0; i < t.length; i++) t[i] = (r() - 0.5) * 0.1;
  }
  return w;
}

async function check(p: IrProgram, T: number, seed: number) {
  const D = p.values[p.inputs[0]!.value]!.width;
  const x = normals(rng(seed + 1000), T * D);
  const res = await checkProgram(ctx, p, weightsOf(p, seed), new Map([["x", x]]), T);
  for (const [name, o] of res.outputs) expect(o.err.excess, `${name}: max abs err ${o.err.maxAbs}`).toBeLessThanOrEqual(2e-4);
  expect(res.selection.mismatches).toEqual([]);
  expect(res.selection.checked).toBeGreaterThan(res.selection.total / 2);
  expect(res.routingWeightErr).toBeLessThan(1e-5);
  return res;
}

describeGpu("granularity examples on the GPU vs the float64 reference", () => {
  it("OmniMoE (examples/omni_moe.moe): 4,096 silu atoms behind BatchNorm product keys + shared SwiGLU, --set D=32 SI=64", async () => {
    const p = compiled("omni_moe.moe", { D: 32, SI: 64 });
    expect(p.ops.find((o) => o.op === "moe")!.pool).toMatchObject({ kind: "atom", count: 4096, act: "silu" });
    await check(p, 24, 1);
  });

  it("PEER (examples/granularity/peer.moe): 8 product-key heads over 256 gelu atoms, --set D=32 P=16", async () => {
    const p = compiled("granularity/peer.moe", { D: 32, P: 16 });
    expect(p.ops.filter((o) => o.op === "moe").map((o) => o.router.key)).toEqual(["r.0", "r.1", "r.2", "r.3", "r.4", "r.5", "r.6", "r.7"]);
    await check(p, 16, 2);
  });

  it("SMoRA (examples/smora.moe): rank-1 experts with the aux-free bias, --set D=32 N=64", async () => {
    await check(compiled("smora.moe", { D: 32, N: 64 }), 20, 3);
  });

  it("FlexMoRE (examples/granularity/flexmore.moe): ranks 4…1024 and a full FFN in one pool, --set D=64 I=128", async () => {
    const p = compiled("granularity/flexmore.moe", { D: 64, I: 128 });
    expect(p.ops.find((o) => o.op === "moe")!.pool.members!.map((m) => `${m.kind}:${m.hidden}`)).toEqual([
      "lowrank:4", "lowrank:16", "lowrank:64", "lowrank:256", "lowrank:1024", "ffn:128",
    ]);
    const r = await check(p, 33, 4);
    expect(r.info.dispatchesPerOp.find((o) => o.kind === "moe")!.dispatches).toBe(5);
  });

  it("Chain-of-Experts (examples/chain_of_experts.moe): 2 iterations over shared experts, --set D=32 N=15 I=24", async () => {
    await check(compiled("chain_of_experts.moe", { D: 32, N: 15, I: 24 }), 29, 5);
  });
});
