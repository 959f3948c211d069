// Tiny random checkpoints in Hugging Face's own layout, written from the transformers modeling
// files (modeling_llama.py, modeling_mixtral.py, modeling_qwen2_moe.py, modeling_qwen3_moe.py,
// modeling_olmoe.py) and DeepSeek's modeling_deepseek.py (DeepSeekMoE, V3) — deliberately not from moec's name map, so
// tests that load these through compiler/hf/map.ts check the map too. Parameter names are the
// modules' state_dict keys, shapes are nn.Linear's [out, in]; `writeHfCheckpoint` writes a
// directory (config.json + model.safetensors) as save_pretrained does.
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { writeSafetensors } from "../../runtime/safetensors/index.js";
import { normals, rng } from "./random.js";

export type HfModelType = "llama" | "qwen3" | "mixtral" | "qwen2_moe" | "qwen3_moe" | "olmoe" | "deepseek" | "deepseek_v3";

/** DeepSeek's `rope_scaling` for YaRN (DeepseekV3YarnRotaryEmbedding's arguments). */
export interface YarnScaling {
  type: "yarn";
  factor: number;
  original_max_position_embeddings: number;
  beta_fast: number;
  beta_slow: number;
  mscale: number;
  mscale_all_dim: number;
}

/** The config.json keys the families' config classes read (only those the tiny models need). */
export interface HfConfig {
  model_type: HfModelType;
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  /** Qwen3: the head size when it is not hidden_size / num_attention_heads. */
  head_dim?: number;
  /** Dense MLP size (llama, DeepSeek's dense layers); Mixtral's and OLMoE's expert size. */
  intermediate_size: number;
  rms_norm_eps: number;
  rope_theta: number;
  tie_word_embeddings: boolean;
  // Routed experts: Mixtral num_local_experts, Qwen2-MoE/OLMoE num_experts, DeepSeek n_routed_experts.
  num_local_experts?: number;
  num_experts?: number;
  n_routed_experts?: number;
  num_experts_per_tok?: number;
  norm_topk_prob?: boolean;
  /** Qwen2-MoE, Qwen3-MoE and DeepSeek: the routed experts' size. */
  moe_intermediate_size?: number;
  /** Qwen2-MoE: the one shared expert's size. */
  shared_expert_intermediate_size?: number;
  /** DeepSeek: shared experts, stored as one MLP of n_shared_experts · moe_intermediate_size. */
  n_shared_experts?: number;
  first_k_dense_replace?: number;
  moe_layer_freq?: number;
  scoring_func?: "softmax" | "sigmoid";
  topk_method?: "greedy" | "noaux_tc";
  n_group?: number;
  topk_group?: number;
  routed_scaling_factor?: number;
  // Multi-head latent attention (DeepSeek-V2/V3).
  q_lora_rank?: number | null;
  kv_lora_rank?: number;
  qk_nope_head_dim?: number;
  qk_rope_head_dim?: number;
  v_head_dim?: number;
  rope_scaling?: YarnScaling | null;
}

export interface HfTensorData {
  shape: number[];
  data: Float32Array;
}

export type HfWeights = Map<string, HfTensorData>;

export const routedExperts = (c: HfConfig): number => c.num_local_experts ?? c.num_experts ?? c.n_routed_experts ?? 0;

/** Does decoder layer i hold a sparse block? (DeepseekDecoderLayer: first_k_dense_replace, moe_layer_freq.) */
export function isMoeLayer(c: HfConfig, i: number): boolean {
  if (c.model_type === "llama" || c.model_type === "qwen3") return false;
  if (c.model_type === "deepseek" || c.model_type === "deepseek_v3") return i >= (c.first_k_dense_replace ?? 0) && i % (c.moe_layer_freq ?? 1) === 0;
  return true;
}

export const isMla = (c: HfConfig): boolean => c.model_type === "deepseek_v3";

/** The sparse block's module: MixtralDecoderLayer.block_sparse_moe, everyone else's `mlp`. */
export const moeModule = (c: HfConfig): string => (c.model_type === "mixtral" ? "block_sparse_moe" : "mlp");

/** A routed expert's projections: Mixtral's w1 (gate) / w3 (up) / w2 (down), else gate_proj/up_proj/down_proj. */
export const expertProj = (c: HfConfig) => (c.model_type === "mixtral" ? { gate: "w1", up: "w3", down: "w2" } : { gate: "gate_proj", up: "up_proj", down: "down_proj" });

/** The routed experts' hidden size. */
export const expertSize = (c: HfConfig): number => (c.model_type === "mixtral" || c.model_type === "olmoe" ? c.intermediate_size : c.moe_intermediate_size!);

/**
 * Random weights under the checkpoint's names. Linear weights N(0, 1/in) and embeddings N(0, 1),
 * so activations and logits stay O(1); norm weights 1 + N(0, 0.1²) and biases N(0, 0.1²), so a
 * transposed or misplaced one shows; DeepSeek-V3's e_score_correction_bias N(0, 0.03²).
 */
export function hfWeights(c: HfConfig, seed: number): HfWeights {
  const r = rng(seed);
  const w: HfWeights = new Map();
  const D = c.hidden_size;
  const put = (name: string, shape: number[], std: number, mean = 0) => {
    const data = normals(r, shape.reduce((a, b) => a * b, 1), std);
    if (mean) for (let i = 0; i < data.length; i++) data[i] = data[i]! + mean;
    w.set(name, { shape, data });
  };
  const linear = (name: string, out: number, inp: number) => put(`${name}.weight`, [out, inp], 1 / Math.sqrt(inp));
  const norm = (name: string, n: number) => put(`${name}.weight`, [n], 0.1, 1);
  const mlp = (prefix: string, I: number, names = { gate: "gate_proj", up: "up_proj", down: "down_proj" }) => {
    linear(`${prefix}.${names.gate}`, I, D);
    linear(`${prefix}.${names.up}`, I, D);
    linear(`${prefix}.${names.down}`, D, I);
  };

  // Tied, the embedding is also the output head: N(0, 1/D) keeps the logits O(1) there.
  put("model.embed_tokens.weight", [c.vocab_size, D], c.tie_word_embeddings ? 1 / Math.sqrt(D) : 1);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const L = `model.layers.${i}`;
    norm(`${L}.input_layernorm`, D);
    if (isMla(c)) mlaWeights(c, `${L}.self_attn`, linear, norm);
    else attentionWeights(c, `${L}.self_attn`, linear, norm, put);
    norm(`${L}.post_attention_layernorm`, D);
    if (!isMoeLayer(c, i)) {
      mlp(`${L}.mlp`, c.intermediate_size);
      continue;
    }
    const M = `${L}.${moeModule(c)}`;
    const E = routedExperts(c);
    linear(`${M}.gate`, E, D);
    if (c.topk_method === "noaux_tc") put(`${M}.gate.e_score_correction_bias`, [E], 0.03);
    for (let j = 0; j < E; j++) mlp(`${M}.experts.${j}`, expertSize(c), expertProj(c));
    if (c.model_type === "qwen2_moe") {
      mlp(`${M}.shared_expert`, c.shared_expert_intermediate_size!);
      linear(`${M}.shared_expert_gate`, 1, D);
    }
    if (c.n_shared_experts) mlp(`${M}.shared_experts`, c.moe_intermediate_size! * c.n_shared_experts);
  }
  norm("model.norm", D);
  if (!c.tie_word_embeddings) linear("lm_head", c.vocab_size, D);
  return w;
}

type Linear = (name: string, out: number, inp: number) => void;
type Norm = (name: string, n: number) => void;

/** The attention head size: config.head_dim, else hidden_size / num_attention_heads. */
export const headDim = (c: HfConfig): number => c.head_dim ?? c.hidden_size / c.num_attention_heads;

/** LlamaAttention and its relatives: q/k/v/o_proj; Qwen2-MoE's q/k/v biases; OLMoE's q_norm/k_norm over all heads; Qwen3's per head. */
function attentionWeights(c: HfConfig, A: string, linear: Linear, norm: Norm, put: (n: string, s: number[], std: number) => void): void {
  const D = c.hidden_size, H = c.num_attention_heads, KV = c.num_key_value_heads, hd = headDim(c);
  linear(`${A}.q_proj`, H * hd, D);
  linear(`${A}.k_proj`, KV * hd, D);
  linear(`${A}.v_proj`, KV * hd, D);
  linear(`${A}.o_proj`, D, H * hd);
  if (c.model_type === "qwen2_moe") for (const p of ["q_proj", "k_proj", "v_proj"]) put(`${A}.${p}.bias`, [(p === "q_proj" ? H : KV) * hd], 0.1);
  if (c.model_type === "olmoe") {
    // OlmoeAttention: q_norm = RMSNorm(hidden_size), k_norm = RMSNorm(hidden_size // heads * kv_heads).
    norm(`${A}.q_norm`, H * hd);
    norm(`${A}.k_norm`, KV * hd);
  }
  if (c.model_type === "qwen3_moe" || c.model_type === "qwen3") {
    // Qwen3MoeAttention (and the dense Qwen3Attention): q_norm = k_norm = RMSNorm(head_dim), one weight shared by the heads.
    norm(`${A}.q_norm`, hd);
    norm(`${A}.k_norm`, hd);
  }
}

/** DeepseekV3Attention: q_a_proj → q_a_layernorm → q_b_proj (or q_proj), kv_a_proj_with_mqa → kv_a_layernorm → kv_b_proj, o_proj. */
function mlaWeights(c: HfConfig, A: string, linear: Linear, norm: Norm): void {
  const D = c.hidden_size, H = c.num_attention_heads;
  const qd = c.qk_nope_head_dim! + c.qk_rope_head_dim!;
  if (c.q_lora_rank) {
    linear(`${A}.q_a_proj`, c.q_lora_rank, D);
    norm(`${A}.q_a_layernorm`, c.q_lora_rank);
    linear(`${A}.q_b_proj`, H * qd, c.q_lora_rank);
  } else linear(`${A}.q_proj`, H * qd, D);
  linear(`${A}.kv_a_proj_with_mqa`, c.kv_lora_rank! + c.qk_rope_head_dim!, D);
  norm(`${A}.kv_a_layernorm`, c.kv_lora_rank!);
  linear(`${A}.kv_b_proj`, H * (c.qk_nope_head_dim! + c.v_head_dim!), c.kv_lora_rank!);
  linear(`${A}.o_proj`, D, H * c.v_head_dim!);
}

/** config.json + model.safetensors (F32), as save_pretrained lays a checkpoint out. */
export function writeHfCheckpoint(dir: string, c: HfConfig, w: HfWeights): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "config.json"), JSON.stringify({ architectures: [ARCH[c.model_type]], ...c, torch_dtype: "float32" }, null, 2) + "\n");
  writeSafetensors(path.join(dir, "model.safetensors"), new Map([...w].map(([n, t]) => [n, { dtype: "F32" as const, shape: t.shape, data: t.data }])), { format: "pt" });
}

const ARCH: Record<HfModelType, string> = {
  llama: "LlamaForCausalLM",
  qwen3: "Qwen3ForCausalLM",
  mixtral: "MixtralForCausalLM",
  qwen2_moe: "Qwen2MoeForCausalLM",
  qwen3_moe: "Qwen3MoeForCausalLM",
  olmoe: "OlmoeForCausalLM",
  deepseek: "DeepseekForCausalLM",
  deepseek_v3: "DeepseekV3ForCausalLM",
};
