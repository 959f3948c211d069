// GGUF tensor names ↔ Hugging Face names, as llama.cpp's converter (convert_hf_to_gguf.py with
// gguf-py's tensor_mapping.py) writes them: `token_embd`, `output_norm`, `output`, and per layer
// `blk.N.attn_norm`, `attn_q/k/v/output`, `attn_q_norm/k_norm`, `ffn_norm`, dense
// `ffn_gate/up/down`, the router `ffn_gate_inp`, routed experts stacked in one 3-D tensor per
// projection (`ffn_gate_exps` [E, I, D] row-major), shared experts `ffn_*_shexp` and Qwen's
// shared gate `ffn_gate_inp_shexp`. Where the HF module names differ by family (Mixtral's
// `block_sparse_moe.experts.j.w1`, the others' `mlp.experts.j.gate_proj`), the file's
// `general.architecture` says which.
// llama.cpp's `llama` architecture (Llama, Mistral, Mixtral) rotates interleaved pairs, while HF
// rotates halves; its converter therefore permutes q_proj/k_proj rows per head (LlamaModel.permute:
// reshape(heads, 2, hd/2, …).swapaxes(1, 2)). Reading undoes it, writing applies it.

export interface GgufArchitecture {
  /** `general.architecture`. */
  name: string;
  /** HF model_type spellings written as this architecture. */
  modelTypes: string[];
  moeModule: string;
  expert: { gate: string; up: string; down: string };
  shared?: { module: string; gate?: string };
  /** Q/K rows permuted to interleaved rotary pairs (llama.cpp's `llama`). */
  permuteQK: boolean;
}

const PROJ = { gate: "gate_proj", up: "up_proj", down: "down_proj" };

export const GGUF_ARCHITECTURES: GgufArchitecture[] = [
  { name: "llama", modelTypes: ["llama", "mistral", "mixtral"], moeModule: "block_sparse_moe", expert: { gate: "w1", up: "w3", down: "w2" }, permuteQK: true },
  { name: "qwen2", modelTypes: ["qwen2"], moeModule: "mlp", expert: PROJ, permuteQK: false },
  { name: "qwen2moe", modelTypes: ["qwen2_moe"], moeModule: "mlp", expert: PROJ, shared: { module: "shared_expert", gate: "shared_expert_gate" }, permuteQK: false },
  { name: "qwen3", modelTypes: ["qwen3"], moeModule: "mlp", expert: PROJ, permuteQK: false },
  { name: "qwen3moe", modelTypes: ["qwen3_moe"], moeModule: "mlp", expert: PROJ, permuteQK: false },
  { name: "olmoe", modelTypes: ["olmoe"], moeModule: "mlp", expert: PROJ, permuteQK: false },
];

export function ggufArchitecture(name: string): GgufArchitecture | undefined {
  return GGUF_ARCHITECTURES.find((a) => a.name === name);
}

export function ggufArchitectureForModelType(modelType: string): GgufArchitecture | undefined {
  return GGUF_ARCHITECTURES.find((a) => a.modelTypes.includes(modelType));
}

/** Per-layer names that map one to one: GGUF suffix ↔ HF suffix (after `blk.N.` / `model.layers.N.`). */
function layerPairs(a: GgufArchitecture): [string, string][] {
  const pairs: [string, string][] = [
    ["attn_norm.weight", "input_layernorm.weight"],
    ["ffn_norm.weight", "post_attention_layernorm.weight"],
    ["attn_q_norm.weight", "self_attn.q_norm.weight"],
    ["attn_k_norm.weight", "self_attn.k_norm.weight"],
    ["ffn_gate.weight", "mlp.gate_proj.weight"],
    ["ffn_up.weight", "mlp.up_proj.weight"],
    ["ffn_down.weight", "mlp.down_proj.weight"],
    ["ffn_gate_inp.weight", `${a.moeModule}.gate.weight`],
    ["exp_probs_b.bias", `${a.moeModule}.gate.e_score_correction_bias`],
  ];
  for (const [g, h] of [["attn_q", "q_proj"], ["attn_k", "k_proj"], ["attn_v", "v_proj"], ["attn_output", "o_proj"]]) {
    for (const p of ["weight", "bias"]) pairs.push([`${g}.${p}`, `self_attn.${h}.${p}`]);
  }
  if (a.shared) {
    for (const p of ["gate", "up", "down"]) pairs.push([`ffn_${p}_shexp.weight`, `mlp.${a.shared.module}.${p}_proj.weight`]);
    if (a.shared.gate) pairs.push(["ffn_gate_inp_shexp.weight", `mlp.${a.shared.gate}.weight`]);
  }
  return pairs;
}

const TOP: [string, string][] = [["token_embd.weight", "model.embed_tokens.weight"], ["output_norm.weight", "model.norm.weight"], ["output.weight", "lm_head.weight"]];
const EXPERT_PROJ = ["gate", "up", "down"] as const;

/** A GGUF name read as HF names: one tensor, or a stacked expert tensor's projection. */
export type GgufNameMeaning =
  | { kind: "plain"; hf: string; layer?: number; rope?: "q" | "k" }
  | { kind: "experts"; layer: number; hfOfExpert: (j: number) => string };

export function ggufToHf(name: string, a: GgufArchitecture): GgufNameMeaning | undefined {
  const top = TOP.find(([g]) => g === name);
  if (top) return { kind: "plain", hf: top[1] };
  const m = /^blk\.(0|[1-9][0-9]*)\.(.+)$/.exec(name);
  if (!m) return undefined;
  const layer = Number(m[1]), rest = m[2]!;
  const hfLayer = `model.layers.${layer}.`;
  const e = /^ffn_(gate|up|down)_exps\.weight$/.exec(rest);
  if (e) {
    const proj = a.expert[e[1] as (typeof EXPERT_PROJ)[number]];
    return { kind: "experts", layer, hfOfExpert: (j) => `${hfLayer}${a.moeModule}.experts.${j}.${proj}.weight` };
  }
  const pair = layerPairs(a).find(([g]) => g === rest);
  if (!pair) return undefined;
  const rope = a.permuteQK && /^attn_q\./.test(rest) ? "q" : a.permuteQK && /^attn_k\./.test(rest) ? "k" : undefined;
  return { kind: "plain", hf: hfLayer + pair[1], layer, ...(rope ? { rope } : {}) };
}

/** An HF name as written to GGUF: one tensor, or expert j of a stacked projection. */
export type HfNameMeaning = { kind: "plain"; gguf: string; rope?: "q" | "k" } | { kind: "expert"; gguf: string; layer: number; expert: number };

export function hfToGguf(name: string, a: GgufArchitecture): HfNameMeaning | undefined {
  const top = TOP.find(([, h]) => h === name);
  if (top) return { kind: "plain", gguf: top[0] };
  const m = /^model\.layers\.(0|[1-9][0-9]*)\.(.+)$/.exec(name);
  if (!m) return undefined;
  const layer = Number(m[1]), rest = m[2]!;
  const moe = a.moeModule.replace(/\./g, "\\.");
  const e = new RegExp(`^${moe}\\.experts\\.(0|[1-9][0-9]*)\\.([^.]+)\\.weight$`).exec(rest);
  if (e) {
    const proj = EXPERT_PROJ.find((p) => a.expert[p] === e[2]);
    return proj ? { kind: "expert", gguf: `blk.${layer}.ffn_${proj}_exps.weight`, layer, expert: Number(e[1]) } : undefined;
  }
  const pair = layerPairs(a).find(([, h]) => h === rest);
  if (!pair) return undefined;
  const rope = a.permuteQK && /^attn_q\./.test(pair[0]) ? "q" : a.permuteQK && /^attn_k\./.test(pair[0]) ? "k" : undefined;
  return { kind: "plain", gguf: `blk.${layer}.${pair[0]}`, ...(rope ? { rope } : {}) };
}

/**
 * llama.cpp's permute of a q/k projection's rows (`heads` heads of `rows/heads` rows, `cols`
 * values per row; a bias has cols = 1): HF row h·hd + j·hd/2 + i goes to row h·hd + 2i + j.
 * `inverse` undoes it.
 */
export function permuteRotaryRows(values: Float32Array, rows: number, cols: number, heads: number, inverse: boolean): Float32Array {
  const hd = rows / heads, half = hd / 2;
  const out = new Float32Array(values.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const hf = h * hd + j * half + i, gg = h * hd + 2 * i + j;
        const [from, to] = inverse ? [gg, hf] : [hf, gg];
        out.set(values.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}
