// config.json fields of one Hugging Face family for a model's facts (model-facts.ts): the exact
// inverse of the family readers in ../import (moe-families.ts, dense-families.ts,
// deepseek-families.ts, llama-attention.ts, common-fields.ts), field for field: the same names
// (`num_local_experts` for Mixtral, `num_experts` for OLMoE and Qwen, `n_routed_experts` for
// DeepSeek), the same layer rules (Qwen's `mlp_only_layers`, DeepSeek's `first_k_dense_replace`)
// and the same router spellings. A fact a family has no field for is not refused here: the config
// is imported back and compared with the program (export-config.ts), which catches every such case.
import type { IrAttention, IrMla, IrRope, IrRouter } from "../../ir/ir.js";
import type { LayerFacts, ModelFacts } from "./model-facts.js";
import { sparseOf } from "./model-facts.js";

/** The model types `moec export hf` writes, with their `architectures` class. */
export const EXPORT_ARCHITECTURES = {
  mixtral: "MixtralForCausalLM",
  qwen2_moe: "Qwen2MoeForCausalLM",
  qwen3_moe: "Qwen3MoeForCausalLM",
  olmoe: "OlmoeForCausalLM",
  deepseek_v3: "DeepseekV3ForCausalLM",
  deepseek_v2: "DeepseekV2ForCausalLM",
  llama: "LlamaForCausalLM",
  mistral: "MistralForCausalLM",
  qwen2: "Qwen2ForCausalLM",
  qwen3: "Qwen3ForCausalLM",
} as const;

export type ExportModelType = keyof typeof EXPORT_ARCHITECTURES;
export const EXPORT_MODEL_TYPES = Object.keys(EXPORT_ARCHITECTURES) as ExportModelType[];

type Fields = Record<string, unknown>;

const stage = (r: IrRouter, name: string) => r.stages.find((s) => s.name === name);
const num = (v: unknown, dflt: number) => (typeof v === "number" ? v : dflt);

function ropeScaling(rope: IrRope): Fields | null {
  if (!rope.yarn) return null;
  const y = rope.yarn;
  return { type: "yarn", factor: y.factor, original_max_position_embeddings: y.original, beta_fast: y.betaFast, beta_slow: y.betaSlow, mscale: y.mscale, mscale_all_dim: y.mscaleAllDim };
}

function attentionOf(l: LayerFacts): IrAttention | undefined {
  return l.attention?.kind === "attention" ? l.attention.attn : undefined;
}

/** Heads, rotary positions and the biases of the llama-style attention (llama-attention.ts). */
function llamaAttentionFields(f: ModelFacts, qkvBias: boolean): Fields {
  const a = attentionOf(f.layers[0]!);
  if (!a) return {};
  return {
    num_attention_heads: a.heads, num_key_value_heads: a.kvHeads, head_dim: a.headDim,
    rope_theta: a.rope.theta, ...(a.rope.dim !== a.headDim ? { partial_rotary_factor: a.rope.dim / a.headDim } : {}),
    rope_scaling: ropeScaling(a.rope),
    ...(qkvBias ? {} : { attention_bias: false }),
    attention_dropout: 0.0,
  };
}

const windowsOf = (f: ModelFacts) => f.layers.map((l) => attentionOf(l)?.window ?? 0);

/** Mistral and Mixtral: one `sliding_window` for every layer (null: none). */
function mistralWindowFields(f: ModelFacts): Fields {
  const w = windowsOf(f).find((x) => x > 0);
  return { sliding_window: w ?? null };
}

/** Qwen: `use_sliding_window`, `sliding_window` and which layers, as `layer_types`. */
function qwenWindowFields(f: ModelFacts): Fields {
  const ws = windowsOf(f);
  const w = ws.find((x) => x > 0);
  if (w === undefined) return { use_sliding_window: false, sliding_window: null, max_window_layers: f.layers.length };
  return { use_sliding_window: true, sliding_window: w, max_window_layers: f.layers.length, layer_types: ws.map((x) => (x > 0 ? "sliding_attention" : "full_attention")) };
}

function core(f: ModelFacts, modelType: ExportModelType): Fields {
  return {
    architectures: [EXPORT_ARCHITECTURES[modelType]], model_type: modelType,
    vocab_size: f.vocab, hidden_size: f.dim, num_hidden_layers: f.layers.length, rms_norm_eps: f.eps,
    tie_word_embeddings: f.tied, hidden_act: f.act ?? "silu", initializer_range: 0.02, use_cache: true,
  };
}

const denseLayers = (f: ModelFacts) => f.layers.flatMap((l, i) => (sparseOf(l) ? [] : [i]));
/** The dense layers' MLP width, from the first dense layer (import: `intermediate_size`). */
const denseWidth = (f: ModelFacts) => f.layers.find((l) => !sparseOf(l))?.shared[0]?.hidden;
const firstSparse = (f: ModelFacts) => f.layers.map(sparseOf).find((m) => m !== undefined);

function routedFields(f: ModelFacts, expertsField: string, widthField: string): Fields {
  const m = firstSparse(f);
  if (!m) return { [expertsField]: 0 };
  return {
    [expertsField]: m.pool.count, [widthField]: m.pool.hidden, num_experts_per_tok: num(stage(m.router, "topk")?.params.k, m.router.maxPerToken),
    norm_topk_prob: stage(m.router, "renorm") !== undefined, router_aux_loss_coef: m.router.balanceCoef ?? 0.001, output_router_logits: false,
  };
}

function deepseekFields(f: ModelFacts, modelType: "deepseek_v2" | "deepseek_v3"): Fields {
  const a = f.layers[0]?.attention?.kind === "mla" ? (f.layers[0].attention.attn as IrMla) : undefined;
  const mla: Fields = a ? {
    num_attention_heads: a.heads, num_key_value_heads: a.heads, q_lora_rank: a.qRank || null, kv_lora_rank: a.kvRank,
    qk_nope_head_dim: a.nopeDim, qk_rope_head_dim: a.ropeDim, v_head_dim: a.vDim, rope_theta: a.rope.theta,
    rope_interleave: a.rope.kind === "interleaved", rope_scaling: ropeScaling(a.rope), attention_bias: false, attention_dropout: 0.0,
  } : {};
  const m = firstSparse(f);
  const dense = denseLayers(f);
  const leading = dense.findIndex((d, i) => d !== i);
  const out: Fields = { ...core(f, modelType), ...mla, n_routed_experts: m ? m.pool.count : null, first_k_dense_replace: leading < 0 ? dense.length : leading, moe_layer_freq: 1 };
  const DI = denseWidth(f);
  if (DI !== undefined) out.intermediate_size = DI;
  if (m) {
    const sharedPool = f.layers.find((l) => sparseOf(l))!.shared[0];
    const group = stage(m.router, "group_topk");
    const scale = num(stage(m.router, "scale")?.params.s, 1.0);
    Object.assign(out, {
      moe_intermediate_size: m.pool.hidden, n_shared_experts: sharedPool ? sharedPool.count : null,
      num_experts_per_tok: num((group ?? stage(m.router, "topk"))?.params.k, m.router.maxPerToken),
      norm_topk_prob: stage(m.router, "renorm") !== undefined, routed_scaling_factor: scale,
      n_group: num(group?.params.groups, 1), topk_group: num(group?.params.keep, 1),
      topk_method: modelType === "deepseek_v3" ? "noaux_tc" : "greedy", scoring_func: modelType === "deepseek_v3" ? "sigmoid" : "softmax",
      aux_loss_alpha: m.router.balanceCoef ?? 0.001, seq_aux: true, ep_size: 1,
    });
  }
  return out;
}

/** The config.json fields of `modelType` for the facts, keys sorted as transformers writes them. */
export function familyConfig(modelType: ExportModelType, f: ModelFacts): Fields {
  let out: Fields;
  switch (modelType) {
    case "mixtral":
      out = { ...core(f, modelType), ...llamaAttentionFields(f, false), ...mistralWindowFields(f), ...routedFields(f, "num_local_experts", "intermediate_size"), router_jitter_noise: 0.0 };
      delete out.norm_topk_prob; // Mixtral always renormalizes; its config has no such field
      break;
    case "olmoe":
      out = { ...core(f, modelType), ...llamaAttentionFields(f, false), ...routedFields(f, "num_experts", "intermediate_size"), clip_qkv: null };
      break;
    case "qwen2_moe": case "qwen3_moe": {
      const shared = f.layers.find((l) => sparseOf(l))?.shared[0];
      out = {
        ...core(f, modelType), ...llamaAttentionFields(f, modelType === "qwen2_moe"), ...qwenWindowFields(f),
        ...routedFields(f, "num_experts", "moe_intermediate_size"), decoder_sparse_step: 1, mlp_only_layers: denseLayers(f),
        ...(modelType === "qwen2_moe" ? { shared_expert_intermediate_size: shared?.hidden ?? 0 } : {}),
      };
      const DI = denseWidth(f);
      if (DI !== undefined) out.intermediate_size = DI;
      break;
    }
    case "deepseek_v2": case "deepseek_v3":
      out = deepseekFields(f, modelType);
      break;
    case "llama": case "mistral": case "qwen2": case "qwen3": {
      const mlp = f.layers[0]?.shared[0];
      out = {
        ...core(f, modelType), ...llamaAttentionFields(f, modelType === "qwen2"), intermediate_size: mlp?.hidden ?? 0,
        ...(modelType === "llama" ? { mlp_bias: mlp?.bias ?? false } : {}),
        ...(modelType === "mistral" ? mistralWindowFields(f) : modelType === "qwen2" || modelType === "qwen3" ? qwenWindowFields(f) : {}),
      };
      break;
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
