// A Hugging Face checkpoint directory → a GGUF file in one block format (`moec quantize`), laid
// out as llama.cpp's converter lays it out: GGUF names (gguf-names.ts), routed experts stacked
// into one [E, rows, cols] tensor per projection, llama-architecture q/k rows permuted to
// interleaved rotary pairs, and the architecture's metadata keys from config.json (sizes, heads,
// rope base, norm epsilon, experts). Matrices whose rows are whole blocks are quantized;
// vectors (norms, biases) and router gates stay F32 as llama.cpp keeps them; a matrix whose rows
// are not whole blocks falls back to F16 (as llama.cpp falls back) and is reported.
// Tensors are read, converted and encoded one at a time while the file is written.

import { decodeFloats, encodeFloats, isFloatDtype } from "../../safetensors/dtype.js";
import type { LazySafetensorsTensor } from "../../safetensors/reader.js";
import type { BindError } from "../bind-messages.js";
import { openCheckpointDir } from "../checkpoint-dir.js";
import { GGML_F16, GGML_F32, GGML_Q4_0, GGML_Q4_K, GGML_Q8_0, ggmlBytes, ggmlType } from "../quant/ggml-types.js";
import { encodeQ4_0 } from "../quant/q4_0.js";
import { encodeQ4K } from "../quant/q4_k.js";
import { encodeQ8_0 } from "../quant/q8_0.js";
import { GgufError } from "./gguf-error.js";
import { ggufArchitectureForModelType, GGUF_ARCHITECTURES, hfToGguf, permuteRotaryRows, type GgufArchitecture } from "./gguf-names.js";
import { writeGguf, type GgufTensorToWrite, type GgufValue } from "./gguf-writer.js";

export const QUANT_TARGETS = ["q8_0", "q4_0", "q4_k"] as const;
export type QuantTarget = (typeof QUANT_TARGETS)[number];

const TARGET: Record<QuantTarget, { type: number; encode: (x: Float32Array) => Uint8Array; fileType: number }> = {
  // general.file_type is llama.cpp's llama_ftype: MOSTLY_Q8_0 = 7, MOSTLY_Q4_0 = 2, MOSTLY_Q4_K_S = 14.
  q8_0: { type: GGML_Q8_0, encode: encodeQ8_0, fileType: 7 },
  q4_0: { type: GGML_Q4_0, encode: encodeQ4_0, fileType: 2 },
  q4_k: { type: GGML_Q4_K, encode: encodeQ4K, fileType: 14 },
};

export interface QuantizedTensor {
  name: string;
  shape: number[];
  type: string;
  bytes: number;
}

export type QuantizeResult =
  | { ok: true; architecture: string; tensors: QuantizedTensor[]; fallbacks: string[]; sourceBytes: number }
  | { ok: false; errors: BindError[] };

const numel = (s: readonly number[]) => s.reduce((a, d) => a * d, 1);
const f32Of = (t: LazySafetensorsTensor) => decodeFloats(t.dtype as "F32" | "F16" | "BF16", t.read());
const f32Bytes = (v: Float32Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/** The architecture's metadata keys llama.cpp reads, from config.json (absent fields are left out). */
function architectureMetadata(a: GgufArchitecture, config: Record<string, unknown>, to: QuantTarget, name: string): Map<string, GgufValue> {
  const m = new Map<string, GgufValue>([
    ["general.architecture", { type: "string", value: a.name }],
    ["general.name", { type: "string", value: name }],
    ["general.file_type", { type: "u32", value: TARGET[to].fileType }],
    ["general.quantization_version", { type: "u32", value: 2 }],
    ["general.alignment", { type: "u32", value: 32 }],
  ]);
  const int = (key: string, ...fields: string[]) => {
    const v = fields.map((f) => config[f]).find((x) => typeof x === "number" && Number.isInteger(x) && x >= 0);
    if (v !== undefined) m.set(`${a.name}.${key}`, { type: "u32", value: v as number });
  };
  const real = (key: string, field: string) => {
    const v = config[field];
    if (typeof v === "number" && Number.isFinite(v)) m.set(`${a.name}.${key}`, { type: "f32", value: v });
  };
  int("context_length", "max_position_embeddings");
  int("embedding_length", "hidden_size");
  int("block_count", "num_hidden_layers");
  int("feed_forward_length", "intermediate_size");
  int("attention.head_count", "num_attention_heads");
  int("attention.head_count_kv", "num_key_value_heads", "num_attention_heads");
  int("attention.key_length", "head_dim");
  int("attention.value_length", "head_dim");
  int("vocab_size", "vocab_size");
  int("expert_count", "num_local_experts", "num_experts");
  int("expert_used_count", "num_experts_per_tok");
  int("expert_feed_forward_length", "moe_intermediate_size");
  int("expert_shared_feed_forward_length", "shared_expert_intermediate_size");
  real("rope.freq_base", "rope_theta");
  real("attention.layer_norm_rms_epsilon", "rms_norm_eps");
  return m;
}

/** The heads a q/k projection is permuted by (config.json), or a problem naming the field. */
function headsOf(config: Record<string, unknown>, which: "q" | "k", label: string): number | string {
  const q = config["num_attention_heads"], kv = config["num_key_value_heads"] ?? q;
  const v = which === "q" ? q : kv;
  const field = which === "q" || config["num_key_value_heads"] === undefined ? "num_attention_heads" : "num_key_value_heads";
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) return `${label}/config.json: ${field} must be a positive integer to lay out q/k for llama.cpp's rotary order; found ${JSON.stringify(v)}.`;
  return v;
}

/** Quantizes the checkpoint directory `dirPath` to the GGUF file `outPath` (written atomically). */
export function quantizeCheckpointDir(dirPath: string, outPath: string, to: QuantTarget, label = dirPath): QuantizeResult {
  const opened = openCheckpointDir(dirPath, label);
  if (!opened.ok) return opened;
  const { dir } = opened;
  const fail = (message: string, tensor = ""): QuantizeResult => ({ ok: false, errors: [{ tensor, message }] });
  const config = dir.config;
  if (!config) return fail(`${label}: no config.json; moec quantize needs its model_type and sizes for the GGUF metadata.`);
  const modelType = config["model_type"];
  const arch = typeof modelType === "string" ? ggufArchitectureForModelType(modelType) : undefined;
  if (!arch) {
    const known = GGUF_ARCHITECTURES.flatMap((a) => a.modelTypes).join(", ");
    return fail(`${label}/config.json: model_type ${JSON.stringify(modelType)} has no GGUF layout in moec (model types: ${known}).`);
  }
  if (config["quantization_config"] !== undefined) return fail(`${label}/config.json: the checkpoint is already quantized (quantization_config); moec quantize reads F32, F16 and BF16 checkpoints.`);

  const errors: BindError[] = [];
  const plain: { name: string; hf: LazySafetensorsTensor; rope?: "q" | "k" }[] = [];
  const stacks = new Map<string, Map<number, LazySafetensorsTensor>>();
  for (const [hfName, t] of dir.tensors) {
    if (!isFloatDtype(t.dtype)) {
      errors.push({ tensor: hfName, message: `Tensor ${hfName} in ${t.file} has dtype ${t.dtype}; moec quantize reads F32, F16 and BF16.` });
      continue;
    }
    const g = hfToGguf(hfName, arch);
    if (!g) {
      errors.push({ tensor: hfName, message: `Tensor ${hfName} in ${t.file} has no GGUF name in llama.cpp's ${arch.name} layout.` });
    } else if (g.kind === "plain") {
      plain.push({ name: g.gguf, hf: t, ...(g.rope ? { rope: g.rope } : {}) });
    } else {
      let s = stacks.get(g.gguf);
      if (!s) stacks.set(g.gguf, (s = new Map()));
      s.set(g.expert, t);
    }
  }
  const order: { name: string; shape: number[]; read: () => Float32Array }[] = [];
  for (const p of plain) {
    let read = () => f32Of(p.hf);
    if (p.rope) {
      const heads = headsOf(config, p.rope, label);
      const rows = p.hf.shape[0]!;
      if (typeof heads === "string") {
        errors.push({ tensor: p.hf.name, message: heads });
        continue;
      }
      if (rows % (2 * heads) !== 0) {
        errors.push({ tensor: p.hf.name, message: `Tensor ${p.hf.name} has ${rows} rows, which ${heads} heads cannot split into whole rotary pairs.` });
        continue;
      }
      const cols = numel(p.hf.shape.slice(1));
      read = () => permuteRotaryRows(f32Of(p.hf), rows, cols, heads, false);
    }
    order.push({ name: p.name, shape: [...p.hf.shape], read });
  }
  for (const [name, experts] of stacks) {
    const count = Math.max(...experts.keys()) + 1;
    const first = experts.get(0);
    const missing = [...Array(count).keys()].filter((j) => !experts.has(j));
    if (!first || missing.length) {
      errors.push({ tensor: name, message: `${label}: the experts stacked into ${name} must be 0…${count - 1}; expert ${missing[0] ?? 0} is missing.` });
      continue;
    }
    const bad = [...experts.values()].find((t) => t.shape.join() !== first.shape.join());
    if (bad) {
      errors.push({ tensor: bad.name, message: `Tensor ${bad.name} has shape [${bad.shape.join(", ")}], but ${first.name} has [${first.shape.join(", ")}]; experts stacked into ${name} must agree.` });
      continue;
    }
    const per = numel(first.shape);
    order.push({
      name, shape: [count, ...first.shape], read: () => {
        const out = new Float32Array(count * per);
        for (let j = 0; j < count; j++) out.set(f32Of(experts.get(j)!), j * per);
        return out;
      },
    });
  }
  if (errors.length) return { ok: false, errors };

  const target = TARGET[to];
  const fallbacks: string[] = [];
  const report: QuantizedTensor[] = [];
  const tensors: GgufTensorToWrite[] = order.map((t) => {
    const isRouter = /\.ffn_gate_inp(_shexp)?\.weight$/.test(t.name);
    const rowLength = t.shape[t.shape.length - 1]!;
    let type = GGML_F32;
    if (t.shape.length >= 2 && !isRouter) {
      if (rowLength % ggmlType(target.type)!.blockSize === 0) type = target.type;
      else {
        type = GGML_F16;
        fallbacks.push(t.name);
      }
    }
    report.push({ name: t.name, shape: t.shape, type: ggmlType(type)!.name, bytes: ggmlBytes(ggmlType(type)!, numel(t.shape)) });
    const encode = type === target.type ? () => target.encode(t.read()) : type === GGML_F16 ? () => encodeFloats("F16", t.read()) : () => f32Bytes(t.read());
    return { name: t.name, shape: t.shape, type, encode };
  });
  const sourceBytes = [...dir.tensors.values()].reduce((a, t) => a + t.byteLength, 0);
  try {
    writeGguf(outPath, architectureMetadata(arch, config, to, `moec quantize --to ${to} of ${label}`), tensors);
  } catch (e) {
    if (!(e instanceof GgufError)) throw e;
    return fail(e.message, e.tensor);
  }
  return { ok: true, architecture: arch.name, tensors: report, fallbacks, sourceBytes };
}
