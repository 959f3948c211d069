// Built-in weight-owning blocks (LANGUAGE.md §3 `linear`, §13 model blocks): their parameters,
// weights (PyTorch [out, in] layout) and output widths. One table so checker, counter and docs agree.
import type { ArgValues, ParamSpec, TensorShape } from "../../stdlib/registry.js";
import type { OwnerCategory } from "./values.js";
import type { IrAttention, IrMla, IrRope } from "../ir/ir.js";
import { attentionTensors, mlaTensors, normTensors } from "../ir/block-tensors.js";

export interface AttentionShape {
  heads: number;
  kvHeads: number;
  /** Per-head width of queries/keys (score products) and of values. */
  qkDim: number;
  vDim: number;
  /** Bytes per token per layer are computed from these cached widths (K and V, or MLA's latent). */
  cachedWidth: number;
  /** Positions a query reads (itself included): `window`, 0 for all earlier ones. */
  window: number;
}

export interface BlockDef {
  name: string;
  category: OwnerCategory;
  params: readonly ParamSpec[];
  /** Input kind: `ids` takes token ids [T]; `float` takes [T, D]. */
  input: "ids" | "float";
  doc: string;
  /** Argument issues that depend on the input width D (e.g. heads not dividing D). */
  check?(a: ArgValues, dim: number): string[];
  weights(a: ArgValues, dim: number): TensorShape[];
  outWidth(a: ArgValues, dim: number): number;
  attention?(a: ArgValues, dim: number): AttentionShape;
}

const headDim = (a: ArgValues, D: number) => (a.head_dim as number | undefined) ?? D / (a.heads as number);

/** `qk_norm` values: `true` is `full` (the spelling of older programs), `false` none. */
const QK_NORMS = ["false", "true", "full", "head"] as const;

/** The q/k norm of bound attention arguments: none, over the whole projection, or per head. */
export function qkNormOf(a: ArgValues): "none" | "full" | "head" {
  const v = String(a.qk_norm ?? "false");
  return v === "true" || v === "full" ? "full" : v === "head" ? "head" : "none";
}

const ROPE_PARAMS = (rope: "half" | "interleaved"): ParamSpec[] => [
  { name: "rope_theta", type: "number", default: 10000.0, min: 0, minExclusive: true, doc: "rotary base θ" },
  { name: "rope", type: "enum", values: ["half", "interleaved", "none"], default: rope, doc: "which values rotate together: i and i + r/2 (`half`, Hugging Face's rotate_half), 2i and 2i+1 (`interleaved`), or no rotary" },
];

/** YaRN (`rope_scaling = yarn`), exactly as Hugging Face's `_compute_yarn_parameters`. */
const YARN_PARAMS: ParamSpec[] = [
  { name: "rope_scaling", type: "enum", values: ["none", "yarn"], default: "none", doc: "rotary frequency scaling" },
  { name: "rope_factor", type: "number", min: 1, optional: true, doc: "yarn: context extension factor" },
  { name: "rope_original", type: "int", min: 1, optional: true, doc: "yarn: the original context length" },
  { name: "yarn_beta_fast", type: "number", default: 32, min: 0, minExclusive: true, doc: "yarn: β_fast" },
  { name: "yarn_beta_slow", type: "number", default: 1, min: 0, minExclusive: true, doc: "yarn: β_slow" },
  { name: "yarn_mscale", type: "number", default: 1, doc: "yarn: mscale" },
  { name: "yarn_mscale_all_dim", type: "number", default: 0, doc: "yarn: mscale_all_dim" },
];

/** Rotary arguments as the IR's descriptor, `dim` values per head rotated. */
function ropeDescriptor(a: ArgValues, dim: number): IrRope {
  const rope: IrRope = { kind: a.rope as IrRope["kind"], theta: a.rope_theta as number, dim: a.rope === "none" ? 0 : dim };
  if (a.rope_scaling === "yarn" && a.rope !== "none") {
    rope.yarn = {
      factor: a.rope_factor as number, original: a.rope_original as number,
      betaFast: a.yarn_beta_fast as number, betaSlow: a.yarn_beta_slow as number,
      mscale: a.yarn_mscale as number, mscaleAllDim: a.yarn_mscale_all_dim as number,
    };
  }
  return rope;
}

/** Bound `attention` arguments over width D as the IR's descriptor (weights under `key`). */
export function attentionDescriptor(a: ArgValues, D: number, key: string): IrAttention {
  const heads = a.heads as number;
  const hd = headDim(a, D);
  return {
    key, heads, kvHeads: (a.kv_heads as number | undefined) ?? heads, headDim: hd,
    bias: a.bias === true, qkNorm: qkNormOf(a), qkEps: (a.qk_eps as number | undefined) ?? 1e-6,
    rope: ropeDescriptor(a, (a.rope_dim as number | undefined) ?? hd), window: (a.window as number | undefined) ?? 0,
  };
}

/** Bound `mla` arguments as the IR's descriptor (weights under `key`). */
export function mlaDescriptor(a: ArgValues, key: string): IrMla {
  return {
    key, heads: a.heads as number, qRank: a.q_rank as number, kvRank: a.kv_rank as number,
    nopeDim: a.nope_dim as number, ropeDim: a.rope_dim as number, vDim: a.v_dim as number,
    normEps: (a.norm_eps as number | undefined) ?? 1e-6, rope: ropeDescriptor(a, a.rope_dim as number),
  };
}

function yarnIssues(a: ArgValues): string[] {
  if (a.rope_scaling !== "yarn") {
    const given = ["rope_factor", "rope_original"].filter((n) => a[n] !== undefined);
    return given.length ? [`${given.join(" and ")} ${given.length > 1 ? "apply" : "applies"} only with rope_scaling = yarn`] : [];
  }
  const missing = ["rope_factor", "rope_original"].filter((n) => a[n] === undefined);
  return missing.length ? [`rope_scaling = yarn needs ${missing.join(" and ")}`] : [];
}

export const BLOCKS: Record<string, BlockDef> = {
  linear: {
    name: "linear", category: "linear", input: "float",
    doc: "`x · Wᵀ (+ b)`; weights `weight [out, D]`, `bias [out]`.",
    params: [
      { name: "out", type: "int", min: 1, doc: "output width" },
      { name: "bias", type: "bool", default: false, doc: "adds `bias [out]`" },
    ],
    weights: (a, D) => [{ name: "weight", shape: [a.out as number, D], matmul: true }, ...(a.bias === true ? [{ name: "bias", shape: [a.out as number] }] : [])],
    outWidth: (a) => a.out as number,
  },
  embed: {
    name: "embed", category: "embedding", input: "ids",
    doc: "Token embedding; weight `[vocab, dim]`.",
    params: [
      { name: "vocab", type: "int", min: 1, doc: "vocabulary size V" },
      { name: "dim", type: "int", min: 1, doc: "embedding width D" },
    ],
    weights: (a) => [{ name: "weight", shape: [a.vocab as number, a.dim as number] }],
    outWidth: (a) => a.dim as number,
  },
  rmsnorm: {
    name: "rmsnorm", category: "norm", input: "float",
    doc: "RMS normalization; weight `[D]`.",
    params: [{ name: "eps", type: "number", default: 1e-6, min: 0, minExclusive: true, doc: "epsilon" }],
    weights: (_a, D) => normTensors("rms", D),
    outWidth: (_a, D) => D,
  },
  layernorm: {
    name: "layernorm", category: "norm", input: "float",
    doc: "Layer normalization; `weight [D]`, `bias [D]`.",
    params: [{ name: "eps", type: "number", default: 1e-5, min: 0, minExclusive: true, doc: "epsilon" }],
    weights: (_a, D) => normTensors("layer", D),
    outWidth: (_a, D) => D,
  },
  attention: {
    name: "attention", category: "attention", input: "float",
    doc: "Causal self-attention with rotary positions; grouped-query when kv_heads < heads (LANGUAGE.md §13.0).",
    params: [
      { name: "heads", type: "int", min: 1, doc: "query heads H" },
      { name: "kv_heads", type: "int", min: 1, optional: true, doc: "key/value heads (default H)" },
      { name: "head_dim", type: "int", min: 1, optional: true, doc: "per-head width (default D/H)" },
      { name: "bias", type: "bool", default: false, doc: "q/k/v biases" },
      { name: "qk_norm", type: "enum", values: QK_NORMS, default: "false", doc: "RMS norm on queries and keys: `full` (or `true`) over the whole projection (OLMoE), `head` per head with one [hd] weight (Qwen3)" },
      { name: "qk_eps", type: "number", default: 1e-6, min: 0, minExclusive: true, doc: "epsilon of the q/k norms" },
      ...ROPE_PARAMS("half"),
      { name: "rope_dim", type: "int", min: 0, optional: true, doc: "rotated values at the start of each head (default head_dim; even)" },
      { name: "window", type: "int", min: 0, default: 0, doc: "sliding window: each position reads the last W positions (0: all)" },
      ...YARN_PARAMS,
    ],
    check(a, D) {
      const out: string[] = [];
      const H = a.heads as number, KV = (a.kv_heads as number | undefined) ?? H;
      if (H % KV !== 0) out.push(`kv_heads = ${KV} does not divide heads = ${H}`);
      if (a.head_dim === undefined && D % H !== 0) out.push(`heads = ${H} does not divide the width ${D}; give head_dim explicitly`);
      const hd = headDim(a, D);
      const r = (a.rope_dim as number | undefined) ?? hd;
      if (a.rope !== "none" && (r % 2 !== 0 || r > hd)) out.push(`rope_dim = ${r} must be even and at most head_dim = ${hd}`);
      out.push(...yarnIssues(a));
      return out;
    },
    weights: (a, D) => attentionTensors(attentionDescriptor(a, D, ""), D),
    outWidth: (_a, D) => D,
    attention(a, D) {
      const H = a.heads as number, KV = (a.kv_heads as number | undefined) ?? H, hd = headDim(a, D);
      return { heads: H, kvHeads: KV, qkDim: hd, vDim: hd, cachedWidth: 2 * KV * hd, window: (a.window as number | undefined) ?? 0 };
    },
  },
  mla: {
    name: "mla", category: "attention", input: "float",
    doc: "Multi-head latent attention (DeepSeek-V2/V3, LANGUAGE.md §13.0).",
    params: [
      { name: "heads", type: "int", min: 1, doc: "heads H" },
      { name: "q_rank", type: "int", min: 0, doc: "query latent rank (0: no query compression)" },
      { name: "kv_rank", type: "int", min: 1, doc: "key/value latent rank" },
      { name: "nope_dim", type: "int", min: 0, doc: "per-head width without rotary" },
      { name: "rope_dim", type: "int", min: 0, doc: "per-head rotary width (even)" },
      { name: "v_dim", type: "int", min: 1, doc: "per-head value width" },
      ...ROPE_PARAMS("interleaved"),
      { name: "norm_eps", type: "number", default: 1e-6, min: 0, minExclusive: true, doc: "epsilon of the latent RMS norms" },
      ...YARN_PARAMS,
    ],
    check(a) {
      const out: string[] = [];
      if ((a.rope_dim as number) % 2 !== 0) out.push(`rope_dim = ${a.rope_dim} must be even`);
      if ((a.nope_dim as number) + (a.rope_dim as number) < 1) out.push("nope_dim + rope_dim must be at least 1");
      out.push(...yarnIssues(a));
      return out;
    },
    weights: (a, D) => mlaTensors(mlaDescriptor(a, ""), D),
    outWidth: (_a, D) => D,
    attention(a) {
      const H = a.heads as number;
      return { heads: H, kvHeads: H, qkDim: (a.nope_dim as number) + (a.rope_dim as number), vDim: a.v_dim as number, cachedWidth: (a.kv_rank as number) + (a.rope_dim as number), window: 0 };
    },
  },
  lm_head: {
    name: "lm_head", category: "lm_head", input: "float",
    doc: "Output logits; weight `[vocab, D]`, or `tied = NAME` to share an embedding.",
    params: [
      { name: "vocab", type: "int", min: 1, optional: true, doc: "vocabulary size V" },
      { name: "tied", type: "string", optional: true, doc: "name of the embedding whose weight is shared" },
    ],
    weights: (a, D) => (a.tied !== undefined ? [] : [{ name: "weight", shape: [a.vocab as number, D], matmul: true }]),
    outWidth: (a) => a.vocab as number,
  },
};
