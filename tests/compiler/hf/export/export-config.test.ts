// compiler/hf/export: the config.json a program exports to, checked against the published configs
// (tests/fixtures/hf-configs, at test sizes) the program was imported from — every field equal,
// the few that cannot survive named — and the located refusals of what no family expresses.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checkFiles, lowerEntry } from "../../../../compiler/driver.js";
import type { CompileOptions } from "../../../../compiler/driver.js";
import type { SourceHost } from "../../../../compiler/semantic/module-loader.js";
import { exportHfConfig, HfExportRefusal } from "../../../../compiler/hf/export/export-config.js";
import { FAMILIES, importAndCheck, smallFixture } from "../../../helpers/hf-configs.js";

async function exportOf(file: string, opts: CompileOptions & { sourceConfig?: Record<string, unknown>; modelType?: string } = {}) {
  const low = lowerEntry([file], opts);
  if (!low.program || !low.info) throw new Error(`does not lower: ${low.diagnostics.map((d) => d.message).join("; ")}`);
  return exportHfConfig(low.program, low.info, checkFiles([file], opts), { sourceConfig: opts.sourceConfig, modelType: opts.modelType });
}

/** A program held in memory, at /virtual/NAME.moe. */
function virtual(name: string, text: string): { file: string; host: SourceHost } {
  const file = path.resolve(`/virtual/${name}.moe`);
  return { file, host: { readFile: (f) => (path.resolve(f) === file ? text : undefined) } };
}

async function refusal(text: string): Promise<{ code: string; at: string; message: string }[]> {
  const { file, host } = virtual("refused", text);
  try {
    await exportOf(file, { host });
  } catch (e) {
    if (!(e instanceof HfExportRefusal)) throw e;
    return e.problems.map((p) => ({ code: p.code, at: text.slice(p.span.start, p.span.end), message: p.message }));
  }
  throw new Error("exported; expected a refusal");
}

// Fields of the published configs an export cannot reproduce, and why.
const NOT_CARRIED: Record<string, string> = {
  transformers_version: "the writer's, not the model's",
  torch_dtype: "the CLI writes the dtype of the tensors it writes",
  auto_map: "remote code is not copied; transformers has the families natively",
  quantization_config: "the export's tensors are F32/F16/BF16, not quantized",
  num_nextn_predict_layers: "multi-token-prediction layers are not part of the program, so their weights are not exported",
};

describe("export hf: config.json", () => {
  for (const fam of FAMILIES) {
    it(`${fam}: import → export gives back the published config's fields and model_type`, async () => {
      const cfg = smallFixture(fam);
      const { file, host } = await importAndCheck(cfg);
      const r = await exportOf(file, { host, sourceConfig: cfg });
      expect(r.modelType).toBe(cfg.model_type);
      for (const [k, v] of Object.entries(cfg)) {
        if (k in NOT_CARRIED) continue;
        expect(r.config[k], `field ${k}`).toEqual(v);
      }
      expect(r.config.architectures).toEqual(cfg.architectures);
    });
  }

  it("without a source config, the fields that define the model are still the published ones", async () => {
    const cfg = smallFixture("mixtral");
    const { file, host } = await importAndCheck(cfg);
    const r = await exportOf(file, { host });
    for (const k of ["num_local_experts", "num_experts_per_tok", "intermediate_size", "hidden_size", "num_key_value_heads", "rope_theta", "rms_norm_eps", "vocab_size", "num_hidden_layers", "sliding_window"]) {
      expect(r.config[k], k).toEqual(cfg[k]);
    }
    expect(r.config.max_position_embeddings).toBeUndefined(); // not in the program, not invented
  });

  it("examples/models/deepseek_v3.moe exports as deepseek_v3 with V3's router fields", async () => {
    const r = await exportOf(path.resolve("examples/models/deepseek_v3.moe"), { set: { V: 48, D: 32, L: 3, DENSE: 1, H: 2, QR: 8, KVR: 8, NOPE: 4, ROPE: 4, VD: 4, DI: 24, N: 32, I: 8 } });
    expect(r.modelType).toBe("deepseek_v3");
    // Hand-derived from the program: group_topk(8, groups = 8, keep = 4) |> renorm |> scale(2.5), one shared expert, one dense layer.
    expect(r.config).toMatchObject({ n_routed_experts: 32, num_experts_per_tok: 8, n_group: 8, topk_group: 4, norm_topk_prob: true, routed_scaling_factor: 2.5, n_shared_experts: 1, first_k_dense_replace: 1, topk_method: "noaux_tc", scoring_func: "sigmoid", q_lora_rank: 8, kv_lora_rank: 8 });
    // e_score_correction_bias is a checkpoint tensor (router state) of every sparse layer.
    expect(r.names.tensors.filter((t) => t.file.endsWith("gate.e_score_correction_bias")).map((t) => t.file)).toEqual(["model.layers.1.mlp.gate.e_score_correction_bias", "model.layers.2.mlp.gate.e_score_correction_bias"]);
  });

  it("--model-type forces one family, and a family that cannot say the program is refused with HF006", async () => {
    const cfg = smallFixture("qwen3_moe");
    const { file, host } = await importAndCheck(cfg);
    await expect(exportOf(file, { host, modelType: "mixtral" })).rejects.toThrow(/HF006: no Hugging Face family expresses `qwen3_moe`/);
    await expect(exportOf(file, { host, modelType: "gpt2" })).rejects.toThrow(/HF006: --model-type gpt2 is not a family moec exports/);
  });
});

const DECODER = (block: string, layers = "") => `${layers}
model m(tokens: [T], V = 32, D = 16, L = 2) {
  let embed_tokens = embed(tokens, vocab = V, dim = D)
  let h = embed_tokens
  repeat L as layers {
    let input_layernorm = rmsnorm(h)
    let self_attn = attention(input_layernorm, heads = 2)
    h = h + self_attn
    let post_attention_layernorm = rmsnorm(h)
    let mlp = ${block}(post_attention_layernorm)
    h = h + mlp
  }
  let norm = rmsnorm(h)
  let lm_head = lm_head(norm, vocab = V)
  return lm_head
}`;

describe("export hf: refusals, each construct located", () => {
  it("top-p routing: HF002 at the stage", async () => {
    const p = await refusal(DECODER("blk", `layer blk(x: [T, D], D = 16) {
  experts E[4] = ffn(hidden = 8)
  router r = linear |> softmax |> topp(0.5, max = 4)
  return moe(x, r, E)
}`));
    expect(p.map((x) => [x.code, x.at])).toEqual([["HF002", "topp(0.5, max = 4)"]]);
  });

  it("atoms and iterate: HF003 at the pool, HF004 at the keyword, and a top-p stage too — all listed", async () => {
    const p = await refusal(DECODER("blk", `layer blk(x: [T, D], D = 16) {
  experts A[16] = atom(act = gelu)
  iterate 2 {
    router r = linear |> softmax |> topp(0.5, max = 4)
    x = x + moe(x, r, A)
  }
  return x
}`));
    expect(p.map((x) => x.code).sort()).toEqual(["HF002", "HF003", "HF004"]);
    expect(p.find((x) => x.code === "HF003")!.message).toMatch(/pool `A` has `atom` experts/);
    expect(p.find((x) => x.code === "HF004")!.at).toBe("iterate");
  });

  it("a layer entry: HF001 at its name", async () => {
    const p = await refusal("layer only(x: [T, D], D = 16) {\n  let f = ffn(x, hidden = 8)\n  return f\n}");
    expect(p.map((x) => [x.code, x.at])).toEqual([["HF001", "only"]]);
  });

  it("a structure no family has (a layer norm): HF006 at the block that differs (its `let`)", async () => {
    const text = DECODER("ffn").replace("let norm = rmsnorm(h)", "let norm = layernorm(h)").replace("ffn(post_attention_layernorm)", "ffn(post_attention_layernorm, hidden = 8)");
    const p = await refusal(text);
    expect(p.map((x) => [x.code, x.at])).toEqual([["HF006", "norm"]]);
  });
});
