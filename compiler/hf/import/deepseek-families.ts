// DeepSeek-V2 and -V3 (modeling_deepseek.py; transformers' modeling_deepseek_v2/_v3.py): multi-head
// latent attention, the first `first_k_dense_replace` layers dense and then every
// `moe_layer_freq`-th layer sparse, shared experts, and the router each version defines:
//   V2: softmax scores, top-k (`greedy`; `group_limited_greedy` ranks groups by their best expert,
//       which moec's group_topk does not express, so it is refused unless it keeps every group);
//       renormalized when `norm_topk_prob` (and k > 1), else scaled by `routed_scaling_factor`.
//   V3: sigmoid scores plus the selection-only bias `e_score_correction_bias` (`noaux_tc`), top-k
//       within the best `topk_group` of `n_group` groups (ranked by their top-2 sum), renormalized
//       when `norm_topk_prob`, always scaled by `routed_scaling_factor`.
import type { ConfigFields } from "./config-fields.js";
import { MAX_EXPERTS } from "./config-fields.js";
import type { Arg, DecoderLayerPlan, Hyper, Line, ModelPlan } from "./model-plan.js";
import { floatLit } from "./model-plan.js";
import { actArgs, readAct, readCore, readRopeScaling } from "./common-fields.js";

export type DeepseekModelType = "deepseek_v2" | "deepseek_v3";

const IGNORED = ["ep_size", "aux_loss_alpha", "seq_aux", "num_key_value_heads"] as const;

const DEFAULTS = {
  deepseek_v2: { topk: "greedy", scoring: "softmax", nGroup: 1, topkGroup: 1, norm: false, scale: 1.0, firstDense: 0, shared: 0 },
  deepseek_v3: { topk: "noaux_tc", scoring: "sigmoid", nGroup: 8, topkGroup: 4, norm: true, scale: 2.5, firstDense: 3, shared: 1 },
};

function mlaArgs(c: ConfigFields): { args: Arg[]; hyper: Hyper[]; from: string } {
  c.refuseUnless("attention_bias", (v) => v === undefined || v === false, "moec's mla has no projection biases");
  const H = c.int("num_attention_heads");
  const QR = c.optInt("q_lora_rank", 0) ?? 0;
  const KVR = c.int("kv_lora_rank");
  const NOPE = c.int("qk_nope_head_dim", { min: 0 });
  const ROPE = c.int("qk_rope_head_dim", { min: 0 });
  const VD = c.int("v_head_dim");
  if (ROPE % 2 !== 0) throw c.error("qk_rope_head_dim", `${ROPE} must be even (rotary values come in pairs)`);
  if (NOPE + ROPE < 1) throw c.error("qk_nope_head_dim", "qk_nope_head_dim + qk_rope_head_dim must be at least 1");
  const args: Arg[] = [
    { name: "heads", value: "H" }, { name: "q_rank", value: "QR" }, { name: "kv_rank", value: "KVR" },
    { name: "nope_dim", value: "NOPE" }, { name: "rope_dim", value: "ROPE" }, { name: "v_dim", value: "VD" },
  ];
  const from = ["num_attention_heads, q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim"];
  const theta = c.num("rope_theta", { default: 10000, positive: true });
  if (theta !== 10000) {
    args.push({ name: "rope_theta", value: floatLit(theta) });
    from.push("rope_theta");
  }
  // rope_interleave (default true) is what the mla block's default `rope = interleaved` means.
  if (!c.bool("rope_interleave", true)) {
    args.push({ name: "rope", value: "half" });
    from.push("rope_interleave = false");
  }
  const scaling = readRopeScaling(c);
  args.push(...scaling.args);
  if (scaling.from) from.push(scaling.from);
  const hyper: Hyper[] = [
    { name: "H", value: H, from: "num_attention_heads" }, { name: "QR", value: QR, from: "q_lora_rank (null: 0)" },
    { name: "KVR", value: KVR, from: "kv_lora_rank" }, { name: "NOPE", value: NOPE, from: "qk_nope_head_dim" },
    { name: "ROPE", value: ROPE, from: "qk_rope_head_dim" }, { name: "VD", value: VD, from: "v_head_dim" },
  ];
  return { args, hyper, from: from.join(", ") };
}

/** The router pipeline of the version, or a refusal naming the field it cannot express. */
function routerPipeline(c: ConfigFields, v: DeepseekModelType, N: number, K: number): { code: string; from: string } {
  const d = DEFAULTS[v];
  const method = c.str("topk_method", d.topk);
  const scoring = c.str("scoring_func", d.scoring);
  const G = c.int("n_group", { default: d.nGroup });
  const KG = c.int("topk_group", { default: d.topkGroup });
  const norm = c.bool("norm_topk_prob", d.norm);
  const scale = c.num("routed_scaling_factor", { default: d.scale, positive: true });
  const stages = ["linear"];
  const from = ["num_experts_per_tok"];
  if (v === "deepseek_v2") {
    if (scoring !== "softmax") throw c.error("scoring_func", `"${scoring}" is not supported for deepseek_v2: its router takes the softmax`);
    if (method !== "greedy" && method !== "group_limited_greedy") throw c.error("topk_method", `"${method}" is not supported for deepseek_v2 (greedy, group_limited_greedy)`);
    if (method === "group_limited_greedy" && G > 1 && KG < G) {
      throw c.error("topk_method", `"group_limited_greedy" with n_group = ${G}, topk_group = ${KG} ranks groups by their best expert; moec's group_topk ranks them by their top-2 sum`);
    }
    stages.push("softmax", `topk(${K})`);
    from.push(`topk_method = ${method}`);
    if (K > 1 && norm) stages.push("renorm");
    else if (scale !== 1) stages.push(`scale(${floatLit(scale)})`);
    from.push(`norm_topk_prob = ${norm}`, ...(K > 1 && norm ? [] : ["routed_scaling_factor"]));
  } else {
    if (scoring !== "sigmoid") throw c.error("scoring_func", `"${scoring}" is not supported for deepseek_v3: its router takes the sigmoid`);
    if (method !== "noaux_tc") throw c.error("topk_method", `"${method}" is not supported for deepseek_v3 (noaux_tc)`);
    if (N % G !== 0) throw c.error("n_group", `${G} does not divide the ${N} routed experts`);
    if (KG > G) throw c.error("topk_group", `${KG} is more than n_group = ${G}`);
    if (K > KG * (N / G)) throw c.error("num_experts_per_tok", `${K} is more than the ${KG * (N / G)} experts in topk_group = ${KG} groups`);
    stages.push("sigmoid", "bias(aux_free)");
    stages.push(G > 1 && KG < G ? `group_topk(${K}, groups = ${G}, keep = ${KG})` : `topk(${K})`);
    from.push("scoring_func = sigmoid, topk_method = noaux_tc (e_score_correction_bias)", "n_group, topk_group");
    if (K > 1 && norm) stages.push("renorm");
    if (scale !== 1) stages.push(`scale(${floatLit(scale)})`);
    from.push(`norm_topk_prob = ${norm}`, "routed_scaling_factor");
  }
  return { code: `router r = ${stages.join(" |> ")}`, from: from.join(", ") };
}

export function deepseekModel(c: ConfigFields, v: DeepseekModelType): ModelPlan {
  const core = readCore(c, 1e-6);
  c.ignore(IGNORED);
  const act = readAct(c);
  const mla = mlaArgs(c);
  const notes: string[] = [];
  if (c.has("head_dim")) notes.push(`head_dim = ${JSON.stringify(c.value("head_dim"))} is transformers' derived qk_rope_head_dim, not an attention head size; mla's heads are qk_nope_head_dim + qk_rope_head_dim wide (values: v_head_dim).`);
  const mtp = c.optInt("num_nextn_predict_layers", 0) ?? 0;
  if (mtp) notes.push(`num_nextn_predict_layers = ${mtp}: the multi-token-prediction layers (model.layers.${core.L}.* on) are not part of the forward pass and are not modelled.`);
  const q = c.object("quantization_config");
  if (q) notes.push(`quantization_config (${String(q.quant_method ?? "?")}): the program is the same; the loader dequantizes gptq, awq and fp8 weights to f32 as it reads them (docs/quantization.md).`);
  notes.push("mla's latent norms (q_a_layernorm, kv_a_layernorm) use RMSNorm's default eps 1e-6, as modeling_deepseek.py does.");

  // n_routed_experts: null means every layer is dense; a config without the field is not DeepSeek's.
  if (!c.present("n_routed_experts")) throw c.error("n_routed_experts", "missing; it is required (null for a dense model)");
  const N = c.optInt("n_routed_experts", 1, MAX_EXPERTS) ?? 0;
  const firstDense = c.int("first_k_dense_replace", { min: 0, default: DEFAULTS[v].firstDense });
  const freq = c.int("moe_layer_freq", { default: 1 });
  const sparse = [...Array(core.L).keys()].map((i) => N > 0 && i >= firstDense && i % freq === 0);
  const hyper: Hyper[] = [...core.hyper, ...mla.hyper];
  let plan: ModelPlan["sparse"];
  if (sparse.some(Boolean)) {
    const K = c.int("num_experts_per_tok");
    if (K > N) throw c.error("num_experts_per_tok", `${K} is more than the ${N} routed experts (n_routed_experts)`);
    const I = c.int("moe_intermediate_size");
    const NS = c.present("n_shared_experts") ? c.optInt("n_shared_experts", 0, MAX_EXPERTS) ?? 0 : DEFAULTS[v].shared;
    const router = routerPipeline(c, v, N, K);
    const ffnArgs = ["hidden = I", ...actArgs(act).map((a) => `${a.name} = ${a.value}`)].join(", ");
    const body: Line[] = [];
    if (NS) body.push({ code: `shared S[${NS}] = ffn(${ffnArgs})`, from: "n_shared_experts, moe_intermediate_size (stored concatenated: shared_experts)" });
    body.push({ code: `experts E[N] = ffn(${ffnArgs})`, from: "n_routed_experts, moe_intermediate_size, hidden_act" });
    body.push({ code: router.code, from: router.from });
    body.push({ code: NS ? "return S(x) + moe(x, r, E)" : "return moe(x, r, E)" });
    hyper.push({ name: "N", value: N, from: "n_routed_experts" }, { name: "I", value: I, from: "moe_intermediate_size" });
    plan = {
      name: `${v}_moe`, about: `The sparse block (${v === "deepseek_v2" ? "DeepseekV2MoE" : "DeepseekV3MoE"}).`,
      params: [{ name: "D", value: core.D, from: "hidden_size" }, { name: "N", value: N, from: "n_routed_experts" }, { name: "I", value: I, from: "moe_intermediate_size" }],
      body, callArgs: [{ name: "D", value: "D" }, { name: "N", value: "N" }, { name: "I", value: "I" }],
    };
  }
  if (sparse.some((s) => !s)) hyper.push({ name: "DI", value: c.int("intermediate_size"), from: "intermediate_size" });
  else c.ignore(["intermediate_size"]); // the dense layers' width; there are none
  const denseArgs = [{ name: "hidden", value: "DI" }, ...actArgs(act)];
  const attention = { block: "mla" as const, args: mla.args, from: mla.from };
  const rule = "first_k_dense_replace, moe_layer_freq";
  const layers = sparse.map((s): DecoderLayerPlan => ({
    attention, ffn: s ? { kind: "sparse", from: rule } : { kind: "dense", args: denseArgs, from: `${rule}; intermediate_size` },
  }));
  return {
    modelType: v, family: "deepseek", modeling: v === "deepseek_v2" ? "modeling_deepseek_v2.py" : "modeling_deepseek_v3.py",
    hyper, sparse: plan, sparseModule: "mlp", layers, normEps: core.eps, normFrom: "rms_norm_eps", tied: core.tied, notes,
  };
}
