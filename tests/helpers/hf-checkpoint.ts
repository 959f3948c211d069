// Writes tiny Hugging Face checkpoint directories for tests: config.json plus model.safetensors,
// or shards with model.safetensors.index.json, in F32/F16/BF16. The HF names and layouts are typed
// here by hand from transformers' modeling files (modeling_mixtral.py: block_sparse_moe,
// experts.j.w1/w2/w3, gate; DeepSeek's modeling_deepseek.py: mlp.experts.j.*_proj,
// mlp.shared_experts.*_proj with the shared experts concatenated along the hidden units,
// mlp.gate.weight and gate.e_score_correction_bias), independently of compiler/hf.
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { IrProgram } from "../../compiler/ir/ir.js";
import { encodeSafetensors, writeSafetensors, type TensorData } from "../../runtime/safetensors/writer.js";
import { canonicalLayout } from "../../runtime/weights/canonical-layout.js";

export interface HfTensorValues {
  shape: number[];
  data: Float32Array;
}

export type HfTensors = Map<string, HfTensorValues>;

export interface WriteHfOptions {
  dtype?: "F32" | "F16" | "BF16";
  /** Number of shards (1: a single model.safetensors). */
  shards?: number;
  config?: Record<string, unknown>;
}

/** Writes `tensors` as a checkpoint directory; returns the files written. */
export function writeHfCheckpoint(dir: string, tensors: HfTensors, opts: WriteHfOptions = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const dtype = opts.dtype ?? "F32";
  const files: string[] = [];
  if (opts.config) {
    writeFileSync(path.join(dir, "config.json"), JSON.stringify(opts.config, null, 2));
    files.push("config.json");
  }
  const names = [...tensors.keys()];
  const shards = Math.max(1, opts.shards ?? 1);
  const entry = (n: string): TensorData => ({ dtype, shape: tensors.get(n)!.shape, data: tensors.get(n)!.data });
  if (shards === 1) {
    writeFileSync(path.join(dir, "model.safetensors"), encodeSafetensors(Object.fromEntries(names.map((n) => [n, entry(n)])), { format: "pt" }));
    return [...files, "model.safetensors"];
  }
  // As transformers shards: consecutive tensors, `model-0000K-of-0000S.safetensors`.
  const weightMap: Record<string, string> = {};
  const per = Math.ceil(names.length / shards);
  let total = 0;
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, "0")}-of-${String(shards).padStart(5, "0")}.safetensors`;
    const part = names.slice(s * per, (s + 1) * per);
    for (const n of part) {
      weightMap[n] = file;
      total += tensors.get(n)!.data.length * (dtype === "F32" ? 4 : 2);
    }
    writeFileSync(path.join(dir, file), encodeSafetensors(Object.fromEntries(part.map((n) => [n, entry(n)])), { format: "pt" }));
    files.push(file);
  }
  writeFileSync(path.join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
  return [...files, "model.safetensors.index.json"];
}

const get = (w: Map<string, Float32Array>, name: string): Float32Array => {
  const v = w.get(name);
  if (!v) throw new Error(`test helper: canonical weights lack ${name}`);
  return v;
};

/** Attention and norms of one decoder layer, HF names (modeling_llama/mixtral/deepseek share them). */
function decoderCommon(out: HfTensors, w: Map<string, Float32Array>, l: number, D: number, H: number, KV: number): void {
  const hd = D / H;
  const p = `model.layers.${l}.`;
  out.set(`${p}input_layernorm.weight`, { shape: [D], data: get(w, `layers.${l}.input_layernorm.weight`) });
  out.set(`${p}self_attn.q_proj.weight`, { shape: [H * hd, D], data: get(w, `layers.${l}.self_attn.wq`) });
  out.set(`${p}self_attn.k_proj.weight`, { shape: [KV * hd, D], data: get(w, `layers.${l}.self_attn.wk`) });
  out.set(`${p}self_attn.v_proj.weight`, { shape: [KV * hd, D], data: get(w, `layers.${l}.self_attn.wv`) });
  out.set(`${p}self_attn.o_proj.weight`, { shape: [D, H * hd], data: get(w, `layers.${l}.self_attn.wo`) });
  out.set(`${p}post_attention_layernorm.weight`, { shape: [D], data: get(w, `layers.${l}.post_attention_layernorm.weight`) });
}

function topLevel(out: HfTensors, w: Map<string, Float32Array>, V: number, D: number): void {
  out.set("model.embed_tokens.weight", { shape: [V, D], data: get(w, "embed_tokens.weight") });
  out.set("model.norm.weight", { shape: [D], data: get(w, "norm.weight") });
  out.set("lm_head.weight", { shape: [V, D], data: get(w, "lm_head.weight") });
}

/** Expert j of a stacked [N, rows, cols] tensor. */
const expert = (stacked: Float32Array, j: number, rows: number, cols: number) => stacked.slice(j * rows * cols, (j + 1) * rows * cols);

export interface MixtralSizes { V: number; D: number; L: number; H: number; KV: number; N: number; I: number }

/** Canonical weights of examples/models/mixtral_8x7b.moe → Mixtral's HF tensors. */
export function mixtralHfTensors(w: Map<string, Float32Array>, s: MixtralSizes): HfTensors {
  const out: HfTensors = new Map();
  topLevel(out, w, s.V, s.D);
  for (let l = 0; l < s.L; l++) {
    decoderCommon(out, w, l, s.D, s.H, s.KV);
    const m = `layers.${l}.block_sparse_moe.`;
    const p = `model.layers.${l}.block_sparse_moe.`;
    out.set(`${p}gate.weight`, { shape: [s.N, s.D], data: get(w, `${m}r.weight`) });
    for (let j = 0; j < s.N; j++) {
      out.set(`${p}experts.${j}.w1.weight`, { shape: [s.I, s.D], data: expert(get(w, `${m}E.w_gate`), j, s.I, s.D) });
      out.set(`${p}experts.${j}.w3.weight`, { shape: [s.I, s.D], data: expert(get(w, `${m}E.w_up`), j, s.I, s.D) });
      out.set(`${p}experts.${j}.w2.weight`, { shape: [s.D, s.I], data: expert(get(w, `${m}E.w_down`), j, s.D, s.I) });
    }
  }
  return out;
}

export interface DeepseekSizes { V: number; D: number; L: number; H: number; N: number; I: number; S: number }

/**
 * Canonical weights of DEEPSEEK_STYLE_MODEL (below) → DeepSeek's HF tensors: shared experts
 * concatenated (gate/up rows stacked: [S·I, D]; down columns side by side: [D, S·I]).
 */
export function deepseekHfTensors(w: Map<string, Float32Array>, s: DeepseekSizes): HfTensors {
  const out: HfTensors = new Map();
  topLevel(out, w, s.V, s.D);
  for (let l = 0; l < s.L; l++) {
    decoderCommon(out, w, l, s.D, s.H, s.H);
    const m = `layers.${l}.mlp.`;
    const p = `model.layers.${l}.mlp.`;
    out.set(`${p}gate.weight`, { shape: [s.N, s.D], data: get(w, `${m}r.weight`) });
    out.set(`${p}gate.e_score_correction_bias`, { shape: [s.N], data: get(w, `${m}r.e_bias`) });
    for (let j = 0; j < s.N; j++) {
      out.set(`${p}experts.${j}.gate_proj.weight`, { shape: [s.I, s.D], data: expert(get(w, `${m}E.w_gate`), j, s.I, s.D) });
      out.set(`${p}experts.${j}.up_proj.weight`, { shape: [s.I, s.D], data: expert(get(w, `${m}E.w_up`), j, s.I, s.D) });
      out.set(`${p}experts.${j}.down_proj.weight`, { shape: [s.D, s.I], data: expert(get(w, `${m}E.w_down`), j, s.D, s.I) });
    }
    out.set(`${p}shared_experts.gate_proj.weight`, { shape: [s.S * s.I, s.D], data: get(w, `${m}S.w_gate`).slice() });
    out.set(`${p}shared_experts.up_proj.weight`, { shape: [s.S * s.I, s.D], data: get(w, `${m}S.w_up`).slice() });
    const down = get(w, `${m}S.w_down`), cat = new Float32Array(s.D * s.S * s.I);
    for (let e = 0; e < s.S; e++) for (let d = 0; d < s.D; d++) for (let i = 0; i < s.I; i++) cat[d * s.S * s.I + e * s.I + i] = down[(e * s.D + d) * s.I + i]!;
    out.set(`${p}shared_experts.down_proj.weight`, { shape: [s.D, s.S * s.I], data: cat });
  }
  return out;
}

/** A DeepSeek-V3-style model: 2 shared experts, sigmoid routing with the aux-free bias (e_bias). */
export const DEEPSEEK_STYLE_MODEL = `
layer ds_moe(x: [T, D], D = 16, N = 4, I = 8) {
  shared S[2] = ffn(hidden = I)
  experts E[N] = ffn(hidden = I)
  router r = linear |> sigmoid |> bias(aux_free, rate = 0.001) |> topk(2) |> renorm
  return S(x) + moe(x, r, E)
}
model deepseek_tiny(tokens: [T], V = 32, D = 16, L = 2, H = 4, N = 4, I = 8) {
  let embed_tokens = embed(tokens, vocab = V, dim = D)
  let h = embed_tokens
  repeat L as layers {
    let input_layernorm = rmsnorm(h)
    let self_attn = attention(input_layernorm, heads = H)
    h = h + self_attn
    let post_attention_layernorm = rmsnorm(h)
    let mlp = ds_moe(post_attention_layernorm, D = D, N = N, I = I)
    h = h + mlp
  }
  let norm = rmsnorm(h)
  let lm_head = lm_head(norm, vocab = V)
  return lm_head
}
`;

/** bf16 of an f32, round to nearest even, written out here rather than taken from the writer. */
export function bf16Round(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  const r = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  return new Float32Array(new Uint32Array([r >>> 0]).buffer)[0]!;
}

/** Canonical weights as one moec-named safetensors file with canonical (stacked) shapes. */
export function writeCanonicalFile(file: string, program: IrProgram, weights: Map<string, Float32Array>, round = (x: number) => x): string {
  const layout = canonicalLayout(program);
  const shapes = new Map([...layout.tensors, ...layout.poolTensors].map((t) => [t.name, t.shape]));
  writeSafetensors(file, Object.fromEntries([...weights].map(([k, v]) => [k, { dtype: "F32" as const, shape: shapes.get(k)!, data: Float32Array.from(v, round) }])));
  return file;
}
