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
import type { HfFamilyName } from "../../../compiler/hf/families.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import type { Instance } from "../../../compiler/semantic/instance.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { readSafetensors } from "../../../runtime/safetensors/index.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { hfWeights, writeHfCheckpoint, type HfConfig, type HfWeights } from "../../helpers/hf-layout.js";
import { canonicalFromHf } from "../../helpers/hf-to-moec.js";
import { compare } from "../../helpers/numerics.js";
import { decoderModel, moeOperatorFits, type DecoderOptions } from "../../helpers/onnx-decoder.js";

const V = 48, D = 32, T = 9;
const ids = Int32Array.from({ length: T }, (_, t) => (7 * t + 3) % V);

/** A dense Llama-style model (LlamaForCausalLM with tied embeddings); no example file holds one. */
const LLAMA = `model llama(tokens: [T], V = 48, D = 32, L = 2, H = 4, KV = 2, I = 48) {
  let embed_tokens = embed(tokens, vocab = V, dim = D)
  let h = embed_tokens
  repeat L as layers {
    let input_layernorm = rmsnorm(h, eps = 1e-5)
    let self_attn = attention(input_layernorm, heads = H, kv_heads = KV)
    h = h + self_attn
    let post_attention_layernorm = rmsnorm(h, eps = 1e-5)
    let mlp = ffn(post_attention_layernorm, hidden = I)
    h = h + mlp
  }
  let norm = rmsnorm(h, eps = 1e-5)
  let lm_head = lm_head(norm, tied = embed_tokens)
  return lm_head
}`;

/** Qwen3-MoE (Qwen3MoeForCausalLM): per-head q/k norm, head_dim 16 ≠ D/H = 8, top-2 of 8 renormalized; no example file holds one. */
const QWEN3_MOE = `layer qwen3_moe_block(x: [T, D], D = 32, N = 8, I = 8, K = 2) {
  experts experts[N] = ffn(hidden = I)
  router gate = linear |> softmax |> topk(K) |> renorm
  return moe(x, gate, experts)
}
model qwen3_moe(tokens: [T], V = 48, D = 32, L = 2, H = 4, KV = 2, HD = 16) {
  let embed_tokens = embed(tokens, vocab = V, dim = D)
  let h = embed_tokens
  repeat L as layers {
    let input_layernorm = rmsnorm(h, eps = 1e-6)
    let self_attn = attention(input_layernorm, heads = H, kv_heads = KV, head_dim = HD, qk_norm = head, qk_eps = 1e-6, rope_theta = 1000000.0)
    h = h + self_attn
    let post_attention_layernorm = rmsnorm(h, eps = 1e-6)
    let mlp = qwen3_moe_block(post_attention_layernorm)
    h = h + mlp
  }
  let norm = rmsnorm(h, eps = 1e-6)
  let lm_head = lm_head(norm, vocab = V)
  return lm_head
}`;

interface Family {
  name: string;
  hf: HfConfig;
  /** The moec program: an example file at sizes, or inline source. */
  moec: { file?: string; source?: string; set?: Record<string, number> };
  /** The compiler/hf family whose names the checkpoint uses (a dense model's names are every family's). */
  map: HfFamilyName;
}

const base = { vocab_size: V, hidden_size: D, num_hidden_layers: 2, tie_word_embeddings: false } as const;

// Each config's fixed fields are the published ones the example programs write in (eps, rope
// theta, top-k, groups, scaling); the sizes are the --set values.
const FAMILIES: Family[] = [
  {
    name: "llama (dense, GQA 4 over 2, tied lm_head)",
    hf: { ...base, model_type: "llama", num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 48, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true },
    moec: { source: LLAMA },
    map: "mixtral",
  },
  {
    name: "mixtral (GQA, top-2 renormalized)",
    hf: { ...base, model_type: "mixtral", num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 16, num_local_experts: 4, num_experts_per_tok: 2, rms_norm_eps: 1e-5, rope_theta: 1e6 },
    moec: { file: "examples/models/mixtral_8x7b.moe", set: { V, D, L: 2, H: 4, KV: 2, N: 4, I: 16 } },
    map: "mixtral",
  },
  {
    name: "olmoe (full q/k norm, top-2 of 8 not renormalized)",
    hf: { ...base, model_type: "olmoe", num_attention_heads: 4, num_key_value_heads: 4, intermediate_size: 8, num_experts: 8, num_experts_per_tok: 2, norm_topk_prob: false, rms_norm_eps: 1e-5, rope_theta: 10000 },
    moec: { file: "examples/models/olmoe_1b_7b.moe", set: { V, D, L: 2, H: 4, N: 8, I: 8, K: 2 } },
    map: "olmoe",
  },
  {
    name: "qwen2_moe (q/k/v bias, top-4 of 8, shared expert behind a sigmoid gate)",
    hf: { ...base, model_type: "qwen2_moe", num_attention_heads: 4, num_key_value_heads: 4, intermediate_size: 64, moe_intermediate_size: 8, shared_expert_intermediate_size: 16, num_experts: 8, num_experts_per_tok: 4, norm_topk_prob: false, rms_norm_eps: 1e-6, rope_theta: 1e6 },
    moec: { file: "examples/models/qwen1_5_moe_a2_7b.moe", set: { V, D, L: 2, H: 4, N: 8, I: 8, SI: 16 } },
    map: "qwen2_moe",
  },
  {
    name: "qwen3_moe (per-head q/k norm, head_dim ≠ D/H, top-2 of 8 renormalized)",
    hf: { ...base, model_type: "qwen3_moe", num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, intermediate_size: 64, moe_intermediate_size: 8, num_experts: 8, num_experts_per_tok: 2, norm_topk_prob: true, rms_norm_eps: 1e-6, rope_theta: 1e6 },
    // compiler/hf has no qwen3_moe family yet; OLMoE's names (self_attn.q_norm, mlp.gate, mlp.experts.j.*_proj) are Qwen3-MoE's.
    moec: { source: QWEN3_MOE },
    map: "olmoe",
  },
  {
    name: "deepseek (DeepSeekMoE: dense layer 0, 16 fine experts top-6, 2 shared)",
    hf: {
      ...base, model_type: "deepseek", num_attention_heads: 4, num_key_value_heads: 4, intermediate_size: 24, moe_intermediate_size: 8, n_routed_experts: 16, n_shared_experts: 2,
      num_experts_per_tok: 6, norm_topk_prob: false, scoring_func: "softmax", topk_method: "greedy", first_k_dense_replace: 1, moe_layer_freq: 1, rms_norm_eps: 1e-6, rope_theta: 10000,
    },
    // 4 coarse experts of 32 split 4 = the checkpoint's 16 experts of 8; SI = the per-member shared size.
    moec: { file: "examples/models/deepseek_moe_16b.moe", set: { V, D, L: 2, H: 4, DI: 24, N: 4, I: 32, SI: 8 } },
    map: "deepseek",
  },
  {
    name: "deepseek_v3 (MLA with YaRN, sigmoid + correction bias, group top-8 of 32, scaled 2.5, 1 shared)",
    hf: {
      ...base, model_type: "deepseek_v3", num_attention_heads: 2, num_key_value_heads: 2, intermediate_size: 24, moe_intermediate_size: 8, n_routed_experts: 32, n_shared_experts: 1,
      num_experts_per_tok: 8, n_group: 8, topk_group: 4, routed_scaling_factor: 2.5, norm_topk_prob: true, scoring_func: "sigmoid", topk_method: "noaux_tc",
      first_k_dense_replace: 1, moe_layer_freq: 1, rms_norm_eps: 1e-6, rope_theta: 10000,
      q_lora_rank: 8, kv_lora_rank: 8, qk_nope_head_dim: 4, qk_rope_head_dim: 4, v_head_dim: 4,
      rope_scaling: { type: "yarn", factor: 40, original_max_position_embeddings: 4096, beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 1 },
    },
    moec: { file: "examples/models/deepseek_v3.moe", set: { V, D, L: 2, DENSE: 1, H: 2, QR: 8, KVR: 8, NOPE: 4, ROPE: 4, VD: 4, DI: 24, N: 32, I: 8 } },
    map: "deepseek",
  },
];

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
