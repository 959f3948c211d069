// Whole tiny models of every family against ONNX Runtime: random checkpoints in Hugging Face's
// layout (tests/helpers/hf-layout.ts), run by ORT as a decoder graph built from the modeling files
// (tests/helpers/onnx-decoder.ts), and by moec — the hand-written examples/models/*.moe program at
// the same sizes (inline programs for Llama and Qwen3-MoE, which have none), its weights taken from
// the checkpoint through compiler/hf/map.ts — in the float64 reference and on the GPU (f32).
// Logits of order 1 must agree within 2e-3.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import type { Instance } from "../../../compiler/semantic/instance.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { readSafetensors } from "../../../runtime/safetensors/index.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { hfWeights, writeHfCheckpoint, type HfConfig, type HfWeights } from "../../helpers/hf-layout.js";
import { D, FAMILIES, T, V, ids, type Family } from "../../helpers/tiny-families.js";
import { canonicalFromHf } from "../../helpers/hf-to-moec.js";
import { compare } from "../../helpers/numerics.js";
import { decoderModel, moeOperatorFits, type DecoderOptions } from "../../helpers/onnx-decoder.js";

interface Prepared {
  program: IrProgram;
  weights: Map<string, Float32Array>;
  ortLogits: Float32Array;
}

const prepared = new Map<string, Promise<Prepared>>();

/** ORT's logits and moec's program with the checkpoint's weights (once per family). */
function prepare(f: Family, seed: number): Promise<Prepared> {
  let p = prepared.get(f.name);
  if (!p) {
    p = (async () => {
      const hf = hfWeights(f.hf, seed);
      const c = compile(f.moec);
      if (!c.ok) throw new Error(c.formatDiagnostics());
      const instance: Instance = c.info!.instance;
      return { program: c.program!, weights: canonicalFromHf(c.program!, instance, f.map, hf), ortLogits: await runOrt(f.hf, hf) };
    })();
    prepared.set(f.name, p);
  }
  return p;
}

async function runOrt(c: HfConfig, w: HfWeights, opts: DecoderOptions = {}): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(decoderModel(c, w, T, opts));
  try {
    const out = await session.run({
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, (i) => BigInt(i)), [1, T]),
      position_ids: new ort.Tensor("int64", BigInt64Array.from({ length: T }, (_, t) => BigInt(t)), [1, T]),
    });
    return out["logits"]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Logits of order 1: their root mean square between 0.3 and 3. */
function expectOrderOne(logits: Float32Array): number {
  const rms = Math.sqrt(logits.reduce((a, v) => a + v * v, 0) / logits.length);
  expect(rms).toBeGreaterThan(0.3);
  expect(rms).toBeLessThan(3);
  return rms;
}

describe("tiny checkpoints of every family: ONNX Runtime = moec's float64 reference", () => {
  FAMILIES.forEach((f, i) => {
    it(`${f.name}: max |Δ| < 2e-3 on logits of order 1`, async () => {
      const p = await prepare(f, 100 + i);
      expect(p.ortLogits.length).toBe(T * V);
      const rms = expectOrderOne(p.ortLogits);
      const ref = interpretReference(p.program, p.weights, new Map([["tokens", ids]]), T).get("logits")!;
      const err = compare(ref, p.ortLogits);
      console.log(`${f.hf.model_type}: reference vs ORT max |Δ| ${err.maxAbs.toExponential(2)} (logit rms ${rms.toFixed(2)})`);
      expect(err.maxAbs).toBeLessThan(2e-3);
    });
  });
});

describe("com.microsoft.MoE where its semantics fit (renormalized softmax top-k)", () => {
  FAMILIES.forEach((f, i) => {
    if (!moeOperatorFits(f.hf)) return;
    it(`${f.name}: the operator's decoder = moec's reference within 2e-3`, async () => {
      const p = await prepare(f, 100 + i);
      const viaOperator = await runOrt(f.hf, hfWeights(f.hf, 100 + i), { moeOperator: true });
      const ref = interpretReference(p.program, p.weights, new Map([["tokens", ids]]), T).get("logits")!;
      expect(compare(ref, viaOperator).maxAbs).toBeLessThan(2e-3);
    });
  });
});

let gpu: GpuContext;
beforeAllGpu(async () => (gpu = await testGpu()));
afterAll(() => releaseTestGpu());

describeGpu("tiny checkpoints of every family: ONNX Runtime = moec on the GPU (f32)", () => {
  FAMILIES.forEach((f, i) => {
    itGpu(`${f.name}: max |Δ| < 2e-3`, async () => {
      const p = await prepare(f, 100 + i);
      const exec = await createExecutor(gpu, p.program, p.weights);
      try {
        const out = (await exec.run(new Map([["tokens", ids]]), T)).get("logits")!;
        const err = compare(out, p.ortLogits);
        console.log(`${f.hf.model_type}: GPU vs ORT max |Δ| ${err.maxAbs.toExponential(2)}`);
        expect(err.maxAbs).toBeLessThan(2e-3);
      } finally {
        exec.dispose();
      }
    });
  });
});

describe("the checkpoint helper", () => {
  it("writes config.json and model.safetensors as save_pretrained lays them out", () => {
    const f = FAMILIES.find((x) => x.hf.model_type === "qwen2_moe")!;
    const w = hfWeights(f.hf, 5);
    const dir = mkdtempSync(path.join(tmpdir(), "moec-hf-ckpt-"));
    try {
      writeHfCheckpoint(dir, f.hf, w);
      const config = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8"));
      expect(config).toMatchObject({ model_type: "qwen2_moe", architectures: ["Qwen2MoeForCausalLM"], num_experts: 8, shared_expert_intermediate_size: 16 });
      const st = readSafetensors(path.join(dir, "model.safetensors"));
      expect([...st.tensors.keys()].sort()).toEqual([...w.keys()].sort());
      // Qwen2MoeSparseMoeBlock's tensors, nn.Linear [out, in]: 4 attention + 3 biases + 2 norms + gate, shared_expert_gate, 3 shared, 8 × 3 experts.
      expect(st.tensors.size).toBe(3 + 2 * (4 + 3 + 2 + 1 + 1 + 3 + 8 * 3));
      expect(st.tensors.get("model.layers.1.mlp.shared_expert_gate.weight")!.shape).toEqual([1, D]);
      expect(st.tensors.get("model.layers.0.mlp.experts.7.down_proj.weight")!.shape).toEqual([D, 8]);
      expect(Array.from(st.getF32("model.layers.1.self_attn.q_proj.bias"))).toEqual(Array.from(w.get("model.layers.1.self_attn.q_proj.bias")!.data));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
