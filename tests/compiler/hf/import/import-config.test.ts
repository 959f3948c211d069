// `moec import`'s programs against independent answers: parameter counts worked out here from each
// config's fields (and the published sizes), the tensor names transformers' modeling files give one
// decoder layer (hand-listed), the hand-written examples/models programs at the same sizes, and the
// layer rules of each family (dense layers, sliding windows, routers) derived from the config by hand.
import { describe, expect, it } from "vitest";
import { entryInfo } from "../../../../compiler/driver.js";
import { formatMoe } from "../../../../compiler/format/format-moe.js";
import { hfMap, resolveFamily } from "../../../../compiler/hf/map.js";
import type { Instance } from "../../../../compiler/semantic/instance.js";
import type { Config, Family } from "../../../helpers/hf-configs.js";
import { FAMILIES, fixture, importAndCheck, smallFixture } from "../../../helpers/hf-configs.js";

const range = (n: number) => [...Array(n).keys()];

/** Total parameters from a config by the families' formulas (modeling files' module shapes). */
function expectedTotal(family: Family, c: Config): number {
  const V = c.vocab_size, D = c.hidden_size, L = c.num_hidden_layers, H = c.num_attention_heads;
  const KV = c.num_key_value_heads ?? H;
  const embed = V * D * (c.tie_word_embeddings ? 1 : 2) + D;
  const ffn = (I: number) => 3 * I * D;
  let perLayer: (i: number) => number;
  if (family.startsWith("deepseek")) {
    const q = c.q_lora_rank ? c.q_lora_rank * D + c.q_lora_rank + H * (c.qk_nope_head_dim + c.qk_rope_head_dim) * c.q_lora_rank : H * (c.qk_nope_head_dim + c.qk_rope_head_dim) * D;
    const kv = (c.kv_lora_rank + c.qk_rope_head_dim) * D + c.kv_lora_rank + H * (c.qk_nope_head_dim + c.v_head_dim) * c.kv_lora_rank;
    const attn = q + kv + D * H * c.v_head_dim + 2 * D;
    const moe = c.n_routed_experts * D + (c.n_routed_experts + c.n_shared_experts) * ffn(c.moe_intermediate_size);
    perLayer = (i) => attn + (i >= c.first_k_dense_replace && i % c.moe_layer_freq === 0 ? moe : ffn(c.intermediate_size));
  } else {
    const hd = c.head_dim ?? D / H;
    let attn = 2 * H * hd * D + 2 * KV * hd * D + 2 * D;
    if (family === "qwen2" || family === "qwen2_moe") attn += (H + 2 * KV) * hd; // q/k/v biases
    if (family === "qwen3" || family === "qwen3_moe") attn += 2 * hd; // per-head q/k norms
    if (family === "olmoe") attn += (H + KV) * hd; // q/k norms over the projections
    const experts = c.num_local_experts ?? c.num_experts;
    const width = c.moe_intermediate_size ?? c.intermediate_size;
    const sparse = (i: number) => experts !== undefined && (i + 1) % (c.decoder_sparse_step ?? 1) === 0 && !(c.mlp_only_layers ?? []).includes(i);
    const moe = experts * D + experts * ffn(width) + (family === "qwen2_moe" ? ffn(c.shared_expert_intermediate_size) + D : 0);
    perLayer = (i) => attn + (sparse(i) ? moe : ffn(c.intermediate_size));
  }
  return embed + range(L).reduce((s, i) => s + perLayer(i), 0);
}

/** Published total sizes (model cards / papers), to 3 significant figures. */
const PUBLISHED: Record<Family, number> = {
  mixtral: 46.7e9, qwen2_moe: 14.3e9, qwen3_moe: 30.5e9, olmoe: 6.92e9, deepseek_v2: 15.7e9,
  deepseek_v3: 671e9, llama: 8.03e9, mistral: 7.24e9, qwen2: 7.62e9, qwen3: 8.19e9,
};

describe("moec import: whole published configs", () => {
  for (const family of FAMILIES) {
    it(`${family}: checks, counts as the config's formula and the published size, and is formatted`, async () => {
      const c = fixture(family);
      const { imported, res } = await importAndCheck(c, `${family}/config.json`);
      expect(res.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(imported.entry).toBe(family);
      expect(imported.unrecognised).toEqual([]);
      expect(res.info!.counts.total).toBe(expectedTotal(family, c));
      expect(Math.abs(res.info!.counts.total / PUBLISHED[family] - 1)).toBeLessThan(0.005);
      expect(await formatMoe(imported.text)).toBe(imported.text);
      expect(imported.text).toContain("// rms_norm_eps");
    });
  }

  it("the exact totals of the hand-written examples' models", async () => {
    const total = async (f: Family) => (await importAndCheck(fixture(f))).res.info!.counts.total;
    expect(await total("mixtral")).toBe(46_702_792_704);
    expect(await total("qwen2_moe")).toBe(14_315_784_192);
    expect(await total("olmoe")).toBe(6_919_161_856);
    expect(await total("deepseek_v3")).toBe(671_026_404_352);
    expect(await total("llama")).toBe(8_030_261_248);
  });
});

/** One decoder layer's checkpoint names, as the modeling file's modules name them. */
const norms = (i: number) => [`model.layers.${i}.input_layernorm.weight`, `model.layers.${i}.post_attention_layernorm.weight`];
const attn = (i: number, extra: string[] = []) => [...norms(i), ...["q_proj", "k_proj", "v_proj", "o_proj"].map((p) => `model.layers.${i}.self_attn.${p}.weight`), ...extra.map((e) => `model.layers.${i}.self_attn.${e}`)];
const mlp = (i: number, module = "mlp") => ["gate_proj", "up_proj", "down_proj"].map((p) => `model.layers.${i}.${module}.${p}.weight`);
const experts = (i: number, n: number, module = "mlp", names = ["gate_proj", "up_proj", "down_proj"]) => range(n).flatMap((j) => names.map((p) => `model.layers.${i}.${module}.experts.${j}.${p}.weight`));
const qkBias = ["q_proj.bias", "k_proj.bias", "v_proj.bias"];
const qkNorm = ["q_norm.weight", "k_norm.weight"];
const mlaQ = (i: number, compressed: boolean) => [...norms(i), ...(compressed ? ["q_a_proj", "q_a_layernorm", "q_b_proj"] : ["q_proj"]).map((p) => `model.layers.${i}.self_attn.${p}.weight`), ...["kv_a_proj_with_mqa", "kv_a_layernorm", "kv_b_proj", "o_proj"].map((p) => `model.layers.${i}.self_attn.${p}.weight`)];

const LAYER_NAMES: Record<Family, { layer: number; names: string[] }> = {
  mixtral: { layer: 0, names: [...attn(0), "model.layers.0.block_sparse_moe.gate.weight", ...experts(0, 8, "block_sparse_moe", ["w1", "w2", "w3"])] },
  qwen2_moe: { layer: 0, names: [...attn(0, qkBias), "model.layers.0.mlp.gate.weight", "model.layers.0.mlp.shared_expert_gate.weight", ...mlp(0, "mlp.shared_expert"), ...experts(0, 60)] },
  qwen3_moe: { layer: 5, names: [...attn(5, qkNorm), "model.layers.5.mlp.gate.weight", ...experts(5, 128)] },
  olmoe: { layer: 0, names: [...attn(0, qkNorm), "model.layers.0.mlp.gate.weight", ...experts(0, 64)] },
  deepseek_v2: { layer: 1, names: [...mlaQ(1, false), "model.layers.1.mlp.gate.weight", ...mlp(1, "mlp.shared_experts"), ...experts(1, 64)] },
  deepseek_v3: { layer: 3, names: [...mlaQ(3, true), "model.layers.3.mlp.gate.weight", "model.layers.3.mlp.gate.e_score_correction_bias", ...mlp(3, "mlp.shared_experts"), ...experts(3, 256)] },
  llama: { layer: 0, names: [...attn(0), ...mlp(0)] },
  mistral: { layer: 31, names: [...attn(31), ...mlp(31)] },
  qwen2: { layer: 0, names: [...attn(0, qkBias), ...mlp(0)] },
  qwen3: { layer: 0, names: [...attn(0, qkNorm), ...mlp(0)] },
};

async function hfOf(c: Config) {
  const { imported, res } = await importAndCheck(c);
  return hfMap(res.info!.instance, resolveFamily(imported.family));
}

describe("moec import: Hugging Face names of the imported programs", () => {
  for (const family of FAMILIES) {
    it(`${family}: one decoder layer's names as the modeling file has them`, async () => {
      const m = await hfOf(fixture(family));
      const { layer, names } = LAYER_NAMES[family];
      expect(m.tensors.map((t) => t.hf).filter((n) => n.startsWith(`model.layers.${layer}.`)).sort()).toEqual([...names].sort());
      expect(m.tensors.map((t) => t.hf)).toEqual(expect.arrayContaining(["model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"]));
    });
  }

  it("shapes: Qwen3's per-head q/k norms and explicit head_dim, DeepSeek-V2-Lite's uncompressed q, DeepSeek's dense first layers", async () => {
    const q3 = new Map((await hfOf(fixture("qwen3_moe"))).tensors.map((t) => [t.hf, t.shape]));
    expect(q3.get("model.layers.0.self_attn.q_norm.weight")).toEqual([128]);
    expect(q3.get("model.layers.0.self_attn.q_proj.weight")).toEqual([32 * 128, 2048]); // head_dim 128 ≠ 2048 / 32
    expect(q3.get("model.layers.0.self_attn.k_proj.weight")).toEqual([4 * 128, 2048]);
    expect(q3.get("model.layers.0.mlp.experts.127.down_proj.weight")).toEqual([2048, 768]);
    const v2 = new Map((await hfOf(fixture("deepseek_v2"))).tensors.map((t) => [t.hf, t.shape]));
    expect(v2.get("model.layers.0.self_attn.q_proj.weight")).toEqual([16 * 192, 2048]);
    expect(v2.get("model.layers.0.self_attn.kv_b_proj.weight")).toEqual([16 * 256, 512]);
    expect(v2.get("model.layers.0.mlp.down_proj.weight")).toEqual([2048, 10944]);
    expect(v2.get("model.layers.1.mlp.shared_experts.gate_proj.weight")).toEqual([2 * 1408, 2048]);
    expect(v2.has("model.layers.1.mlp.gate.e_score_correction_bias")).toBe(false);
    const q2 = new Map((await hfOf(fixture("qwen2"))).tensors.map((t) => [t.hf, t.shape]));
    expect(q2.get("model.layers.0.self_attn.k_proj.bias")).toEqual([512]);
  });
});

describe("moec import: the same model as the hand-written examples", () => {
  const cases: { family: Family; example: string; config: Config; set: Record<string, number> }[] = [
    { family: "mixtral", example: "mixtral_8x7b", config: smallFixture("mixtral"), set: { V: 64, D: 32, L: 4, H: 4, KV: 2, N: 4, I: 48 } },
    { family: "olmoe", example: "olmoe_1b_7b", config: smallFixture("olmoe"), set: { V: 64, D: 32, L: 4, H: 4, N: 8, I: 48, K: 2 } },
    { family: "qwen2_moe", example: "qwen1_5_moe_a2_7b", config: smallFixture("qwen2_moe"), set: { V: 64, D: 32, L: 4, H: 4, N: 4, I: 16, SI: 24 } },
    { family: "deepseek_v3", example: "deepseek_v3", config: smallFixture("deepseek_v3"), set: { V: 64, D: 32, L: 4, DENSE: 1, H: 4, QR: 24, KVR: 16, NOPE: 8, ROPE: 4, VD: 8, DI: 48, N: 16, I: 16 } },
  ];
  for (const k of cases) {
    it(`${k.family} at small sizes has examples/models/${k.example}.moe's weights`, async () => {
      const { res } = await importAndCheck(k.config);
      const ex = entryInfo([`examples/models/${k.example}.moe`], { set: k.set });
      expect(ex.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const ws = (w: { name: string; shape: number[] }[]) => w.map((x) => `${x.name} ${JSON.stringify(x.shape)}`).sort();
      expect(ws(res.info!.weights)).toEqual(ws(ex.info!.weights));
    });
  }
});

/** Per layer index: the attention arguments and whether the layer's FFN is sparse. */
function layersOf(inst: Instance): Map<number, { attn: Record<string, unknown>; sparse: boolean }> {
  const out = new Map<number, { attn: Record<string, unknown>; sparse: boolean }>();
  for (const ch of inst.children) {
    const a = ch.instance.owners.find((o) => o.category === "attention")!;
    const sparse = ch.instance.children.length > 0;
    for (let i = 0; i < ch.copies!.count; i++) out.set(ch.copies!.start + i, { attn: a.info!.args[0]!, sparse });
  }
  return out;
}

const routerOf = (inst: Instance) => {
  for (const ch of inst.children) for (const s of ch.instance.children) {
    const r = s.instance.owners.find((o) => o.category === "router");
    if (r) return r.info!.stages!.map((st) => `${st.def.name}${Object.keys(st.args).length ? JSON.stringify(st.args) : ""}`);
  }
  return undefined;
};

async function layers(c: Config) {
  const { res } = await importAndCheck(c);
  expect(res.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return { layers: layersOf(res.info!.instance), router: routerOf(res.info!.instance), info: res.info! };
}

describe("moec import: layer rules and routers, derived from the config by hand", () => {
  it("qwen2_moe: decoder_sparse_step 2 and mlp_only_layers [1] leave only layer 3 sparse", async () => {
    const { layers: ls } = await layers(smallFixture("qwen2_moe", { decoder_sparse_step: 2, mlp_only_layers: [1] }));
    expect([0, 1, 2, 3].map((i) => ls.get(i)!.sparse)).toEqual([false, false, false, true]);
  });

  it("qwen3_moe: mlp_only_layers [0, 2]; norm_topk_prob renormalizes", async () => {
    const { layers: ls, router } = await layers(smallFixture("qwen3_moe", { mlp_only_layers: [0, 2] }));
    expect([0, 1, 2, 3].map((i) => ls.get(i)!.sparse)).toEqual([false, true, false, true]);
    expect(router!.map((s) => s.replace(/\{.*/, ""))).toEqual(["linear", "softmax", "topk", "renorm"]);
    const off = await layers(smallFixture("qwen3_moe", { norm_topk_prob: false }));
    expect(off.router!.map((s) => s.replace(/\{.*/, ""))).toEqual(["linear", "softmax", "topk"]);
  });

  it("deepseek: first_k_dense_replace 1 and moe_layer_freq 2 make layer 2 the only sparse one", async () => {
    const { layers: ls } = await layers(smallFixture("deepseek_v2", { moe_layer_freq: 2 }));
    expect([0, 1, 2, 3].map((i) => ls.get(i)!.sparse)).toEqual([false, false, true, false]);
  });

  it("deepseek routers: V2 greedy softmax, scaled only when not renormalized; V3 sigmoid, aux-free bias, groups, scale", async () => {
    expect((await layers(smallFixture("deepseek_v2"))).router!.map((s) => s.replace(/\{.*/, ""))).toEqual(["linear", "softmax", "topk"]);
    expect((await layers(smallFixture("deepseek_v2", { routed_scaling_factor: 16.0 }))).router!).toEqual(['linear{"bias":false}', "softmax", 'topk{"k":2}', 'scale{"s":16}']);
    expect((await layers(smallFixture("deepseek_v2", { routed_scaling_factor: 16.0, norm_topk_prob: true }))).router!.map((s) => s.replace(/\{.*/, ""))).toEqual(["linear", "softmax", "topk", "renorm"]);
    // group_limited_greedy that keeps every group is plain top-k.
    expect((await layers(smallFixture("deepseek_v2", { topk_method: "group_limited_greedy", n_group: 4, topk_group: 4 }))).router!.map((s) => s.replace(/\{.*/, ""))).toEqual(["linear", "softmax", "topk"]);
    const v3 = (await layers(smallFixture("deepseek_v3"))).router!;
    expect(v3.map((s) => s.replace(/\{.*/, ""))).toEqual(["linear", "sigmoid", "bias", "group_topk", "renorm", "scale"]);
    expect(v3[3]).toBe('group_topk{"k":8,"groups":8,"keep":4}');
    expect(v3[5]).toBe('scale{"s":2.5}');
    expect((await layers(smallFixture("deepseek_v3", { n_group: 1, topk_group: 1, routed_scaling_factor: 1.0 }))).router!.map((s) => s.replace(/\{.*/, ""))).toEqual(["linear", "sigmoid", "bias", "topk", "renorm"]);
  });

  it("sliding windows: Qwen's use_sliding_window on layers ≥ max_window_layers (or layer_types), Mistral's on every layer", async () => {
    const q = (await layers(smallFixture("qwen2", { use_sliding_window: true, sliding_window: 16, max_window_layers: 2 }))).layers;
    expect([0, 1, 2, 3].map((i) => q.get(i)!.attn.window ?? 0)).toEqual([0, 0, 16, 16]);
    const t = (await layers(smallFixture("qwen3", { use_sliding_window: true, sliding_window: 16, layer_types: ["sliding_attention", "full_attention", "sliding_attention", "full_attention"] }))).layers;
    expect([0, 1, 2, 3].map((i) => t.get(i)!.attn.window ?? 0)).toEqual([16, 0, 16, 0]);
    const off = (await layers(smallFixture("qwen2", { sliding_window: 16, max_window_layers: 2 }))).layers;
    expect([0, 1, 2, 3].map((i) => off.get(i)!.attn.window ?? 0)).toEqual([0, 0, 0, 0]);
    const m = (await layers(smallFixture("mistral"))).layers;
    expect([0, 3].map((i) => m.get(i)!.attn.window)).toEqual([8, 8]);
    const none = (await layers(smallFixture("mistral", { sliding_window: null }))).layers;
    expect(none.get(0)!.attn.window ?? 0).toBe(0);
  });

  it("attention fields: biases, q/k norms with rms_norm_eps, head_dim, partial rotary, yarn, rope_interleave", async () => {
    const q2 = (await layers(smallFixture("qwen2"))).layers.get(0)!.attn;
    expect(q2).toMatchObject({ bias: true, heads: 4, kv_heads: 2, rope_theta: 1e6 });
    const q3 = (await layers(smallFixture("qwen3", { rms_norm_eps: 1e-5, head_dim: 16 }))).layers.get(0)!.attn;
    expect(q3).toMatchObject({ qk_norm: "head", qk_eps: 1e-5, head_dim: 16 }); // 16 ≠ hidden_size / heads = 8
    const ol = (await layers(smallFixture("olmoe"))).layers.get(0)!.attn;
    expect(ol).toMatchObject({ qk_norm: "full", qk_eps: 1e-5 });
    const pr = (await layers(smallFixture("llama", { partial_rotary_factor: 0.5 }))).layers.get(0)!.attn;
    expect(pr.rope_dim).toBe(4); // head_dim 32 / 4 = 8, half of it rotated
    const yarn = (await layers(smallFixture("qwen3", { rope_scaling: { rope_type: "yarn", factor: 4.0, original_max_position_embeddings: 32768 } }))).layers.get(0)!.attn;
    expect(yarn).toMatchObject({ rope_scaling: "yarn", rope_factor: 4, rope_original: 32768 });
    const v3 = (await layers(smallFixture("deepseek_v3"))).layers.get(0)!.attn;
    expect(v3).toMatchObject({ rope: "interleaved", rope_scaling: "yarn", rope_factor: 40, rope_original: 4096, yarn_mscale: 1, yarn_mscale_all_dim: 1, q_rank: 24 });
    expect((await layers(smallFixture("deepseek_v3", { rope_interleave: false }))).layers.get(0)!.attn.rope).toBe("half");
  });

  it("DeepSeek's derived head_dim is not an attention head size: the same weights with or without it", async () => {
    const a = (await importAndCheck(smallFixture("deepseek_v3"))).res.info!;
    const withHd = await importAndCheck(smallFixture("deepseek_v3", { head_dim: 4 }));
    expect(withHd.res.info!.weights).toEqual(a.weights);
    expect(withHd.imported.text).toMatch(/head_dim = 4 is transformers' derived qk_rope_head_dim/);
  });

  it("tie_word_embeddings shares embed_tokens (no lm_head.weight); mlp_bias adds the MLP's biases; gelu is geglu", async () => {
    const c = smallFixture("llama", { tie_word_embeddings: true, mlp_bias: true, hidden_act: "gelu" });
    const { res } = await importAndCheck(c);
    expect(res.info!.counts.total).toBe(expectedTotal("llama", c) + 4 * (48 + 48 + 32));
    const names = hfMap(res.info!.instance, resolveFamily("llama")).tensors.map((t) => t.hf);
    expect(names).not.toContain("lm_head.weight");
    expect(names).toEqual(expect.arrayContaining(["model.layers.0.mlp.gate_proj.bias", "model.layers.0.mlp.up_proj.bias", "model.layers.0.mlp.down_proj.bias"]));
    const mlpOwner = res.info!.instance.children[0]!.instance.owners.find((o) => o.category === "dense_ffn")!;
    expect(mlpOwner.info!.args[0]).toMatchObject({ act: "geglu", bias: true });
  });

  it("unrecognised fields are listed in the header, not silently dropped", async () => {
    const { imported } = await importAndCheck(smallFixture("llama", { my_new_field: 3 }));
    expect(imported.unrecognised).toEqual(["my_new_field"]);
    expect(imported.text).toContain("// Fields not recognised (not read): my_new_field.");
  });
});
