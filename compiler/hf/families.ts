// Hugging Face checkpoint conventions of the families moec knows, as their modeling files define
// the module tree (transformers: modeling_mixtral.py, modeling_olmoe.py, modeling_qwen2_moe.py,
// modeling_qwen3_moe.py, and the dense modeling_llama.py, modeling_mistral.py, modeling_qwen2.py,
// modeling_qwen3.py; DeepSeek's modeling_deepseek.py for DeepSeekMoE / V2 / V3).
// Only what differs between families lives here; the shared decoder-layer layout is in map.ts.

export type HfFamilyName = "mixtral" | "olmoe" | "qwen2_moe" | "qwen3_moe" | "deepseek" | "llama" | "mistral" | "qwen2" | "qwen3";

export interface HfFamily {
  name: HfFamilyName;
  /** The modeling file whose module names these are, for messages. */
  modeling: string;
  /** The decoder layer's sparse block: `block_sparse_moe` (Mixtral) or `mlp`. */
  moeModule: string;
  /** Routed expert tensors: moec `w_gate`/`w_up`/`w_down` to the expert's submodules. */
  expert: Record<string, string>;
  /** Shared experts: the module holding them (concatenated along the hidden units, §7), and Qwen's sigmoid gate. */
  shared?: { module: string; gate?: string };
  /** A dense family: its decoder layers have an `mlp` and no experts. */
  dense?: boolean;
}

const PROJ = { w_gate: "gate_proj", w_up: "up_proj", w_down: "down_proj" };

export const HF_FAMILIES: Record<HfFamilyName, HfFamily> = {
  mixtral: { name: "mixtral", modeling: "modeling_mixtral.py", moeModule: "block_sparse_moe", expert: { w_gate: "w1", w_down: "w2", w_up: "w3" } },
  olmoe: { name: "olmoe", modeling: "modeling_olmoe.py", moeModule: "mlp", expert: PROJ },
  qwen2_moe: { name: "qwen2_moe", modeling: "modeling_qwen2_moe.py", moeModule: "mlp", expert: PROJ, shared: { module: "shared_expert", gate: "shared_expert_gate" } },
  qwen3_moe: { name: "qwen3_moe", modeling: "modeling_qwen3_moe.py", moeModule: "mlp", expert: PROJ },
  // V2 and V3 differ in the router, not the names: V3's `gate` also holds the selection bias
  // `e_score_correction_bias`, which the map emits wherever the program's router has one.
  deepseek: { name: "deepseek", modeling: "modeling_deepseek.py (DeepSeekMoE, V2, V3)", moeModule: "mlp", expert: PROJ, shared: { module: "shared_experts" } },
  llama: { name: "llama", modeling: "modeling_llama.py", moeModule: "mlp", expert: PROJ, dense: true },
  mistral: { name: "mistral", modeling: "modeling_mistral.py", moeModule: "mlp", expert: PROJ, dense: true },
  qwen2: { name: "qwen2", modeling: "modeling_qwen2.py", moeModule: "mlp", expert: PROJ, dense: true },
  qwen3: { name: "qwen3", modeling: "modeling_qwen3.py", moeModule: "mlp", expert: PROJ, dense: true },
};

/** Names accepted after `--weights-as hf:`; model_type spellings map to their family. */
export const FAMILY_ALIASES: Record<string, HfFamilyName> = {
  mixtral: "mixtral", olmoe: "olmoe", qwen2_moe: "qwen2_moe", qwen_moe: "qwen2_moe", qwen: "qwen2_moe",
  qwen3_moe: "qwen3_moe",
  deepseek: "deepseek", deepseek_moe: "deepseek", deepseek_v2: "deepseek", deepseek_v3: "deepseek",
  llama: "llama", mistral: "mistral", qwen2: "qwen2", qwen3: "qwen3",
};

/** Dense MLPs (DeepSeek's first layers) use the same projection names in every family. */
export const DENSE_PROJ: Record<string, string> = PROJ;

/** Attention tensors, by block: moec tensor name to the `self_attn` submodule's parameter. */
export const ATTENTION_NAMES: Record<string, Record<string, string>> = {
  attention: {
    wq: "q_proj.weight", wk: "k_proj.weight", wv: "v_proj.weight", wo: "o_proj.weight",
    bq: "q_proj.bias", bk: "k_proj.bias", bv: "v_proj.bias",
    q_norm: "q_norm.weight", k_norm: "k_norm.weight",
  },
  mla: {
    wq: "q_proj.weight", wq_a: "q_a_proj.weight", q_norm: "q_a_layernorm.weight", wq_b: "q_b_proj.weight",
    wkv_a: "kv_a_proj_with_mqa.weight", kv_norm: "kv_a_layernorm.weight", wkv_b: "kv_b_proj.weight", wo: "o_proj.weight",
  },
};
