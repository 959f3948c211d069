// moec → Hugging Face checkpoint names, against the parameter names each family's modeling code
// defines (written out here from modeling_mixtral.py, modeling_olmoe.py, modeling_qwen2_moe.py and
// DeepSeek's modeling_deepseek.py for DeepSeekMoE and V3): module paths, renames (w_gate ↔ w1 /
// gate_proj …), the `model.` prefix, per-expert modules, concatenated shared experts (§7) and
// `repeat … from K` layer offsets.
import * as path from "node:path";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { entryInfo } from "../../../compiler/driver.js";
import { HfMapError, detectFamily, hfMap, nameIndex, resolveFamily } from "../../../compiler/hf/map.js";
import { infoJson, moec } from "../../helpers/cli.js";

function hfOf(file: string, entry?: string, family?: string) {
  const r = entryInfo([file], { entry });
  if (!r.info) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return hfMap(r.info.instance, resolveFamily(family ?? detectFamily(r.info.instance, r.info.name)));
}

const range = (n: number) => [...Array(n).keys()];
const layerNames = (names: string[], i: number) => names.filter((n) => n.startsWith(`model.layers.${i}.`)).sort();

describe("Hugging Face names", () => {
  it("Mixtral-8x7B: block_sparse_moe with experts.j.w1/w2/w3 and gate", () => {
    const m = hfOf("examples/models/mixtral_8x7b.moe");
    expect(m.family.name).toBe("mixtral");
    const names = m.tensors.map((t) => t.hf);
    const L0 = [
      "model.layers.0.input_layernorm.weight",
      "model.layers.0.post_attention_layernorm.weight",
      "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
      "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.o_proj.weight",
      "model.layers.0.block_sparse_moe.gate.weight",
      ...range(8).flatMap((j) => ["w1", "w2", "w3"].map((w) => `model.layers.0.block_sparse_moe.experts.${j}.${w}.weight`)),
    ].sort();
    expect(layerNames(names, 0)).toEqual(L0);
    expect(names).toContain("model.embed_tokens.weight");
    expect(names).toContain("model.norm.weight");
    expect(names).toContain("lm_head.weight");
    expect(names).toContain("model.layers.31.block_sparse_moe.experts.7.w2.weight");
    // The checkpoint's index lists 995 tensors: 32 layers × 31 + embed, norm, lm_head.
    expect(names.length).toBe(32 * 31 + 3);
    const byName = nameIndex(m).fromHf;
    expect(byName.get("model.layers.0.block_sparse_moe.experts.0.w1.weight")).toMatchObject({ shape: [14336, 4096], moec: [{ name: "layers.0.block_sparse_moe.E.0.w_gate" }], stacked: { name: "layers.0.block_sparse_moe.E.w_gate", index: 0 } });
    expect(byName.get("model.layers.5.block_sparse_moe.experts.3.w3.weight")!.moec[0]!.name).toBe("layers.5.block_sparse_moe.E.3.w_up");
    expect(byName.get("model.layers.5.block_sparse_moe.experts.3.w2.weight")!.shape).toEqual([4096, 14336]);
    expect(byName.get("model.layers.0.self_attn.k_proj.weight")!.shape).toEqual([1024, 4096]);
    expect(byName.get("model.layers.0.block_sparse_moe.gate.weight")!.shape).toEqual([8, 4096]);
  });

  it("the §13 Mixtral program, with other moec names (h, attn, logits), maps to the same checkpoint", () => {
    const a = hfOf("tests/fixtures/contract/section13.moe", "mixtral_8x7b", "mixtral").tensors;
    const b = hfOf("examples/models/mixtral_8x7b.moe").tensors;
    expect(a.map((t) => [t.hf, t.shape])).toEqual(b.map((t) => [t.hf, t.shape]));
    const idx = nameIndex({ family: resolveFamily("mixtral"), tensors: a }).toHf;
    expect(idx.get("h.weight")!.hf).toBe("model.embed_tokens.weight");
    expect(idx.get("logits.weight")!.hf).toBe("lm_head.weight");
    expect(idx.get("layers.3.attn.wo")!.hf).toBe("model.layers.3.self_attn.o_proj.weight");
    expect(idx.get("layers.3.moe_norm.weight")!.hf).toBe("model.layers.3.post_attention_layernorm.weight");
  });

  it("DeepSeekMoE-16B: dense layer 0, shared_experts concatenated, layers from 1", () => {
    const m = hfOf("examples/models/deepseek_moe_16b.moe");
    expect(m.family.name).toBe("deepseek");
    const names = m.tensors.map((t) => t.hf);
    const attnAndNorms = (i: number) => [
      `model.layers.${i}.input_layernorm.weight`, `model.layers.${i}.post_attention_layernorm.weight`,
      ...["q_proj", "k_proj", "v_proj", "o_proj"].map((p) => `model.layers.${i}.self_attn.${p}.weight`),
    ];
    expect(layerNames(names, 0)).toEqual([...attnAndNorms(0), ...["gate_proj", "up_proj", "down_proj"].map((p) => `model.layers.0.mlp.${p}.weight`)].sort());
    expect(layerNames(names, 1)).toEqual([
      ...attnAndNorms(1),
      "model.layers.1.mlp.gate.weight",
      ...["gate_proj", "up_proj", "down_proj"].map((p) => `model.layers.1.mlp.shared_experts.${p}.weight`),
      ...range(64).flatMap((j) => ["gate_proj", "up_proj", "down_proj"].map((p) => `model.layers.1.mlp.experts.${j}.${p}.weight`)),
    ].sort());
    expect(names).toContain("model.layers.27.mlp.experts.63.down_proj.weight");
    expect(names.some((n) => n.startsWith("model.layers.28."))).toBe(false);
    const idx = nameIndex(m);
    // 2 shared experts of 1408 stored as one MLP of 2816: rows of gate/up, columns of down.
    expect(idx.fromHf.get("model.layers.1.mlp.shared_experts.gate_proj.weight")).toMatchObject({ shape: [2816, 2048], axis: 0, moec: [{ name: "layers.1.mlp.S.0.w_gate", shape: [1408, 2048] }, { name: "layers.1.mlp.S.1.w_gate", shape: [1408, 2048] }] });
    expect(idx.fromHf.get("model.layers.1.mlp.shared_experts.down_proj.weight")).toMatchObject({ shape: [2048, 2816], axis: 1 });
    expect(idx.toHf.get("layers.7.mlp.S.1.w_up")!.hf).toBe("model.layers.7.mlp.shared_experts.up_proj.weight");
    // Fine experts of a `split 4` pool are the checkpoint's experts: E.5 is coarse expert 1, slice 1.
    expect(idx.toHf.get("layers.1.mlp.E.5.w_gate")!.hf).toBe("model.layers.1.mlp.experts.5.gate_proj.weight");
    expect(idx.fromHf.get("model.layers.0.mlp.gate_proj.weight")!.shape).toEqual([10944, 2048]);
  });

  it("Qwen1.5-MoE-A2.7B: attention biases, shared_expert and shared_expert_gate", () => {
    const m = hfOf("examples/models/qwen1_5_moe_a2_7b.moe");
    expect(m.family.name).toBe("qwen2_moe");
    const names = m.tensors.map((t) => t.hf);
    expect(layerNames(names, 0)).toEqual([
      "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight",
      ...["q_proj", "k_proj", "v_proj", "o_proj"].map((p) => `model.layers.0.self_attn.${p}.weight`),
      ...["q_proj", "k_proj", "v_proj"].map((p) => `model.layers.0.self_attn.${p}.bias`),
      "model.layers.0.mlp.gate.weight",
      "model.layers.0.mlp.shared_expert_gate.weight",
      ...["gate_proj", "up_proj", "down_proj"].map((p) => `model.layers.0.mlp.shared_expert.${p}.weight`),
      ...range(60).flatMap((j) => ["gate_proj", "up_proj", "down_proj"].map((p) => `model.layers.0.mlp.experts.${j}.${p}.weight`)),
    ].sort());
    const idx = nameIndex(m).fromHf;
    expect(idx.get("model.layers.0.mlp.shared_expert_gate.weight")).toMatchObject({ shape: [1, 2048], moec: [{ name: "layers.0.mlp.g.weight" }] });
    expect(idx.get("model.layers.0.mlp.shared_expert.down_proj.weight")!.shape).toEqual([2048, 5632]);
    expect(idx.get("model.layers.0.self_attn.q_proj.bias")!.moec[0]!.name).toBe("layers.0.self_attn.bq");
    expect(idx.get("model.layers.0.mlp.gate.weight")!.shape).toEqual([60, 2048]);
  });

  it("OLMoE-1B-7B: q_norm/k_norm in self_attn, 64 experts in mlp", () => {
    const m = hfOf("examples/models/olmoe_1b_7b.moe");
    expect(m.family.name).toBe("olmoe");
    const names = m.tensors.map((t) => t.hf);
    expect(layerNames(names, 15)).toEqual([
      "model.layers.15.input_layernorm.weight", "model.layers.15.post_attention_layernorm.weight",
      ...["q_proj", "k_proj", "v_proj", "o_proj"].map((p) => `model.layers.15.self_attn.${p}.weight`),
      "model.layers.15.self_attn.q_norm.weight", "model.layers.15.self_attn.k_norm.weight",
      "model.layers.15.mlp.gate.weight",
      ...range(64).flatMap((j) => ["gate_proj", "up_proj", "down_proj"].map((p) => `model.layers.15.mlp.experts.${j}.${p}.weight`)),
    ].sort());
    const idx = nameIndex(m).fromHf;
    expect(idx.get("model.layers.0.self_attn.k_norm.weight")!.shape).toEqual([2048]);
    // Here the pool and router carry HF's names already: `experts`, `gate`.
    expect(idx.get("model.layers.0.mlp.experts.63.up_proj.weight")!.moec[0]!.name).toBe("layers.0.mlp.experts.63.w_up");
    expect(idx.get("model.layers.0.mlp.gate.weight")!.moec[0]!.name).toBe("layers.0.mlp.gate.weight");
  });

  it("DeepSeek-V3: MLA projections, e_score_correction_bias, dense layers 0–2 and MoE layers from 3", () => {
    const m = hfOf("examples/models/deepseek_v3.moe");
    expect(m.family.name).toBe("deepseek");
    const names = m.tensors.map((t) => t.hf);
    const attn = (i: number) => [
      `model.layers.${i}.input_layernorm.weight`, `model.layers.${i}.post_attention_layernorm.weight`,
      ...["q_a_proj", "q_a_layernorm", "q_b_proj", "kv_a_proj_with_mqa", "kv_a_layernorm", "kv_b_proj", "o_proj"].map((p) => `model.layers.${i}.self_attn.${p}.weight`),
    ];
    expect(layerNames(names, 2)).toEqual([...attn(2), ...["gate_proj", "up_proj", "down_proj"].map((p) => `model.layers.2.mlp.${p}.weight`)].sort());
    expect(layerNames(names, 3)).toEqual([
      ...attn(3),
      "model.layers.3.mlp.gate.weight", "model.layers.3.mlp.gate.e_score_correction_bias",
      ...["gate_proj", "up_proj", "down_proj"].map((p) => `model.layers.3.mlp.shared_experts.${p}.weight`),
      ...range(256).flatMap((j) => ["gate_proj", "up_proj", "down_proj"].map((p) => `model.layers.3.mlp.experts.${j}.${p}.weight`)),
    ].sort());
    // 3 + 3 dense layers × 12 + 58 MoE layers × (9 + 2 + 3 + 768); the MTP layer 61 is not modelled.
    expect(names.length).toBe(3 + 3 * 12 + 58 * 782);
    expect(names.some((n) => n.startsWith("model.layers.61."))).toBe(false);
    const idx = nameIndex(m).fromHf;
    expect(idx.get("model.layers.0.self_attn.q_b_proj.weight")!.shape).toEqual([128 * 192, 1536]);
    expect(idx.get("model.layers.0.self_attn.kv_a_proj_with_mqa.weight")!.shape).toEqual([512 + 64, 7168]);
    expect(idx.get("model.layers.0.self_attn.kv_b_proj.weight")!.shape).toEqual([128 * 256, 512]);
    expect(idx.get("model.layers.0.self_attn.o_proj.weight")!.shape).toEqual([7168, 128 * 128]);
    expect(idx.get("model.layers.0.self_attn.q_a_layernorm.weight")!.moec[0]!.name).toBe("layers.0.self_attn.q_norm");
    expect(idx.get("model.layers.3.mlp.gate.e_score_correction_bias")).toMatchObject({ shape: [256], state: true, moec: [{ name: "layers.3.mlp.r.e_bias" }] });
    expect(idx.get("model.layers.60.mlp.shared_experts.gate_proj.weight")!.shape).toEqual([2048, 7168]);
  });

  it("layer indices follow `repeat … from K`, whatever the stack is called", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "moec-hf-"));
    const file = path.join(dir, "tiny.moe");
    writeFileSync(file, `
layer tiny_moe(x: [T, D], D = 8) {
  experts E[4] = ffn(hidden = 16)
  router r = linear |> softmax |> topk(2) |> renorm
  return moe(x, r, E)
}
model tiny(tokens: [T], V = 10, D = 8) {
  let emb = embed(tokens, vocab = V, dim = D)
  let h = emb
  repeat 2 as blocks from 5 {
    let a = rmsnorm(h)
    let at = attention(a, heads = 2)
    h = h + at
    let b = rmsnorm(h)
    let m = tiny_moe(b)
    h = h + m
  }
  let n = rmsnorm(h)
  let out = lm_head(n, vocab = V)
  return out
}
`);
    const m = hfOf(file, "tiny", "mixtral");
    const idx = nameIndex(m).toHf;
    expect(idx.get("blocks.5.at.wq")!.hf).toBe("model.layers.5.self_attn.q_proj.weight");
    expect(idx.get("blocks.6.m.E.3.w_down")!.hf).toBe("model.layers.6.block_sparse_moe.experts.3.w2.weight");
    expect(idx.get("blocks.6.b.weight")!.hf).toBe("model.layers.6.post_attention_layernorm.weight");
    expect(m.tensors.some((t) => t.hf.startsWith("model.layers.0."))).toBe(false);
  });

  it("says what cannot be placed", () => {
    const dsmoe = entryInfo(["examples/models/deepseek_moe_16b.moe"]).info!;
    expect(() => hfMap(dsmoe.instance, resolveFamily("mixtral"))).toThrow(HfMapError);
    expect(() => hfMap(dsmoe.instance, resolveFamily("mixtral"))).toThrow(/cannot place `layers\.1\.mlp\.S` in a mixtral checkpoint.*no shared experts/);
    expect(() => resolveFamily("gpt2")).toThrow(/unknown Hugging Face family `gpt2`/);
    const layer = entryInfo(["examples/mixtral.moe"]).info!;
    expect(() => hfMap(layer.instance, resolveFamily("mixtral"))).toThrow(/whole models/);
  });

  it("moec info --weights-as hf prints and emits the names", async () => {
    const r = await moec(["info", "examples/models/qwen1_5_moe_a2_7b.moe", "--weights-as", "hf", "--weights"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("weights as Hugging Face qwen2_moe names (4659 tensors");
    expect(r.out).toMatch(/model\.layers\.23\.mlp\.shared_expert\.up_proj\.weight\s+\[5632, 2048\]\s+← layers\.23\.mlp\.S\.0\.w_up/);
    const j = await infoJson(["examples/models/deepseek_moe_16b.moe", "--weights-as", "hf:deepseek"]);
    expect(j.weights_as).toBe("hf:deepseek");
    expect(j.params.total).toBe(16_375_728_128);
    const shared = j.weights.find((w: any) => w.name === "model.layers.2.mlp.shared_experts.down_proj.weight");
    expect(shared).toEqual({ name: "model.layers.2.mlp.shared_experts.down_proj.weight", shape: [2048, 2816], moec: ["layers.2.mlp.S.0.w_down", "layers.2.mlp.S.1.w_down"], concatenated_along: 1 });
    const bad = await moec(["info", "examples/models/deepseek_moe_16b.moe", "--weights-as", "hf:mixtral"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("cannot place");
    expect((await moec(["info", "examples/models/deepseek_moe_16b.moe", "--weights-as", "gguf"])).code).toBe(2);
  });
});
