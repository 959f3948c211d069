// Dense decoder families: Llama, Mistral, Qwen2, Qwen3 (modeling_llama.py, modeling_mistral.py,
// modeling_qwen2.py, modeling_qwen3.py). Every layer is attention plus one gated MLP of
// `intermediate_size`; the families differ in attention (see llama-attention.ts).
import type { ConfigFields } from "./config-fields.js";
import type { Arg, ModelPlan } from "./model-plan.js";
import { actArgs, readAct, readCore } from "./common-fields.js";
import type { AttentionStyle } from "./llama-attention.js";
import { llamaAttention } from "./llama-attention.js";

export type DenseModelType = "llama" | "mistral" | "qwen2" | "qwen3";

const STYLES: Record<DenseModelType, { style: AttentionStyle; eps: number; modeling: string }> = {
  llama: { modeling: "modeling_llama.py", eps: 1e-6, style: { bias: "attention_bias", qkNorm: "none", windows: { kind: "none" }, thetaDefault: 10000 } },
  mistral: { modeling: "modeling_mistral.py", eps: 1e-6, style: { bias: "attention_bias", qkNorm: "none", windows: { kind: "mistral", dflt: 4096 }, thetaDefault: 10000 } },
  qwen2: { modeling: "modeling_qwen2.py", eps: 1e-6, style: { bias: "qkv", qkNorm: "none", windows: { kind: "qwen" }, thetaDefault: 10000 } },
  qwen3: { modeling: "modeling_qwen3.py", eps: 1e-6, style: { bias: "attention_bias", qkNorm: "head", windows: { kind: "qwen" }, thetaDefault: 10000, headDimDefault: 128 } },
};

export function denseModel(c: ConfigFields, modelType: DenseModelType): ModelPlan {
  const s = STYLES[modelType];
  const core = readCore(c, s.eps);
  const attn = llamaAttention(c, core.D, core.L, core.eps, s.style);
  const I = c.int("intermediate_size");
  const act = readAct(c);
  // Llama's mlp_bias puts biases on gate_proj, up_proj and down_proj: ffn(bias = true).
  const mlpBias = modelType === "llama" ? c.bool("mlp_bias", false) : false;
  const ffnArgs: Arg[] = [{ name: "hidden", value: "I" }, ...actArgs(act), ...(mlpBias ? [{ name: "bias", value: "true" }] : [])];
  const from = ["intermediate_size", "hidden_act", ...(mlpBias ? ["mlp_bias"] : [])].join(", ");
  return {
    modelType, family: modelType, modeling: s.modeling,
    hyper: [...core.hyper, ...attn.hyper, { name: "I", value: I, from: "intermediate_size" }],
    sparseModule: "mlp",
    layers: attn.layers.map((attention) => ({ attention, ffn: { kind: "dense", args: ffnArgs, from } })),
    normEps: core.eps, normFrom: "rms_norm_eps", tied: core.tied, notes: [],
  };
}
