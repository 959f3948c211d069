// `exportOnnx` against independent answers: each family's tiny model (tests/helpers/tiny-families.ts)
// and a program using every other mapped option, exported with seeded random weights, run by ONNX
// Runtime's CPU kernels (onnxruntime-node) and compared with moec's float64 reference
// (interpretReference) on the same weights; the refusals, each naming its block, with codes.
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { compile } from "../../../../compiler/index.js";
import type { IrProgram } from "../../../../compiler/ir/ir.js";
import { checkOnnxExport, exportOnnx, OnnxExportRefusal, weightBytes } from "../../../../compiler/export/onnx/export-onnx.js";
import { interpretReference } from "../../../../runtime/reference/interpret.js";
import { randomWeights } from "../../../../runtime/weights/random-weights.js";
import { compare } from "../../../helpers/numerics.js";
import { FAMILIES, V, ids } from "../../../helpers/tiny-families.js";
import { FEATURES } from "../../../helpers/onnx-export-programs.js";

function lowered(src: { file?: string; source?: string; set?: Record<string, number> }): IrProgram {
  const c = compile(src);
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

/** ORT's logits [T, V] for `tokens` from the exported bytes. */
async function ortLogits(bytes: Uint8Array, tokens: Int32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    const out = await s.run({ tokens: new ort.Tensor("int64", BigInt64Array.from(tokens, (i) => BigInt(i)), [tokens.length]) });
    expect(out["logits"]!.dims).toEqual([tokens.length, V]);
    return out["logits"]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

/** Logits exported and run by ORT vs the float64 reference on the same weights: max |Δ| and the logits' rms. */
async function check(program: IrProgram, seed: number, tokens = ids): Promise<{ maxAbs: number; rms: number }> {
  const w = randomWeights(program, seed);
  const bytes = exportOnnx(program, (n) => w.get(n)!);
  const got = await ortLogits(bytes, tokens);
  const ref = interpretReference(program, w, new Map([["tokens", tokens]]), tokens.length).get("logits")!;
  const rms = Math.sqrt(ref.reduce((a, v) => a + v * v, 0) / ref.length);
  return { maxAbs: compare(got, ref).maxAbs, rms };
}

describe("moec export onnx: each family's tiny model, run by ONNX Runtime = moec's float64 reference", () => {
  FAMILIES.filter((f) => f.hf.model_type !== "deepseek_v3").forEach((f, i) => {
    it(`${f.name}: max |Δ| < 1e-5 on logits`, async () => {
      const { maxAbs, rms } = await check(lowered(f.moec), 40 + i);
      expect(rms).toBeGreaterThan(0.05); // logits that are not all near zero
      expect(maxAbs).toBeLessThan(1e-5);
    });
  });

  it("one exported model runs at any T (the token count is a symbolic dimension)", async () => {
    const mixtral = FAMILIES.find((f) => f.hf.model_type === "mixtral")!;
    for (const tokens of [Int32Array.of(5), Int32Array.of(1, 2, 3, 4)]) expect((await check(lowered(mixtral.moec), 3, tokens)).maxAbs).toBeLessThan(1e-5);
  });

  it("every other mapped option (window, interleaved rotary, YaRN, layer norm, biases, geglu, gelu, relu experts, topk |> softmax |> scale, shared pools)", async () => {
    const { maxAbs, rms } = await check(lowered({ source: FEATURES }), 11);
    expect(rms).toBeGreaterThan(0.05);
    expect(maxAbs).toBeLessThan(1e-5);
  });
});

describe("refusals: every construct that does not map, named by its block, with a code", () => {
  it("deepseek_v3: MLA (ONNX003) in each layer and sigmoid group routing (ONNX001)", () => {
    const v3 = FAMILIES.find((f) => f.hf.model_type === "deepseek_v3")!;
    const program = lowered(v3.moec);
    const problems = checkOnnxExport(program);
    expect(problems.map((p) => `${p.code} ${p.key}`)).toEqual(["ONNX003 layers.0.self_attn", "ONNX003 layers.1.self_attn", "ONNX001 layers.1.mlp.r"]);
    expect(problems[2]!.message).toMatch(/router `layers\.1\.mlp\.r` \(linear \|> sigmoid \|> bias \|> group_topk \|> renorm \|> scale\): stage `sigmoid`/);
    expect(() => exportOnnx(program, () => new Float32Array())).toThrow(OnnxExportRefusal);
  });

  it("top-p routing, a routed geglu pool, low-rank experts and partial rotary", () => {
    const program = lowered({ source: `layer b(x: [T, D], D = 16) {
  experts E[4] = ffn(hidden = 8, act = geglu)
  router r = linear |> softmax |> topp(0.9)
  experts A[4] = lowrank(rank = 2)
  router q = linear |> softmax |> topk(2)
  return moe(x, r, E) + moe(x, q, A)
}
model m(tokens: [T], V = 16, D = 16) {
  let e = embed(tokens, vocab = V, dim = D)
  let a = attention(e, heads = 2, rope_dim = 4)
  let y = b(e + a)
  let o = lm_head(y, vocab = V)
  return o
}` });
    const problems = checkOnnxExport(program).map((p) => `${p.code} ${p.key}: ${p.message}`);
    expect(problems).toEqual([
      "ONNX004 a: attention `a` rotates 4 of its 8 head values (partial rotary), which the export does not write",
      expect.stringMatching(/^ONNX001 y\.r: router `y\.r` \(linear \|> softmax \|> topp\): stage `topp` has no counterpart/),
      "ONNX002 y.E: pool `y.E` uses act = geglu, which com.microsoft.MoE does not apply",
      "ONNX002 y.A: pool `y.A` has `lowrank` experts; the ONNX export writes feed-forward (ffn) experts only",
    ]);
  });

  it("§11.1 topologies: a per sequence router (ONNX001), agents as experts (ONNX002), peer attention (ONNX003)", () => {
    const ex = (f: string) => path.resolve(__dirname, "../../../../examples", f);
    const seq = checkOnnxExport(lowered({ file: ex("sequence_routing.moe"), set: { D: 16, I: 8 } }));
    expect(seq.map((p) => `${p.code} ${p.key}: ${p.message}`)).toEqual(["ONNX001 r: router `r` routes per sequence (one decision from the mean of the run's rows); com.microsoft.MoE routes each token"]);
    const agents = checkOnnxExport(lowered({ file: ex("topologies/agents_as_experts.moe"), set: { D: 16, I: 8 } }));
    expect(agents.map((p) => `${p.code} ${p.key}`)).toEqual(["ONNX002 A"]);
    const mot = checkOnnxExport(lowered({ file: ex("topologies/mixture_of_thoughts.moe"), set: { D: 16, I: 16, DS: 8, H: 2 } }));
    expect(mot.filter((p) => p.code === "ONNX003").map((p) => p.key)).toEqual(["peers.0", "peers.1"]);
    expect(() => exportOnnx(lowered({ file: ex("topologies/agents_as_experts.moe"), set: { D: 16, I: 8 } }), () => new Float32Array())).toThrow(OnnxExportRefusal);
  });

  it("weights at or above the size limit (2 GiB by default; here a small one) are ONNX005", () => {
    const program = lowered(FAMILIES[0]!.moec);
    // llama tiny: embed 48·32 (tied), per layer 2 norms of 32, q/o 32·32, k/v 16·32, FFN 3·48·32; final norm 32.
    const floats = 48 * 32 + 2 * (2 * 32 + 2 * 32 * 32 + 2 * 16 * 32 + 3 * 48 * 32) + 32;
    expect(weightBytes(program)).toBe(4 * floats);
    expect(checkOnnxExport(program, 4 * floats + 1)).toEqual([]);
    expect(checkOnnxExport(program, 4 * floats).map((p) => p.code)).toEqual(["ONNX005"]);
  });
});
