// Fused MoE layer on the GPU vs the float64 reference, over router and pool configurations.
// Weights N(0, 1/fan_in), unit-scale inputs; f32 must stay within 2e-4 + 1e-4·|ref|.

import { afterAll, expect, it } from "vitest";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { checkProgram } from "../../helpers/moe-check.js";
import { moeProgram, pool, ProgramBuilder, router, stages } from "../../helpers/ir-programs.js";
import { normals, randomWeights, rng } from "../../helpers/random.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

const ATOL = 2e-4;

async function check(program: IrProgram, T: number, seed: number, opts: { fused?: boolean; subgroups?: boolean; weights?: Map<string, Float32Array> } = {}) {
  const D = program.values[program.inputs[0]!.value]!.width;
  const weights = opts.weights ?? randomWeights(program, seed);
  const x = normals(rng(seed + 1000), T * D);
  const res = await checkProgram(ctx, program, weights, new Map([["x", x]]), T, { fused: opts.fused, subgroups: opts.subgroups });
  for (const [name, o] of res.outputs) {
    expect(o.err.excess, `${name}: max abs err ${o.err.maxAbs}`).toBeLessThanOrEqual(ATOL);
  }
  expect(res.selection.mismatches).toEqual([]);
  expect(res.routingWeightErr).toBeLessThan(1e-5);
  return res;
}

const mixtral = (D: number, E: number, I: number, k = 2) =>
  moeProgram({ D, E, I, act: "swiglu", stages: stages("linear", "softmax", ["topk", { k }], "renorm") });

describeGpu("routed pools (fused) vs float64 reference", () => {
  it("Mixtral: softmax → topk(2) → renorm, SwiGLU, T = 1 and T = 37 (not a tile multiple)", async () => {
    const p = mixtral(32, 8, 24);
    const r1 = await check(p, 1, 1);
    expect(r1.selection.checked).toBe(1);
    const r37 = await check(p, 37, 2);
    expect(r37.selection.checked).toBeGreaterThan(30);
    expect(r37.info.dispatches).toBe(5);
  });

  it("sigmoid scores with router bias, topk(3), scale(2.5); ReLU pool with biases", async () => {
    const p = moeProgram({ D: 16, E: 6, I: 20, act: "relu", bias: true, stages: stages(["linear", { bias: true }], "sigmoid", ["topk", { k: 3 }], "renorm", ["scale", { s: 2.5 }]) });
    await check(p, 19, 3);
  });

  it("E = 1 (topk(1) always picks it), GeGLU with biases", async () => {
    const p = moeProgram({ D: 24, E: 1, I: 16, act: "geglu", bias: true, stages: stages("linear", "softmax", ["topk", { k: 1 }]) });
    const r = await check(p, 9, 4);
    expect(r.outputs.get("y")!.err.maxAbs).toBeLessThan(ATOL);
  });

  it("k = E with a post-select softmax; exact-GELU pool", async () => {
    const p = moeProgram({ D: 16, E: 4, I: 12, act: "gelu", stages: stages("linear", ["topk", { k: 4 }], "softmax") });
    await check(p, 11, 5);
  });

  it("raw linear scores (weights may be negative), topk(2), SiLU and identity pools", async () => {
    await check(moeProgram({ D: 16, E: 5, I: 8, act: "silu", stages: stages("linear", ["topk", { k: 2 }]) }), 13, 6);
    await check(moeProgram({ D: 16, E: 5, I: 8, act: "identity", stages: stages("linear", ["topk", { k: 2 }]) }), 5, 7);
  });

  it("E = 512 and E = 4096 at tiny D: selection over many experts per thread", async () => {
    const r512 = await check(mixtral(8, 512, 4, 4), 7, 8);
    expect(r512.selection.checked).toBeGreaterThan(0);
    const r4096 = await check(mixtral(4, 4096, 4, 2), 3, 9);
    expect(r4096.info.dispatches).toBe(5);
  });

  it("ragged selection: topp(0.5, max = 4) and threshold(0.2, max = 3) (may pick none)", async () => {
    const topp = await check(moeProgram({ D: 16, E: 8, I: 8, act: "swiglu", stages: stages("linear", "softmax", ["topp", { p: 0.5, max: 4 }], "renorm") }), 23, 10);
    expect(topp.selection.checked).toBeGreaterThan(15);
    const thr = await check(moeProgram({ D: 16, E: 8, I: 8, act: "swiglu", stages: stages("linear", "softmax", ["threshold", { delta: 0.2, max: 3 }]) }), 23, 11);
    expect(thr.selection.checked).toBeGreaterThan(15);
  });

  it("dense soft gate (MMoE) and temp + selection-only bias (DeepSeek-V3 style)", async () => {
    await check(moeProgram({ D: 16, E: 4, I: 8, act: "relu", stages: stages("linear", "softmax", "dense") }), 7, 12);
    await check(moeProgram({ D: 16, E: 5, I: 8, act: "relu", stages: stages("linear", "dense", "softmax", ["scale", { s: 2 }]) }), 7, 12);
    const p = moeProgram({ D: 16, E: 8, I: 8, act: "swiglu", stages: stages("linear", ["temp", { tau: 0.5 }], "sigmoid", ["bias", { mode: "aux_free" }], ["topk", { k: 2 }], "renorm") });
    const w = randomWeights(p, 13);
    // A strong selection bias changes which experts win but not their weights.
    w.set("r.e_bias", Float32Array.from({ length: 8 }, (_, e) => (e % 3) * 0.3));
    await check(p, 15, 13, { weights: w });
  });
});

describeGpu("workgroup-memory router (the fallback without the subgroups feature)", () => {
  it("top-k at E = 8 and E = 4096, ragged top-p / threshold, dense, selection bias", async () => {
    await check(mixtral(32, 8, 24), 37, 2, { subgroups: false });
    await check(mixtral(4, 4096, 4, 2), 3, 9, { subgroups: false });
    await check(moeProgram({ D: 16, E: 8, I: 8, act: "swiglu", stages: stages("linear", "softmax", ["topp", { p: 0.5, max: 4 }], "renorm") }), 23, 10, { subgroups: false });
    await check(moeProgram({ D: 16, E: 8, I: 8, act: "swiglu", stages: stages("linear", "softmax", ["threshold", { delta: 0.2, max: 3 }]) }), 23, 11, { subgroups: false });
    await check(moeProgram({ D: 16, E: 4, I: 8, act: "relu", stages: stages("linear", "softmax", "dense", ["scale", { s: 2 }]) }), 7, 12, { subgroups: false });
    const p = moeProgram({ D: 16, E: 8, I: 8, act: "swiglu", stages: stages("linear", "sigmoid", ["bias", { mode: "aux_free" }], ["topk", { k: 2 }], "renorm") });
    const w = randomWeights(p, 13);
    w.set("r.e_bias", Float32Array.from({ length: 8 }, (_, e) => (e % 3) * 0.3));
    await check(p, 15, 13, { weights: w, subgroups: false });
  });
});

describeGpu("shared pools and whole layers", () => {
  it("DeepSeekMoE-style: y = x + S(x) + moe(x) with 2 shared experts", async () => {
    const b = new ProgramBuilder();
    const x = b.input("x", 32);
    const s = b.shared(x, pool({ key: "S", count: 2, dim: 32, hidden: 16, act: "swiglu", shared: true }));
    const m = b.moe(x, router({ numExperts: 6, dim: 32, stages: stages("linear", "softmax", ["topk", { k: 2 }]) }), pool({ count: 6, dim: 32, hidden: 12 }));
    const y = b.binary("add", b.binary("add", x, s), m);
    const res = await check(b.output("y", y).build(), 21, 14);
    const per = res.info.dispatchesPerOp;
    expect(per.find((o) => o.kind === "moe")!.dispatches).toBe(5);
    expect(per.find((o) => o.kind === "shared")!.dispatches).toBe(2);
  });

  it("Qwen-MoE-style: moe(x) + sigmoid(linear(x, out = 1)) * S(x), shared pool with biases", async () => {
    const b = new ProgramBuilder();
    const x = b.input("x", 32);
    const m = b.moe(x, router({ numExperts: 6, dim: 32, stages: stages("linear", "softmax", ["topk", { k: 2 }]) }), pool({ count: 6, dim: 32, hidden: 12 }));
    const g = b.unary("sigmoid", b.linear(x, "g", 1));
    const s = b.shared(x, pool({ key: "S", count: 1, dim: 32, hidden: 40, act: "swiglu", bias: true, shared: true }));
    await check(b.output("y", b.binary("add", m, b.binary("mul", g, s))).build(), 17, 15);
  });
});

describeGpu("unfused baseline computes the same function", () => {
  it("Mixtral layer and a shared pool, unfused", async () => {
    const b = new ProgramBuilder();
    const x = b.input("x", 32);
    const s = b.shared(x, pool({ key: "S", count: 2, dim: 32, hidden: 16, act: "swiglu", shared: true }));
    const m = b.moe(x, router({ numExperts: 8, dim: 32, stages: stages("linear", "softmax", ["topk", { k: 2 }], "renorm") }), pool({ count: 8, dim: 32, hidden: 24 }));
    const res = await check(b.output("y", b.binary("add", s, m)).build(), 21, 16, { fused: false });
    // The baseline reads the selection back mid-layer: 2 command buffers, 2 read-backs.
    expect(res.info.commandBuffers).toBe(2);
    expect(res.info.readbacks).toBe(2);
  });
});
