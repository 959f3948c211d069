// Tiny models of every family for whole-model checks: a Hugging Face config (transformers' keys;
// tests/helpers/hf-layout.ts writes its checkpoint) and the moec program that should compute the
// same thing — the hand-written examples/models/*.moe at the config's sizes, or inline source for
// Llama and Qwen3-MoE, which have no example. Shared by the ONNX Runtime comparison and the
// `moec import` / `moec run DIR` tests.
import type { HfFamilyName } from "../../compiler/hf/families.js";
import type { HfConfig } from "./hf-layout.js";

export const V = 48, D = 32, T = 9;
export const ids = Int32Array.from({ length: T }, (_, t) => (7 * t + 3) % V);

/** A dense Llama-style model (LlamaForCausalLM with tied embeddings); no example file holds one. */
export const LLAMA = `model llama(tokens: [T], V = 48, D = 32, L = 2, H = 4, KV = 2, I = 48) {
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
export const QWEN3_MOE = `layer qwen3_moe_block(x: [T, D], D = 32, N = 8, I = 8, K = 2) {
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

export interface Family {
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
export const FAMILIES: Family[] = [
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

