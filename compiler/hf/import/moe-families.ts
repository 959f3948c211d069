// The llama-style MoE families: Mixtral, OLMoE, Qwen2-MoE (Qwen1.5-MoE) and Qwen3-MoE
// (modeling_mixtral.py, modeling_olmoe.py, modeling_qwen2_moe.py, modeling_qwen3_moe.py). Their
// routers are all softmax over the experts then top-k, renormalized where the family says so;
// Qwen adds dense layers (`decoder_sparse_step`, `mlp_only_layers`) and Qwen2-MoE a gated shared expert.
import type { ConfigFields } from "./config-fields.js";
import { MAX_EXPERTS } from "./config-fields.js";
import type { DecoderLayerPlan, Hyper, Line, ModelPlan, SparseLayerPlan } from "./model-plan.js";
import { actArgs, readAct, readCore } from "./common-fields.js";
import type { AttentionStyle } from "./llama-attention.js";
import { llamaAttention } from "./llama-attention.js";

export type MoeModelType = "mixtral" | "olmoe" | "qwen2_moe" | "qwen3_moe";

interface MoeFamily {
  modeling: string;
  eps: number;
  style: AttentionStyle;
  /** Config fields of the expert count and the routed experts' width. */
  experts: string;
  width: string;
  /** Whether top-k weights are renormalized: always (Mixtral), or as `norm_topk_prob` says. */
  renorm: "always" | "norm_topk_prob";
  /** Qwen: some layers dense (`decoder_sparse_step`, `mlp_only_layers`), of `intermediate_size`. */
  denseLayers: boolean;
  /** Qwen2-MoE's shared expert behind a sigmoid gate. */
  sharedExpert: boolean;
  /** Module and pool/router names, as the hand-written examples/models programs spell them. */
  module: string;
  layer: string;
  pool: string;
  router: string;
}

const FAMILIES: Record<MoeModelType, MoeFamily> = {
  mixtral: {
    modeling: "modeling_mixtral.py", eps: 1e-5, experts: "num_local_experts", width: "intermediate_size", renorm: "always",
    style: { bias: "attention_bias", qkNorm: "none", windows: { kind: "mistral", dflt: 0 }, thetaDefault: 1e6 },
    denseLayers: false, sharedExpert: false, module: "block_sparse_moe", layer: "mixtral_moe", pool: "E", router: "r",
  },
  olmoe: {
    modeling: "modeling_olmoe.py", eps: 1e-5, experts: "num_experts", width: "intermediate_size", renorm: "norm_topk_prob",
    style: { bias: "attention_bias", qkNorm: "full", windows: { kind: "none" }, thetaDefault: 10000, clipQkv: true },
    denseLayers: false, sharedExpert: false, module: "mlp", layer: "olmoe_moe", pool: "experts", router: "gate",
  },
  qwen2_moe: {
    modeling: "modeling_qwen2_moe.py", eps: 1e-6, experts: "num_experts", width: "moe_intermediate_size", renorm: "norm_topk_prob",
    style: { bias: "qkv", qkNorm: "none", windows: { kind: "qwen" }, thetaDefault: 10000 },
    denseLayers: true, sharedExpert: true, module: "mlp", layer: "qwen2_moe_block", pool: "E", router: "r",
  },
  qwen3_moe: {
    modeling: "modeling_qwen3_moe.py", eps: 1e-6, experts: "num_experts", width: "moe_intermediate_size", renorm: "norm_topk_prob",
    style: { bias: "attention_bias", qkNorm: "head", windows: { kind: "qwen" }, thetaDefault: 10000, headDimDefault: 128 },
    denseLayers: true, sharedExpert: false, module: "mlp", layer: "qwen3_moe_block", pool: "E", router: "r",
  },
};

export function moeModel(c: ConfigFields, modelType: MoeModelType): ModelPlan {
  const f = FAMILIES[modelType];
  const core = readCore(c, f.eps);
  const attn = llamaAttention(c, core.D, core.L, core.eps, f.style);
  const act = readAct(c);
  const N = c.int(f.experts, { min: f.denseLayers ? 0 : 1, max: MAX_EXPERTS });
  // Which layers are sparse: Qwen's rule, `(i + 1) % decoder_sparse_step == 0` and not in mlp_only_layers.
  let sparse = Array<boolean>(core.L).fill(N > 0);
  let ruleFrom = f.experts;
  if (f.denseLayers) {
    const step = c.int("decoder_sparse_step", { default: 1 });
    const only = new Set(c.intList("mlp_only_layers", core.L));
    sparse = sparse.map((s, i) => s && (i + 1) % step === 0 && !only.has(i));
    ruleFrom = "decoder_sparse_step, mlp_only_layers";
  }
  const hyper: Hyper[] = [...core.hyper, ...attn.hyper];
  let plan: SparseLayerPlan | undefined;
  if (sparse.some(Boolean)) {
    const K = c.int("num_experts_per_tok");
    if (K > N) throw c.error("num_experts_per_tok", `${K} is more than the ${N} experts (${f.experts})`);
    const I = c.int(f.width);
    const renorm = f.renorm === "always" || c.bool("norm_topk_prob", false);
    hyper.push({ name: "N", value: N, from: f.experts }, { name: "I", value: I, from: f.width }, { name: "K", value: K, from: "num_experts_per_tok" });
    const params: Hyper[] = [{ name: "D", value: core.D, from: "hidden_size" }, { name: "N", value: N, from: f.experts }, { name: "I", value: I, from: f.width }, { name: "K", value: K, from: "num_experts_per_tok" }];
    const ffnArgs = ["hidden = I", ...actArgs(act).map((a) => `${a.name} = ${a.value}`)].join(", ");
    const body: Line[] = [];
    if (f.sharedExpert) {
      const SI = c.int("shared_expert_intermediate_size");
      params.push({ name: "SI", value: SI, from: "shared_expert_intermediate_size" });
      hyper.push({ name: "SI", value: SI, from: "shared_expert_intermediate_size" });
      body.push({ code: `shared S[1] = ffn(${ffnArgs.replace("hidden = I", "hidden = SI")})`, from: "shared_expert_intermediate_size, hidden_act" });
    }
    body.push({ code: `experts ${f.pool}[N] = ffn(${ffnArgs})`, from: `${f.experts}, ${f.width}, hidden_act` });
    body.push({
      code: `router ${f.router} = linear |> softmax |> topk(K)${renorm ? " |> renorm" : ""}`,
      from: f.renorm === "always" ? "num_experts_per_tok; Mixtral always renormalizes the top-k weights" : `num_experts_per_tok, norm_topk_prob = ${renorm}`,
    });
    if (f.sharedExpert) {
      body.push({ code: "let g = linear(x, out = 1)", from: "the shared expert's sigmoid gate (shared_expert_gate)" });
      body.push({ code: `return moe(x, ${f.router}, ${f.pool}) + sigmoid(g) * S(x)` });
    } else body.push({ code: `return moe(x, ${f.router}, ${f.pool})` });
    plan = {
      name: f.layer, params, body, about: `The sparse block (${f.modeling}'s ${f.module}).`,
      callArgs: [{ name: "D", value: "D" }, { name: "N", value: "N" }, { name: "I", value: "I" }, { name: "K", value: "K" }, ...(f.sharedExpert ? [{ name: "SI", value: "SI" }] : [])],
    };
  }
  const anyDense = sparse.some((s) => !s);
  if (anyDense) hyper.push({ name: "DI", value: c.int("intermediate_size"), from: "intermediate_size" });
  else c.ignore(["intermediate_size"]); // the dense layers' width; there are none
  const denseArgs = [{ name: "hidden", value: "DI" }, ...actArgs(act)];
  const layers = attn.layers.map((attention, i): DecoderLayerPlan => ({
    attention,
    ffn: sparse[i] ? { kind: "sparse", from: ruleFrom } : { kind: "dense", args: denseArgs, from: `${ruleFrom}; intermediate_size` },
  }));
  return {
    modelType, family: modelType, modeling: f.modeling, hyper, sparse: plan, sparseModule: f.module, layers,
    normEps: core.eps, normFrom: "rms_norm_eps", tied: core.tied, notes: [],
  };
}
