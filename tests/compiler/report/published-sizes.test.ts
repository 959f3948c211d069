// The five example models against their published sizes (LANGUAGE.md §13: within 0.5% total,
// 2% active), against parameter counts worked out by hand from each published config.json, and
// the §13 programs of LANGUAGE.md (tests/fixtures/contract/section13.moe) giving the same sizes.
import { describe, expect, it } from "vitest";
import { infoJson } from "../../helpers/cli.js";

interface Published {
  file: string;
  entry?: string;
  total: number;
  active: number;
  /** Hand count from the published configuration (below). */
  handTotal: number;
  handActive: number;
}

// ffn(hidden = I) on width D with SwiGLU: w_gate, w_up [I, D] and w_down [D, I].
const ffn = (D: number, I: number) => 3 * D * I;
// attention: wq [H·hd, D], wk/wv [KV·hd, D], wo [D, H·hd].
const attn = (D: number, H: number, KV: number, hd: number) => 2 * D * H * hd + 2 * D * KV * hd;

// Mixtral-8x7B: V 32000, D 4096, 32 layers, 32/8 heads of 128, 8 experts of 14336, top-2.
const mixtral = (() => {
  const D = 4096, V = 32000, L = 32;
  const perLayerFixed = attn(D, 32, 8, 128) + 8 * D /* router */ + 2 * D /* norms */;
  const embedHead = 2 * V * D + D /* final norm */;
  return { total: embedHead + L * (perLayerFixed + 8 * ffn(D, 14336)), active: embedHead + L * (perLayerFixed + 2 * ffn(D, 14336)) };
})();

// DeepSeekMoE-16B: V 102400, D 2048, 28 layers of MHA (16 heads); layer 0 dense (10944);
// layers 1–27: 64 experts of 1408 (top-6) + 2 shared experts of 1408.
const dsmoe = (() => {
  const D = 2048, V = 102400;
  const common = attn(D, 16, 16, 128) + 2 * D;
  const dense = common + ffn(D, 10944);
  const moeFixed = common + 64 * D /* router */ + 2 * ffn(D, 1408) /* shared */;
  const embedHead = 2 * V * D + D;
  return { total: embedHead + dense + 27 * (moeFixed + 64 * ffn(D, 1408)), active: embedHead + dense + 27 * (moeFixed + 6 * ffn(D, 1408)) };
})();

// Qwen1.5-MoE-A2.7B: V 151936, D 2048, 24 layers of MHA (16 heads) with q/k/v biases;
// 60 experts of 1408 (top-4), one shared expert of 5632 with a [1, D] sigmoid gate.
const qwen = (() => {
  const D = 2048, V = 151936;
  const fixed = attn(D, 16, 16, 128) + 3 * D /* biases */ + 2 * D + 60 * D /* router */ + ffn(D, 5632) + D /* shared gate */;
  const embedHead = 2 * V * D + D;
  return { total: embedHead + 24 * (fixed + 60 * ffn(D, 1408)), active: embedHead + 24 * (fixed + 4 * ffn(D, 1408)) };
})();

// OLMoE-1B-7B: V 50304, D 2048, 16 layers of MHA (16 heads) with q/k norms [2048];
// 64 experts of 1024, top-8.
const olmoe = (() => {
  const D = 2048, V = 50304;
  const fixed = attn(D, 16, 16, 128) + 2 * D /* q_norm, k_norm */ + 2 * D + 64 * D;
  const embedHead = 2 * V * D + D;
  return { total: embedHead + 16 * (fixed + 64 * ffn(D, 1024)), active: embedHead + 16 * (fixed + 8 * ffn(D, 1024)) };
})();

// DeepSeek-V3: V 129280, D 7168, 61 layers of MLA (128 heads, q_rank 1536, kv_rank 512, nope 128,
// rope 64, v 128); layers 0–2 dense (18432); layers 3–60: 256 experts of 2048 (top-8) + 1 shared.
const v3 = (() => {
  const D = 7168, V = 129280, H = 128;
  const mla = 1536 * D + 1536 + H * (128 + 64) * 1536 + (512 + 64) * D + 512 + H * (128 + 128) * 512 + D * H * 128;
  const common = mla + 2 * D;
  const dense = common + ffn(D, 18432);
  const moeFixed = common + 256 * D + ffn(D, 2048);
  const embedHead = 2 * V * D + D;
  return { total: embedHead + 3 * dense + 58 * (moeFixed + 256 * ffn(D, 2048)), active: embedHead + 3 * dense + 58 * (moeFixed + 8 * ffn(D, 2048)) };
})();

const MODELS: Published[] = [
  { file: "examples/models/mixtral_8x7b.moe", total: 46.7e9, active: 12.9e9, handTotal: mixtral.total, handActive: mixtral.active },
  { file: "examples/models/deepseek_moe_16b.moe", total: 16.4e9, active: 2.8e9, handTotal: dsmoe.total, handActive: dsmoe.active },
  { file: "examples/models/qwen1_5_moe_a2_7b.moe", total: 14.3e9, active: 2.7e9, handTotal: qwen.total, handActive: qwen.active },
  { file: "examples/models/olmoe_1b_7b.moe", entry: "olmoe_1b_7b", total: 6.9e9, active: 1.3e9, handTotal: olmoe.total, handActive: olmoe.active },
  { file: "examples/models/deepseek_v3.moe", total: 671e9, active: 37e9, handTotal: v3.total, handActive: v3.active },
  { file: "tests/fixtures/contract/section13.moe", entry: "mixtral_8x7b", total: 46.7e9, active: 12.9e9, handTotal: mixtral.total, handActive: mixtral.active },
  { file: "tests/fixtures/contract/section13.moe", entry: "deepseek_moe_16b", total: 16.4e9, active: 2.8e9, handTotal: dsmoe.total, handActive: dsmoe.active },
];

describe("published model sizes", () => {
  it("hand counts written out above are the figures quoted in the example files", () => {
    expect(mixtral).toEqual({ total: 46_702_792_704, active: 12_879_925_248 });
    expect(dsmoe).toEqual({ total: 16_375_728_128, active: 2_828_650_496 });
    expect(qwen).toEqual({ total: 14_315_784_192, active: 2_689_173_504 });
    expect(olmoe).toEqual({ total: 6_919_161_856, active: 1_282_017_280 });
    expect(v3).toEqual({ total: 671_026_404_352, active: 37_552_282_624 });
  });

  for (const m of MODELS) {
    it(`${m.file}${m.entry ? ":" + m.entry : ""}: ${m.total / 1e9}B total, ${m.active / 1e9}B active`, async () => {
      const j = await infoJson([m.file, ...(m.entry ? ["--entry", m.entry] : [])]);
      expect(j.params.total).toBe(m.handTotal);
      expect(j.params.active).toBe(m.handActive);
      expect(Math.abs(j.params.total - m.total) / m.total).toBeLessThanOrEqual(0.005);
      expect(Math.abs(j.params.active - m.active) / m.active).toBeLessThanOrEqual(0.02);
    });
  }
});
