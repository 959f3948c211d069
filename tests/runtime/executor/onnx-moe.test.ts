// ONNX Runtime's CPU com.microsoft.MoE (onnxruntime-node, pinned 1.30.0) as an independent oracle
// for the fused GPU layer. A known-answer test pins the semantics of this ORT build first (they
// changed across releases: routing softmax, SwiGLU alpha/limit/+1). Never compared on gelu pools:
// ORT's CPU gelu is the tanh approximation.

import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { interpretReference, type RouterTrace } from "../../../runtime/reference/interpret.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { moeProgram, stages } from "../../helpers/ir-programs.js";
import { robust } from "../../helpers/moe-check.js";
import { interleaveGateUp, moeModel, type OrtMoeSpec } from "../../helpers/onnx-model.js";
import { normals, randomWeights, rng } from "../../helpers/random.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

async function runOrt(spec: OrtMoeSpec, feeds: Record<string, Float32Array>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(moeModel(spec));
  const E = spec.experts;
  const fusion = spec.activation === "swiglu" ? 2 : 1;
  const dims: Record<string, number[]> = {
    input: [spec.tokens, spec.hidden],
    router_probs: [spec.tokens, E],
    fc1_experts_weights: [E, fusion * spec.inter, spec.hidden],
    fc1_experts_bias: [E, fusion * spec.inter],
    fc2_experts_weights: [E, spec.hidden, spec.inter],
    fc2_experts_bias: [E, spec.hidden],
  };
  const tensors = Object.fromEntries(Object.entries(feeds).map(([n, d]) => [n, new ort.Tensor("float32", d, dims[n]!)]));
  const out = await session.run(tensors);
  await session.release();
  return out["output"]!.data as Float32Array;
}

describe("ONNX Runtime semantics (known answers, derived by hand)", () => {
  it("is version 1.30.0", () => {
    expect(ort.env.versions.node).toBe("1.30.0");
  });

  it("relu, k = 1, normalize 0: softmax over ALL router logits, weight not renormalized", async () => {
    // logits [0, ln 3] → softmax [1/4, 3/4] → expert 1, weight 3/4; x = [1, 2]:
    // fc1 row [1, 1] → 3 → relu 3 → fc2 column [1, −1] → [3, −3] → × 3/4.
    const y = await runOrt(
      { tokens: 1, hidden: 2, inter: 1, experts: 2, k: 1, activation: "relu", normalize: false, bias: false },
      {
        input: Float32Array.of(1, 2),
        router_probs: Float32Array.of(0, Math.log(3)),
        fc1_experts_weights: Float32Array.of(9, 9, 1, 1),
        fc2_experts_weights: Float32Array.of(5, 5, 1, -1),
      },
    );
    expect(y[0]).toBeCloseTo(2.25, 6);
    expect(y[1]).toBeCloseTo(-2.25, 6);
  });

  it("swiglu (fusion 1, alpha 1, beta 0), k = 2, normalize 1: silu(gate)·up, gate on even fc1 rows", async () => {
    // weights 1/4, 3/4. Expert 0: gate [1,0]·x = 1, up [0,1]·x = 2 → silu(1)·2, fc2 [1, 0].
    // Expert 1: gate [0,1]·x = 2, up [1,1]·x = 3 → silu(2)·3, fc2 [0, 1].
    const silu = (v: number) => v / (1 + Math.exp(-v));
    const y = await runOrt(
      { tokens: 1, hidden: 2, inter: 1, experts: 2, k: 2, activation: "swiglu", normalize: true, bias: false },
      {
        input: Float32Array.of(1, 2),
        router_probs: Float32Array.of(0, Math.log(3)),
        fc1_experts_weights: Float32Array.of(1, 0, 0, 1, 0, 1, 1, 1),
        fc2_experts_weights: Float32Array.of(1, 0, 0, 1),
      },
    );
    expect(y[0]).toBeCloseTo(0.25 * silu(1) * 2, 6);
    expect(y[1]).toBeCloseTo(0.75 * silu(2) * 3, 6);
  });
});

/** GPU (fused) vs ORT on the same weights; the router logits fed to ORT are x·Wrᵀ in float64. */
async function compareWithOrt(program: IrProgram, spec: Omit<OrtMoeSpec, "tokens" | "hidden" | "inter" | "experts">, T: number, seed: number) {
  const moe = program.ops.find((o) => o.op === "moe")!;
  if (moe.op !== "moe") throw new Error("no moe op");
  const { dim: D, hidden: I, count: E } = moe.pool;
  const weights = randomWeights(program, seed);
  const x = normals(rng(seed + 1), T * D);
  const wr = weights.get("r.weight")!;
  const logits = new Float32Array(T * E);
  for (let t = 0; t < T; t++) {
    for (let e = 0; e < E; e++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += x[t * D + d]! * wr[e * D + d]!;
      logits[t * E + e] = s;
    }
  }
  const full: OrtMoeSpec = { ...spec, tokens: T, hidden: D, inter: I, experts: E };
  const feeds: Record<string, Float32Array> = {
    input: x,
    router_probs: logits,
    fc1_experts_weights: spec.activation === "swiglu" ? interleaveGateUp(weights.get("E.w_gate")!, weights.get("E.w_up")!, E, I, D) : weights.get("E.w_up")!,
    fc2_experts_weights: weights.get("E.w_down")!,
  };
  if (spec.bias) {
    feeds["fc1_experts_bias"] = weights.get("E.b_up")!;
    feeds["fc2_experts_bias"] = weights.get("E.b_down")!;
  }
  const ortY = await runOrt(full, feeds);
  const exec = await createExecutor(ctx, program, weights);
  let gpuY: Float32Array;
  try {
    gpuY = (await exec.run(new Map([["x", x]]), T)).get("y")!;
  } finally {
    exec.dispose();
  }
  // Compare only tokens whose top-k is far from a tie (ORT's tie order is its own).
  const trace = new Map<string, RouterTrace>();
  interpretReference(program, weights, new Map([["x", x]]), T, { trace });
  let compared = 0;
  let maxErr = 0;
  for (let t = 0; t < T; t++) {
    if (!robust(moe.router, trace.get("r")!, t, 1e-4)) continue;
    compared++;
    for (let d = 0; d < D; d++) {
      const a = gpuY[t * D + d]!;
      const b = ortY[t * D + d]!;
      maxErr = Math.max(maxErr, Math.abs(a - b));
      expect(Math.abs(a - b)).toBeLessThanOrEqual(2e-4 + 1e-4 * Math.abs(b));
    }
  }
  expect(compared).toBeGreaterThanOrEqual(T - 2);
  return { compared, maxErr };
}

describeGpu("fused GPU layer vs ONNX Runtime", () => {
  it("Mixtral layer: softmax → topk(2) → renorm, SwiGLU (normalize_routing_weights = 1)", async () => {
    const p = moeProgram({ D: 32, E: 8, I: 16, act: "swiglu", stages: stages("linear", "softmax", ["topk", { k: 2 }], "renorm") });
    const r = await compareWithOrt(p, { k: 2, activation: "swiglu", normalize: true, bias: false }, 24, 51);
    console.log(`Mixtral vs ORT: ${r.compared} tokens, max |gpu − ort| ${r.maxErr.toExponential(3)}`);
  });

  it("Switch layer: softmax → topk(1) (no renorm), ReLU experts with biases", async () => {
    const p = moeProgram({ D: 32, E: 8, I: 24, act: "relu", bias: true, stages: stages("linear", "softmax", ["topk", { k: 1 }]) });
    const r = await compareWithOrt(p, { k: 1, activation: "relu", normalize: false, bias: true }, 24, 52);
    console.log(`Switch vs ORT: ${r.compared} tokens, max |gpu − ort| ${r.maxErr.toExponential(3)}`);
  });

  it("SiLU pool: softmax → topk(2), un-renormalized weights", async () => {
    const p = moeProgram({ D: 16, E: 6, I: 12, act: "silu", stages: stages("linear", "softmax", ["topk", { k: 2 }]) });
    const r = await compareWithOrt(p, { k: 2, activation: "silu", normalize: false, bias: false }, 17, 53);
    console.log(`SiLU vs ORT: ${r.compared} tokens, max |gpu − ort| ${r.maxErr.toExponential(3)}`);
  });
});
