// GGUF loading and `moec quantize`'s writer on tiny checkpoints of several families: a Hugging
// Face directory (tests/helpers/hf-layout.ts) quantized to a GGUF, read back through the family
// map, gives the float64 reference's logits of the same program on the checkpoint's weights
// quantized by the block codec directly (the test's own rule for which tensor is which type, the
// test's own HF → moec placement) — so names, expert stacking, dims order and the q/k rotary
// permutation are all checked against an independent path. The permutation's file layout is
// checked against a hand-derived row order.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../../../compiler/index.js";
import { hfCheckpointNames } from "../../../../compiler/hf/checkpoint-names.js";
import { importHfConfig } from "../../../../compiler/hf/import/import-config.js";
import { interpretReference } from "../../../../runtime/reference/interpret.js";
import { f16BitsToF32, f32ToF16Bits } from "../../../../runtime/safetensors/dtype.js";
import { openGguf } from "../../../../runtime/weights/gguf/gguf-file.js";
import { GgufError } from "../../../../runtime/weights/gguf/gguf-error.js";
import { writeGguf, type GgufValue } from "../../../../runtime/weights/gguf/gguf-writer.js";
import { ggufAsCheckpoint, loadGgufFile } from "../../../../runtime/weights/gguf/load-gguf.js";
import { quantizeCheckpointDir, type QuantTarget } from "../../../../runtime/weights/gguf/quantize-checkpoint.js";
import { decodeQ4_0, encodeQ4_0 } from "../../../../runtime/weights/quant/q4_0.js";
import { decodeQ4K, encodeQ4K } from "../../../../runtime/weights/quant/q4_k.js";
import { decodeQ8_0, encodeQ8_0 } from "../../../../runtime/weights/quant/q8_0.js";
import { hfWeights, writeHfCheckpoint, type HfWeights } from "../../../helpers/hf-layout.js";
import { canonicalFromHf } from "../../../helpers/hf-to-moec.js";
import { compare } from "../../../helpers/numerics.js";
import { FAMILIES, T, V, ids, type Family } from "../../../helpers/tiny-families.js";

const root = mkdtempSync(path.join(tmpdir(), "moec-load-gguf-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What `moec quantize` promises per tensor, applied to the HF values directly: vectors and
 *  router gates exact, matrices with rows of whole blocks (32, Q4_K 256) through the block codec, others f16. */
function quantizedAsPromised(w: HfWeights, to: QuantTarget): HfWeights {
  const block = to === "q4_k" ? 256 : 32;
  const codec = (x: Float32Array) => (to === "q8_0" ? decodeQ8_0(encodeQ8_0(x), x.length) : to === "q4_0" ? decodeQ4_0(encodeQ4_0(x), x.length) : decodeQ4K(encodeQ4K(x), x.length));
  const out: HfWeights = new Map();
  for (const [name, t] of w) {
    let data = t.data;
    const router = /\.gate\.weight$|shared_expert_gate\.weight$/.test(name);
    if (t.shape.length >= 2 && !router) {
      if (t.shape[t.shape.length - 1]! % block === 0) data = codec(t.data);
      else data = t.data.map((x) => f16BitsToF32(f32ToF16Bits(x)));
    }
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

async function importProgram(dir: string) {
  const imported = await importHfConfig(readFileSync(path.join(dir, "config.json"), "utf8"), "config.json");
  const c = compile({ source: imported.text, file: path.join(dir, "imported.moe") });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return { c, family: imported.family };
}

// Q4_K's super-blocks are 256 values: its case widens the Llama to hidden_size 256.
const CASES: [string, QuantTarget, Record<string, number>?][] = [["mixtral", "q8_0"], ["qwen2_moe", "q8_0"], ["olmoe", "q4_0"], ["llama", "q8_0"], ["llama", "q4_k", { hidden_size: 256 }]];

describe("a quantized GGUF loads through the family map and gives the reference logits of its dequantized weights", () => {
  CASES.forEach(([modelType, to, sizes], i) => {
    it(`${modelType} → ${to}`, async () => {
      const base: Family = FAMILIES.find((x) => x.hf.model_type === modelType)!;
      const f: Family = { ...base, hf: { ...base.hf, ...sizes } };
      const dir = path.join(root, `${modelType}-${to}`);
      const w = hfWeights(f.hf, 500 + i);
      writeHfCheckpoint(dir, f.hf, w);
      const out = path.join(root, `${modelType}-${to}.gguf`);
      const q = quantizeCheckpointDir(dir, out, to);
      if (!q.ok) throw new Error(q.errors.map((e) => e.message).join("\n"));
      expect(q.tensors.some((t) => t.type === to.toUpperCase())).toBe(true);

      const { c, family } = await importProgram(dir);
      const names = hfCheckpointNames(c.info!.instance, c.info!.name, { family });
      const loaded = await loadGgufFile(c.program!, out, { names, forceNames: true });
      if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join("\n"));
      expect(loaded.unused).toEqual([]);
      const got = interpretReference(c.program!, loaded.weights, new Map([["tokens", ids]]), T).get("logits")!;
      const want = interpretReference(c.program!, canonicalFromHf(c.program!, c.info!.instance, f.map, quantizedAsPromised(w, to)), new Map([["tokens", ids]]), T).get("logits")!;
      expect(got.length).toBe(T * V);
      expect(compare(got, want).maxAbs).toBeLessThan(1e-9);
      // …and the quantization error against the f32 checkpoint is visible but small.
      const exact = interpretReference(c.program!, canonicalFromHf(c.program!, c.info!.instance, f.map, w), new Map([["tokens", ids]]), T).get("logits")!;
      const err = compare(got, exact).maxAbs, scale = Math.max(...Array.from(exact, Math.abs));
      expect(err).toBeGreaterThan(0);
      // Measured: q8_0 1.1–1.6% of the largest logit on these tiny random models, q4_0 24%,
      // q4_k 37% (the D = 256 Llama; per value Q4_K's RMS error is 0.080 of a unit normal's, Q4_0's 0.086).
      expect(err / scale).toBeLessThan(to === "q8_0" ? 0.03 : 0.5);
    });
  });
});

describe("llama.cpp's q/k rotary permutation", () => {
  it("stores HF row j·hd/2 + i of each head at row 2i + j (hd = 8: rows 0,4,1,5,2,6,3,7), and reads it back", async () => {
    const f = FAMILIES.find((x) => x.hf.model_type === "mixtral")!; // H = 4, KV = 2, D = 32: hd = 8
    const w = hfWeights(f.hf, 9);
    const q = w.get("model.layers.0.self_attn.q_proj.weight")!, k = w.get("model.layers.0.self_attn.k_proj.weight")!;
    // Row r holds the value r + 1 in every column, so each stored row says which HF row it is.
    for (const t of [q, k]) for (let r = 0; r < t.shape[0]!; r++) t.data.fill(r + 1, r * 32, (r + 1) * 32);
    const dir = path.join(root, "permute");
    writeHfCheckpoint(dir, f.hf, w);
    const out = path.join(root, "permute.gguf");
    expect(quantizeCheckpointDir(dir, out, "q8_0").ok).toBe(true);
    const file = await openGguf(out);
    const rowsOf = (name: string) => {
      const t = file.tensors.get(name)!;
      const v = file.readF32(t);
      return [...Array(t.shape[0]!).keys()].map((r) => Math.round(v[r * 32]!) - 1);
    };
    const head = [0, 4, 1, 5, 2, 6, 3, 7];
    expect(rowsOf("blk.0.attn_q.weight")).toEqual([0, 1, 2, 3].flatMap((h) => head.map((r) => 8 * h + r)));
    expect(rowsOf("blk.0.attn_k.weight")).toEqual([0, 1].flatMap((h) => head.map((r) => 8 * h + r)));
    // Un-permuted on reading: the HF rows in order.
    const { c, family } = await importProgram(dir);
    const loaded = await loadGgufFile(c.program!, out, { names: hfCheckpointNames(c.info!.instance, c.info!.name, { family }), forceNames: true });
    if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join("\n"));
    const wq = loaded.weights.get("layers.0.self_attn.wq")!;
    expect([...Array(16).keys()].map((r) => Math.round(wq[r * 32]!))).toEqual([...Array(16).keys()].map((r) => r + 1));
  });

  it("an expert-stacked GGUF tensor is ne = [cols, rows, experts] and each expert reads its own blocks", async () => {
    const file = await openGguf(path.join(root, "mixtral-q8_0.gguf"));
    const t = file.tensors.get("blk.1.ffn_up_exps.weight")!;
    expect(t.shape).toEqual([4, 16, 32]); // 4 experts of w3 [I = 16, D = 32]
    const w = hfWeights(FAMILIES.find((x) => x.hf.model_type === "mixtral")!.hf, 500);
    const e2 = w.get("model.layers.1.block_sparse_moe.experts.2.w3.weight")!.data;
    const got = file.readF32(t, 2 * 16 * 32, 16 * 32);
    expect(Array.from(got)).toEqual(Array.from(decodeQ8_0(encodeQ8_0(e2), e2.length)));
  });
});

describe("GGUF files moec cannot read as a checkpoint name why", () => {
  const write = (name: string, meta: [string, GgufValue][], tensors: { name: string; shape: number[] }[]) => {
    const p = path.join(root, name);
    writeGguf(p, new Map(meta), tensors.map((t) => ({ ...t, type: 0, encode: () => new Uint8Array(4 * t.shape.reduce((a, d) => a * d, 1)) })));
    return p;
  };
  const errorOf = async (p: string) => (await openGguf(p).then(ggufAsCheckpoint).then(() => undefined, (e: unknown) => e)) as Error;
  it("an architecture without a layout, or none at all", async () => {
    expect((await errorOf(write("ds.gguf", [["general.architecture", { type: "string", value: "deepseek2" }]], []))).message).toMatch(/general\.architecture is "deepseek2" \(DeepSeek's MLA tensors .*\); moec reads GGUF files of architectures llama, qwen2/);
    expect((await errorOf(write("none.gguf", [], []))).message).toMatch(/no general\.architecture in its metadata/);
  });
  it("a permuted q projection without the head count it was permuted by, or one it cannot split", async () => {
    const q = [{ name: "blk.0.attn_q.weight", shape: [12, 32] }];
    const e1 = await errorOf(write("noheads.gguf", [["general.architecture", { type: "string", value: "llama" }]], q));
    expect(e1).toBeInstanceOf(GgufError);
    expect(e1.message).toMatch(/tensor blk\.0\.attn_q\.weight is stored in llama\.cpp's permuted rotary order, which needs llama\.attention\.head_count \(a positive integer\); found nothing/);
    const e2 = await errorOf(write("oddheads.gguf", [["general.architecture", { type: "string", value: "llama" }], ["llama.attention.head_count", { type: "u32", value: 4 }]], q));
    expect(e2.message).toMatch(/has 12 rows, which llama\.attention\.head_count = 4 heads cannot split into heads of whole rotary pairs/);
  });
});
