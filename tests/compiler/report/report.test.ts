// `moec info` model report against hand arithmetic: per-category and per-layer breakdowns that
// add up to the totals, attention score/value FLOPs at a context length, KV-cache bytes (GQA, MHA,
// MLA) and weight memory. Every expected number is worked out here from the published configs.
import { describe, expect, it } from "vitest";
import { infoJson, moec } from "../../helpers/cli.js";

const MIXTRAL = "examples/models/mixtral_8x7b.moe";
const V3 = "examples/models/deepseek_v3.moe";
const OLMOE = "examples/models/olmoe_1b_7b.moe";
const DSMOE = "examples/models/deepseek_moe_16b.moe";

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

describe("parameter breakdown", () => {
  it("Mixtral-8x7B by category, by hand", async () => {
    const j = await infoJson([MIXTRAL]);
    const c = j.breakdown.by_category;
    // 32 layers × (wq 4096² + wk 1024·4096 + wv 1024·4096 + wo 4096²) = 32 × 41,943,040.
    expect(c.attention).toEqual({ total: 1_342_177_280, active: 1_342_177_280 });
    // 32 × 8 experts × 3·14336·4096; active: 2 of 8.
    expect(c.experts).toEqual({ total: 45_097_156_608, active: 11_274_289_152 });
    expect(c.router).toEqual({ total: 32 * 8 * 4096, active: 32 * 8 * 4096 });
    expect(c.embedding).toEqual({ total: 32000 * 4096, active: 32000 * 4096 });
    expect(c.lm_head).toEqual({ total: 32000 * 4096, active: 32000 * 4096 });
    expect(c.norm).toEqual({ total: (2 * 32 + 1) * 4096, active: (2 * 32 + 1) * 4096 });
    expect(c.shared).toBeUndefined();
  });

  for (const file of [MIXTRAL, V3, OLMOE, DSMOE, "examples/models/qwen1_5_moe_a2_7b.moe"]) {
    it(`${file}: categories and layers each add up to the totals`, async () => {
      const j = await infoJson([file, ...(file === OLMOE ? ["--entry", "olmoe_1b_7b"] : [])]);
      const cats = Object.values(j.breakdown.by_category) as { total: number; active: number }[];
      expect(sum(cats.map((x) => x.total))).toBe(j.params.total);
      expect(sum(cats.map((x) => x.active))).toBe(j.params.active);
      const parts = j.breakdown.by_part as any[];
      expect(sum(parts.map((p) => p.total))).toBe(j.params.total);
      expect(sum(parts.map((p) => p.active))).toBe(j.params.active);
      expect(sum(parts.map((p) => p.flops_per_token))).toBe(j.flops_per_token);
      for (const p of parts) {
        expect(p.total).toBe(p.each.total * p.copies);
        const inner = Object.values(p.each.by_category) as { total: number; active: number }[];
        expect(sum(inner.map((x) => x.total))).toBe(p.each.total);
      }
    });
  }

  it("DeepSeek-V3 by layer: 3 dense layers and 58 MoE layers, by hand", async () => {
    const j = await infoJson([V3]);
    const parts = j.breakdown.by_part as any[];
    expect(parts.map((p) => [p.name, p.copies])).toEqual([["embed_tokens", 1], ["layers.0–2", 3], ["layers.3–60", 58], ["norm", 1], ["lm_head", 1]]);
    // MLA: wq_a 1536·7168 + q_norm 1536 + wq_b 128·192·1536 + wkv_a 576·7168 + kv_norm 512
    //      + wkv_b 128·256·512 + wo 7168·16384.
    const mla = 11_010_048 + 1536 + 37_748_736 + 4_128_768 + 512 + 16_777_216 + 117_440_512;
    expect(mla).toBe(187_107_328);
    const dense = mla + 2 * 7168 + 3 * 7168 * 18432;
    expect(parts[1].each.total).toBe(dense);
    expect(parts[1].each.by_category.attention.total).toBe(mla);
    const moeLayer = mla + 2 * 7168 + 256 * 7168 + 257 * 3 * 7168 * 2048;
    expect(parts[2].each.total).toBe(moeLayer);
    expect(parts[2].each.active).toBe(mla + 2 * 7168 + 256 * 7168 + 9 * 3 * 7168 * 2048);
    expect(parts[2].each.by_category.shared.total).toBe(3 * 7168 * 2048);
  });

  it("text output keeps its first lines and prints the sections", async () => {
    const r = await moec(["info", MIXTRAL]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/total parameters\s+46,702,792,704\s+46\.7B/);
    expect(r.out).toMatch(/active per token\s+12,879,925,248\s+12\.9B/);
    expect(r.out).toMatch(/FLOPs per token\s+25,497,174,016/);
    expect(r.out).toContain("parameters by category:");
    expect(r.out).toMatch(/layers\.0–31\s+1,451,270,144\s+×32/);
    expect(r.out).toContain("KV cache");
  });
});

describe("attention FLOPs and KV cache", () => {
  it("Mixtral (GQA 32/8, head_dim 128) at the default context 4096 and bf16", async () => {
    const j = await infoJson([MIXTRAL]);
    // Per layer and token: scores 2·H·hd·N = 2·32·128·4096 = 33,554,432; values the same.
    expect(j.attention_flops_per_token).toMatchObject({ context: 4096, score: 32 * 33_554_432, value: 32 * 33_554_432, total: 2_147_483_648 });
    // Per layer: K and V for 8 KV heads of 128 = 2048 elements; 32 layers; 2 bytes each.
    expect(j.kv_cache).toMatchObject({ dtype: "bf16", bytes_per_element: 2, elements_per_token: 65_536, bytes_per_token: 131_072, bytes_at_context: 131_072 * 4096 });
    expect(j.kv_cache.layers).toEqual([{ name: "layers.0–31.self_attn", layers: 32, elements_per_token_per_layer: 2048, bytes_per_token_per_layer: 4096 }]);
    // The weights part of FLOPs is unchanged: 2 × (attention + 2 experts + routers + lm_head) per token.
    expect(j.flops_per_token).toBe(2 * (1_342_177_280 + 11_274_289_152 + 1_048_576 + 131_072_000));
  });

  it("--context and --kv-dtype change only the context-dependent numbers", async () => {
    const j = await infoJson([MIXTRAL, "--context", "32768", "--kv-dtype", "f32"]);
    expect(j.attention_flops_per_token.score).toBe(32 * 2 * 32 * 128 * 32768); // 8,589,934,592
    expect(j.attention_flops_per_token.score).toBe(8_589_934_592);
    expect(j.kv_cache.bytes_per_token).toBe(65_536 * 4);
    expect(j.kv_cache.bytes_at_context).toBe(262_144 * 32768);
    const int8 = await infoJson([MIXTRAL, "--kv-dtype", "int8"]);
    expect(int8.kv_cache.bytes_per_token).toBe(65_536);
  });

  it("DeepSeek-V3 MLA caches kv_rank + rope_dim = 576 elements per layer (70,272 bytes per token in bf16)", async () => {
    const j = await infoJson([V3]);
    expect(j.kv_cache.elements_per_token).toBe(61 * (512 + 64));
    expect(j.kv_cache.bytes_per_token).toBe(70_272);
    // Scores over d_qk = nope + rope = 192, values over d_v = 128, 128 heads, 61 layers, N = 4096.
    expect(j.attention_flops_per_token.score).toBe(61 * 2 * 128 * 192 * 4096); // 12,280,922,112
    expect(j.attention_flops_per_token.value).toBe(61 * 2 * 128 * 128 * 4096); //  8,187,281,408
    expect(j.attention_flops_per_token.total).toBe(20_468_203_520);
    expect(j.attention_flops_per_token.layers.map((l: any) => [l.name, l.layers, l.kind])).toEqual([["layers.0–2.self_attn", 3, "mla"], ["layers.3–60.self_attn", 58, "mla"]]);
  });

  it("OLMoE (MHA, 16 heads of 128) caches 2·16·128 elements per layer", async () => {
    const j = await infoJson([OLMOE, "--entry", "olmoe_1b_7b", "--context", "1000"]);
    expect(j.kv_cache.elements_per_token).toBe(16 * 4096);
    expect(j.attention_flops_per_token.total).toBe(16 * 2 * 2 * 16 * 128 * 1000);
  });

  it("a layer without attention reports no attention FLOPs or cache", async () => {
    const j = await infoJson(["examples/mixtral.moe"]);
    expect(j.attention_flops_per_token.total).toBe(0);
    expect(j.kv_cache.bytes_per_token).toBe(0);
    expect(j.entry).toBe("mixtral_moe");
    expect(j.weights.length).toBe(8 * 3 + 1);
  });
});

describe("weight memory", () => {
  it("Mixtral at f32/f16/bf16/int8/int4", async () => {
    const j = await infoJson([MIXTRAL]);
    const n = 46_702_792_704;
    expect(j.weight_memory_bytes).toEqual({ f32: 4 * n, f16: 2 * n, bf16: 2 * n, int8: n, int4: n / 2 });
  });
  it("Mixtral as --weight-format's device blocks, scales included: 8.5, 4.5 and 8.25 bits a weight", async () => {
    const j = await infoJson([MIXTRAL]);
    const n = 46_702_792_704;
    expect(j.block_memory_bytes).toEqual({ q8_0: (n * 17) / 16, q4_0: (n * 9) / 16, fp8_e4m3: (n * 33) / 32 });
  });
});

describe("usage errors", () => {
  it("rejects a bad --context and an unknown --kv-dtype", async () => {
    expect((await moec(["info", MIXTRAL, "--context", "0"])).code).toBe(2);
    const r = await moec(["info", MIXTRAL, "--kv-dtype", "f64"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--kv-dtype takes one of");
  });
});
