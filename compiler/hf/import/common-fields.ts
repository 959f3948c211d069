// Fields most families share, read once: sizes, norms, the activation, tied embeddings, rotary
// positions (rope_theta, partial_rotary_factor, rope_scaling) and llama-style attention heads.
// Each reader either returns what the program says or refuses the field by name.
import type { ConfigFields } from "./config-fields.js";
import { MAX_LAYERS } from "./config-fields.js";
import type { Arg, Hyper } from "./model-plan.js";
import { floatLit } from "./model-plan.js";

/** Fields that never change the forward pass: metadata, training-only settings, generation ids. */
export const METADATA_FIELDS = [
  "model_type", "architectures", "transformers_version", "torch_dtype", "dtype", "_name_or_path", "auto_map",
  "bos_token_id", "eos_token_id", "pad_token_id", "use_cache", "initializer_range", "attention_dropout",
  "max_position_embeddings", "output_router_logits", "router_aux_loss_coef", "router_jitter_noise",
  "pretraining_tp", "return_dict", "output_hidden_states", "output_attentions", "is_encoder_decoder",
  "tokenizer_class", "name_or_path", "id2label", "label2id", "use_return_dict", "hidden_dropout", "embd_pdrop",
] as const;

export interface CoreSizes {
  hyper: Hyper[];
  D: number;
  L: number;
  eps: number;
  tied: boolean;
}

export function readCore(c: ConfigFields, epsDefault: number): CoreSizes {
  const V = c.int("vocab_size"), D = c.int("hidden_size"), L = c.int("num_hidden_layers", { max: MAX_LAYERS });
  const eps = c.num("rms_norm_eps", { default: epsDefault, positive: true });
  const tied = c.bool("tie_word_embeddings", false);
  c.ignore(METADATA_FIELDS);
  return {
    hyper: [{ name: "V", value: V, from: "vocab_size" }, { name: "D", value: D, from: "hidden_size" }, { name: "L", value: L, from: "num_hidden_layers" }],
    D, L, eps, tied,
  };
}

/** `hidden_act` as a gated FFN activation: SiLU is `swiglu`, exact GELU `geglu`. */
export function readAct(c: ConfigFields): "swiglu" | "geglu" {
  const act = c.str("hidden_act", "silu");
  if (act === "silu" || act === "swish") return "swiglu";
  if (act === "gelu") return "geglu";
  throw c.error("hidden_act", `"${act}" is not supported: moec's gated FFN knows silu (swiglu) and exact gelu (geglu)`);
}

/** The FFN arguments after `hidden`: `act` only when not the default. */
export function actArgs(act: "swiglu" | "geglu"): Arg[] {
  return act === "swiglu" ? [] : [{ name: "act", value: act }];
}

const YARN_KEYS: Record<string, string> = {
  factor: "rope_factor", original_max_position_embeddings: "rope_original", beta_fast: "yarn_beta_fast",
  beta_slow: "yarn_beta_slow", mscale: "yarn_mscale", mscale_all_dim: "yarn_mscale_all_dim",
};

/** `rope_scaling`: absent/null/`default` is none; `yarn` becomes the block's YaRN arguments; others are refused. */
export function readRopeScaling(c: ConfigFields): { args: Arg[]; from: string } {
  if (c.has("rope_parameters")) throw c.error("rope_parameters", "is not supported yet: give rope_theta and rope_scaling as transformers 4.x writes them");
  const rs = c.object("rope_scaling");
  if (!rs) return { args: [], from: "" };
  const kind = rs.rope_type ?? rs.type;
  if (kind === undefined || kind === null) throw c.error("rope_scaling", "has no `type` or `rope_type`");
  if (kind === "default") return { args: [], from: "" };
  if (kind !== "yarn") throw c.error("rope_scaling", `type "${String(kind)}" is not supported: moec's attention knows no scaling and yarn`);
  const out: Arg[] = [{ name: "rope_scaling", value: "yarn" }];
  for (const [k, v] of Object.entries(rs)) {
    if (k === "type" || k === "rope_type") continue;
    const arg = YARN_KEYS[k];
    if (!arg) throw c.error(`rope_scaling.${k}`, "is not supported with yarn (moec reads factor, original_max_position_embeddings, beta_fast, beta_slow, mscale, mscale_all_dim)");
    if (typeof v !== "number" || !Number.isFinite(v)) throw c.error(`rope_scaling.${k}`, `expected a number, found ${JSON.stringify(v)}`);
    if (arg === "rope_original") {
      if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) throw c.error(`rope_scaling.${k}`, `expected a positive integer, found ${v}`);
      out.push({ name: arg, value: String(v) });
    } else {
      if (arg === "rope_factor" ? v < 1 : (arg === "yarn_beta_fast" || arg === "yarn_beta_slow") && !(v > 0)) {
        throw c.error(`rope_scaling.${k}`, `${v} is out of range (${arg === "rope_factor" ? "at least 1" : "above 0"})`);
      }
      out.push({ name: arg, value: floatLit(v) });
    }
  }
  if (!out.some((a) => a.name === "rope_factor")) throw c.error("rope_scaling.factor", "missing; yarn needs it");
  if (!out.some((a) => a.name === "rope_original")) {
    // Hugging Face falls back to max_position_embeddings for the original context.
    const mpe = c.optInt("max_position_embeddings");
    if (mpe === undefined) throw c.error("rope_scaling.original_max_position_embeddings", "missing, and there is no max_position_embeddings to fall back on");
    out.push({ name: "rope_original", value: String(mpe) });
  }
  return { args: out, from: "rope_scaling (yarn)" };
}

/** rope_theta and partial_rotary_factor for a head of `hd` values. */
export function readRope(c: ConfigFields, hd: number, thetaDefault: number): { args: Arg[]; from: string[] } {
  const theta = c.num("rope_theta", { default: thetaDefault, positive: true });
  const args: Arg[] = [];
  const from: string[] = [];
  if (theta !== 10000) {
    args.push({ name: "rope_theta", value: floatLit(theta) });
    from.push("rope_theta");
  }
  if (c.has("partial_rotary_factor")) {
    const f = c.num("partial_rotary_factor", { positive: true });
    const r = hd * f;
    if (f > 1 || !Number.isInteger(r) || r % 2 !== 0) throw c.error("partial_rotary_factor", `${f} × head_dim ${hd} must be an even number of rotated values, at most head_dim`);
    if (r !== hd) {
      args.push({ name: "rope_dim", value: String(r) });
      from.push("partial_rotary_factor");
    }
  } else if (hd % 2 !== 0) {
    // Rotary embedding turns pairs of values; an odd head would leave the checker's E0291 in the imported program.
    const field = c.has("head_dim") ? "head_dim" : "num_attention_heads";
    throw c.error(field, `gives heads of ${hd} values; rotary embedding rotates pairs, so a head's size must be even`);
  }
  const scaling = readRopeScaling(c);
  args.push(...scaling.args);
  if (scaling.from) from.push(scaling.from);
  return { args, from };
}

export interface HeadSizes {
  H: number;
  KV: number;
  hd: number;
  /** Arguments `heads = H, kv_heads = KV[, head_dim = hd]` and the model hyper-parameters they use. */
  args: Arg[];
  hyper: Hyper[];
  from: string[];
}

/** num_attention_heads, num_key_value_heads (default: the heads), head_dim (default hidden_size / heads). */
export function readHeads(c: ConfigFields, D: number, headDimDefault?: number): HeadSizes {
  const H = c.int("num_attention_heads");
  const KV = c.int("num_key_value_heads", { default: H });
  if (H % KV !== 0) throw c.error("num_key_value_heads", `${KV} does not divide num_attention_heads = ${H}`);
  const given = c.optInt("head_dim") ?? headDimDefault;
  if (given === undefined && D % H !== 0) throw c.error("num_attention_heads", `${H} does not divide hidden_size = ${D}, and there is no head_dim`);
  const hd = given ?? D / H;
  const args: Arg[] = [{ name: "heads", value: "H" }];
  const hyper: Hyper[] = [{ name: "H", value: H, from: "num_attention_heads" }];
  const from = ["num_attention_heads"];
  if (KV !== H) {
    args.push({ name: "kv_heads", value: "KV" });
    hyper.push({ name: "KV", value: KV, from: "num_key_value_heads" });
    from.push("num_key_value_heads");
  }
  if (hd * H !== D || given !== undefined && D % H !== 0) {
    args.push({ name: "head_dim", value: "HD" });
    hyper.push({ name: "HD", value: hd, from: "head_dim" });
    from.push("head_dim");
  }
  return { H, KV, hd, args, hyper, from };
}

/** Refuses `attention_bias = true` where the family's attention would then bias o_proj too. */
export function refuseAttentionBias(c: ConfigFields): void {
  c.refuseUnless("attention_bias", (v) => v === undefined || v === false, "it biases q, k, v and o_proj; moec's attention has q/k/v biases only");
}

/** Qwen's sliding windows: `use_sliding_window`, `sliding_window`, and which layers (`layer_types`, else `max_window_layers`). */
export function qwenWindows(c: ConfigFields, L: number): { windows: number[]; from: string } {
  const use = c.bool("use_sliding_window", false);
  const W = c.has("sliding_window") ? c.int("sliding_window", { min: 0 }) : 4096;
  const mwl = c.int("max_window_layers", { min: 0, default: 28 });
  const types = c.enumList("layer_types", ["full_attention", "sliding_attention"], L);
  if (!use || W === 0) return { windows: Array(L).fill(0), from: "use_sliding_window = false" };
  const windows = [...Array(L).keys()].map((i) => ((types ? types[i] === "sliding_attention" : i >= mwl) ? W : 0));
  return { windows, from: `sliding_window on ${types ? "layer_types" : "layers ≥ max_window_layers"}` };
}

/** Mistral/Mixtral: `sliding_window` (an int, or null for none) on every layer. */
export function mistralWindows(c: ConfigFields, L: number, dflt: number): { windows: number[]; from: string } {
  const present = c.raw.sliding_window !== undefined;
  const W = present ? (c.has("sliding_window") ? c.int("sliding_window", { min: 0 }) : 0) : dflt;
  return { windows: Array(L).fill(W), from: W ? "sliding_window" : "sliding_window = null" };
}
