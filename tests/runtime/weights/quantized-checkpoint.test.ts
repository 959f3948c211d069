// GPTQ, AWQ and FP8 checkpoint directories written by this test (a tiny Llama, every linear layer
// quantized and packed by tests/helpers/quant-packers.ts) load through the family map, give each
// weight exactly its dequantized value (computed here from the integers and scales the test chose)
// and the float64 reference's logits on those weights; bad settings and parts are named.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { hfCheckpointNames } from "../../../compiler/hf/checkpoint-names.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { f16BitsToF32, f32ToF16Bits } from "../../../runtime/safetensors/dtype.js";
import type { TensorData } from "../../../runtime/safetensors/writer.js";
import { loadCheckpointDir } from "../../../runtime/weights/load-checkpoint.js";
import { writeSafetensors } from "../../../runtime/safetensors/writer.js";
import { hfWeights, type HfWeights } from "../../helpers/hf-layout.js";
import { canonicalFromHf } from "../../helpers/hf-to-moec.js";
import { compare } from "../../helpers/numerics.js";
import { e4m3, nearestE4m3, packAwq, packGptq } from "../../helpers/quant-packers.js";
import { FAMILIES, T, ids } from "../../helpers/tiny-families.js";

const root = mkdtempSync(path.join(tmpdir(), "moec-quantized-ckpt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const llama = FAMILIES.find((f) => f.hf.model_type === "llama")!;
const c = compile(llama.moec);
if (!c.ok) throw new Error(c.formatDiagnostics());
const names = hfCheckpointNames(c.info!.instance, c.info!.name, { family: "llama" });
const LINEAR = /self_attn\.[qkvo]_proj\.weight$|mlp\.(gate|up|down)_proj\.weight$/;
const f16 = (x: number) => f16BitsToF32(f32ToF16Bits(x));
const GS = 16;

/** Writes config.json (with its quantization_config) and model.safetensors. */
function writeDir(name: string, quantization: Record<string, unknown>, tensors: Map<string, TensorData>): string {
  const dir = path.join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ...llama.hf, quantization_config: quantization }));
  writeSafetensors(path.join(dir, "model.safetensors"), tensors);
  return dir;
}

/** Asymmetric 4-bit quantization of W [N, K] by the groups `groupOf(k)`: integers, zeros, f16 scales and the dequantized W. */
function int4(w: Float32Array, N: number, K: number, groups: number, groupOf: (k: number) => number, minZero: number) {
  const q = [...Array(K)].map(() => new Array<number>(N).fill(0));
  const z = [...Array(groups)].map(() => new Array<number>(N).fill(0));
  const s = [...Array(groups)].map(() => new Array<number>(N).fill(0));
  const deq = new Float32Array(N * K);
  for (let g = 0; g < groups; g++) {
    const ks = [...Array(K).keys()].filter((k) => groupOf(k) === g);
    for (let n = 0; n < N; n++) {
      const v = ks.map((k) => w[n * K + k]!);
      const lo = Math.min(0, ...v), hi = Math.max(0, ...v);
      const scale = f16((hi - lo) / 15 || 1);
      const zero = Math.max(minZero, Math.min(15, Math.round(-lo / scale)));
      s[g]![n] = scale;
      z[g]![n] = zero;
      for (const k of ks) {
        const qi = Math.max(0, Math.min(15, Math.round(w[n * K + k]! / scale) + zero));
        q[k]![n] = qi;
        deq[n * K + k] = scale * (qi - zero);
      }
    }
  }
  return { q, z, s, deq };
}

type Built = { tensors: Map<string, TensorData>; expected: HfWeights };

/** `fp8Block`: the FP8 weight_block_size (default [16, 24]). */
function build(method: "gptq" | "awq" | "fp8", w: HfWeights, fp8Block: [number, number] = [16, 24]): Built {
  const tensors = new Map<string, TensorData>();
  const expected: HfWeights = new Map();
  for (const [name, t] of w) {
    if (!LINEAR.test(name)) {
      tensors.set(name, { dtype: "F32", shape: t.shape, data: t.data });
      expected.set(name, t);
      continue;
    }
    const [N, K] = t.shape as [number, number];
    const prefix = name.replace(/\.weight$/, "");
    if (method === "fp8") {
      // weight_block_size [16, 24]: K = 32 or 48 gives a partial last block column for K = 32.
      const [br, bc] = fp8Block, sr = Math.ceil(N / br), sc = Math.ceil(K / bc);
      const scales = new Float32Array(sr * sc), bytes = new Uint8Array(N * K), deq = new Float32Array(N * K);
      for (let i = 0; i < sr; i++) for (let j = 0; j < sc; j++) {
        let amax = 0;
        for (let r = i * br; r < Math.min(N, (i + 1) * br); r++) for (let k = j * bc; k < Math.min(K, (j + 1) * bc); k++) amax = Math.max(amax, Math.abs(t.data[r * K + k]!));
        scales[i * sc + j] = amax / 448;
      }
      for (let r = 0; r < N; r++) for (let k = 0; k < K; k++) {
        const s = scales[Math.floor(r / br) * sc + Math.floor(k / bc)]!;
        bytes[r * K + k] = nearestE4m3(t.data[r * K + k]! / s);
        deq[r * K + k] = Math.fround(e4m3(bytes[r * K + k]!) * s);
      }
      tensors.set(name, { dtype: "F8_E4M3", shape: [N, K], bytes });
      tensors.set(`${name}_scale_inv`, { dtype: "F32", shape: [sr, sc], data: scales });
      expected.set(name, { shape: t.shape, data: deq });
      continue;
    }
    const groups = K / GS;
    // GPTQ with act-order: input k belongs to group (5k mod K) / GS, so g_idx is not k / GS.
    const groupOf = method === "gptq" ? (k: number) => Math.floor(((5 * k) % K) / GS) : (k: number) => Math.floor(k / GS);
    const { q, z, s, deq } = int4(t.data, N, K, groups, groupOf, method === "gptq" ? 1 : 0);
    if (method === "gptq") {
      const { qweight, qzeros } = packGptq(q, z);
      tensors.set(`${prefix}.qweight`, { dtype: "I32", shape: [K / 8, N], data: qweight });
      tensors.set(`${prefix}.qzeros`, { dtype: "I32", shape: [groups, N / 8], data: qzeros });
      tensors.set(`${prefix}.g_idx`, { dtype: "I32", shape: [K], data: Int32Array.from({ length: K }, (_, k) => groupOf(k)) });
    } else {
      tensors.set(`${prefix}.qweight`, { dtype: "I32", shape: [K, N / 8], data: packAwq(q) });
      tensors.set(`${prefix}.qzeros`, { dtype: "I32", shape: [groups, N / 8], data: packAwq(z) });
    }
    tensors.set(`${prefix}.scales`, { dtype: "F16", shape: [groups, N], data: Float32Array.from(s.flat()) });
    expected.set(name, { shape: t.shape, data: deq });
  }
  return { tensors, expected };
}

const CONFIGS = {
  gptq: { quant_method: "gptq", bits: 4, group_size: GS, desc_act: true, sym: false, checkpoint_format: "gptq" },
  awq: { quant_method: "awq", bits: 4, group_size: GS, zero_point: true, version: "gemm" },
  fp8: { quant_method: "fp8", fmt: "e4m3", activation_scheme: "dynamic", weight_block_size: [16, 24] },
} as const;

describe("quantized checkpoint directories", () => {
  (["gptq", "awq", "fp8"] as const).forEach((method, i) => {
    it(`${method}: every weight is its dequantized value, and the logits are the reference's on them`, () => {
      const w = hfWeights(llama.hf, 700 + i);
      const { tensors, expected } = build(method, w);
      const dir = writeDir(method, CONFIGS[method], tensors);
      const loaded = loadCheckpointDir(c.program!, dir, { names, forceNames: true });
      if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join("\n"));
      expect(loaded.unused).toEqual([]);
      const want = canonicalFromHf(c.program!, c.info!.instance, "llama", expected);
      for (const [name, v] of want) expect(Array.from(loaded.weights.get(name)!), name).toEqual(Array.from(v));
      const got = interpretReference(c.program!, loaded.weights, new Map([["tokens", ids]]), T).get("logits")!;
      const ref = interpretReference(c.program!, want, new Map([["tokens", ids]]), T).get("logits")!;
      expect(compare(got, ref).maxAbs).toBeLessThan(1e-12);
    });
  });

  const errorsOf = (quantization: Record<string, unknown>, edit: (t: Map<string, TensorData>) => void = () => {}, method: "gptq" | "fp8" = "gptq") => {
    const { tensors } = build(method, hfWeights(llama.hf, 1));
    edit(tensors);
    const r = loadCheckpointDir(c.program!, writeDir("bad", quantization, tensors), { names, forceNames: true });
    return r.ok ? [] : r.errors.map((e) => e.message);
  };
  const Q = "model.layers.0.self_attn.q_proj";

  it("names the quantization_config field it cannot honour", () => {
    expect(errorsOf({ ...CONFIGS.gptq, bits: 8 })).toEqual([expect.stringMatching(/config\.json: quantization_config\.bits is 8; moec reads 4-bit gptq weights only/)]);
    expect(errorsOf({ quant_method: "bitsandbytes" })).toEqual([expect.stringMatching(/quantization_config\.quant_method "bitsandbytes" cannot be read: moec reads gptq, awq, fp8/)]);
    expect(errorsOf({ ...CONFIGS.gptq, checkpoint_format: "marlin" })).toEqual([expect.stringMatching(/checkpoint_format "marlin"/)]);
    expect(errorsOf({ ...CONFIGS.fp8, weight_block_size: [128] }, () => {}, "fp8")).toEqual([expect.stringMatching(/weight_block_size must be \[rows, cols\]/)]);
  });

  it("names a missing part, a mis-shaped part and a g_idx outside the groups", () => {
    expect(errorsOf(CONFIGS.gptq, (t) => t.delete(`${Q}.qzeros`))).toEqual([expect.stringMatching(new RegExp(`${Q.replace(/\./g, "\\.")}\\.qweight has no ${Q.replace(/\./g, "\\.")}\\.qzeros beside it`))]);
    expect(errorsOf(CONFIGS.gptq, (t) => t.set(`${Q}.scales`, { dtype: "F16", shape: [3, 32], data: new Float32Array(96) }))).toEqual([expect.stringMatching(/does not fit gptq's layout at group_size 16: .*scales \[3, 32\] \(expected \[2, 32\]\)/)]);
    expect(errorsOf(CONFIGS.gptq, (t) => t.set(`${Q}.g_idx`, { dtype: "I32", shape: [32], data: Int32Array.from({ length: 32 }, (_, k) => (k === 7 ? 9 : 0)) }))).toEqual([expect.stringMatching(/g_idx\[7\] = 9 is not a group \(0…1\)/)]);
    expect(errorsOf(CONFIGS.fp8, (t) => t.delete(`${Q}.weight_scale_inv`), "fp8")).toEqual([expect.stringMatching(/q_proj\.weight is F8_E4M3 but has no .*q_proj\.weight_scale_inv beside it/)]);
  });

  it("fp8 with 128-column blocks: each linear weight keeps its own bytes and per-row scales for the device (fp8Rows); other column blocks keep none", () => {
    const { tensors } = build("fp8", hfWeights(llama.hf, 5), [16, 128]);
    const loaded = loadCheckpointDir(c.program!, writeDir("fp8-rows", { ...CONFIGS.fp8, weight_block_size: [16, 128] }, tensors), { names, forceNames: true });
    if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join("\n"));
    // q_proj [32, 32]: two row blocks of 16, one (partial) column block: row r's scale is block row ⌊r/16⌋'s.
    const rows = loaded.weights.fp8Rows("layers.0.self_attn.wq")!;
    expect([rows.rows, rows.cols]).toEqual([32, 32]);
    expect(Array.from(rows.bytes)).toEqual(Array.from(tensors.get(`${Q}.weight`)!.bytes!));
    const blockScales = tensors.get(`${Q}.weight_scale_inv`)!.data!;
    expect(Array.from(rows.rowScales)).toEqual(Array.from({ length: 32 }, (_, r) => blockScales[Math.floor(r / 16)]));
    // The dense FFN's up projection [48, 32] (its pool's canonical w_up, the checkpoint's rows in order).
    const upRows = loaded.weights.fp8Rows("layers.1.mlp.w_up");
    expect(upRows && Array.from(upRows.bytes)).toEqual(Array.from(tensors.get("model.layers.1.mlp.up_proj.weight")!.bytes!));
    // Its down projection [32, 48] (canonical w_down [1, 32, 48]: one expert, rows in order).
    const downRows = loaded.weights.fp8Rows("layers.1.mlp.w_down");
    expect(downRows && Array.from(downRows.bytes)).toEqual(Array.from(tensors.get("model.layers.1.mlp.down_proj.weight")!.bytes!));
    // Not FP8 in the checkpoint: none.
    expect(loaded.weights.fp8Rows("embed_tokens.weight")).toBeUndefined();
    const other = loadCheckpointDir(c.program!, writeDir("fp8-24", CONFIGS.fp8, build("fp8", hfWeights(llama.hf, 5)).tensors), { names, forceNames: true });
    if (!other.ok) throw new Error(other.errors.map((e) => e.message).join("\n"));
    expect(other.weights.fp8Rows("layers.0.self_attn.wq")).toBeUndefined();
  });
});
