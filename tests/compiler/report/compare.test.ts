// `moec info --compare`: one column per model, the same numbers as each model's own report.
import { describe, expect, it } from "vitest";
import { moec } from "../../helpers/cli.js";

describe("moec info --compare", () => {
  it("puts models side by side in text", async () => {
    const r = await moec(["info", "--compare", "examples/models/mixtral_8x7b.moe", "examples/models/deepseek_v3.moe", "tests/fixtures/contract/section13.moe:deepseek_moe_16b"]);
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toMatch(/mixtral_8x7b\s+deepseek_v3\s+deepseek_moe_16b$/);
    expect(lines.find((l) => l.startsWith("total parameters"))).toMatch(/46\.7B\s+671B\s+16\.4B$/);
    expect(lines.find((l) => l.startsWith("experts per token"))).toMatch(/2\s+8\s+6$/);
    expect(lines.find((l) => l.startsWith("shared experts"))).toMatch(/–\s+1 × ffn\(2048\)\s+2 × ffn\(1408\)$/);
    // KV cache per token in bf16: Mixtral 32·2·8·128·2 B = 128 KiB; V3 61·576·2 B = 70,272 B = 68.6 KiB.
    expect(lines.find((l) => l.startsWith("KV cache per token (bf16)"))).toMatch(/128 KiB\s+68\.6 KiB/);
    expect(r.out).toMatch(/deepseek_v3\s+671,026,404,352 \/ 37,552,282,624/);
  });

  it("gives the full reports as JSON", async () => {
    const r = await moec(["info", "--compare", "examples/models/olmoe_1b_7b.moe", "examples/models/qwen1_5_moe_a2_7b.moe", "--context", "2048", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.context).toBe(2048);
    expect(j.models.map((m: any) => [m.entry, m.params.total, m.params.active])).toEqual([
      ["olmoe_1b_7b", 6_919_161_856, 1_282_017_280],
      ["qwen1_5_moe_a2_7b", 14_315_784_192, 2_689_173_504],
    ]);
    // Qwen: 24 layers × 2·16·128 KV elements × 2 bytes.
    expect(j.models[1].kv_cache.bytes_per_token).toBe(24 * 4096 * 2);
    expect(j.models[1].attention_flops_per_token.total).toBe(24 * 2 * 2 * 16 * 128 * 2048);
  });

  it("reports errors in any model and rejects misuse", async () => {
    const r = await moec(["info", "--compare", "examples/models/mixtral_8x7b.moe", "examples/models/deepseek_v3.moe:nope"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("no layer, model or graph named `nope`");
    expect((await moec(["info", "--compare", "examples/models/mixtral_8x7b.moe"])).code).toBe(2);
    expect((await moec(["info", "--compare", "a.moe", "b.moe", "--set", "D=8"])).code).toBe(2);
  });
});
