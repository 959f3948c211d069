// The `attention` block of the llama-style families (Llama, Mistral, Mixtral, Qwen2/3 and their
// MoE versions, OLMoE): heads, q/k/v biases, q/k norms, rotary positions and sliding windows, as
// each family's modeling file reads its config. One AttentionPlan per layer (windows may differ).
import type { ConfigFields } from "./config-fields.js";
import type { Arg, AttentionPlan, Hyper } from "./model-plan.js";
import { floatLit } from "./model-plan.js";
import { mistralWindows, qwenWindows, readHeads, readRope, refuseAttentionBias } from "./common-fields.js";

export interface AttentionStyle {
  /** q/k/v biases: always there (Qwen2), or `attention_bias` refused when true (it biases o_proj too). */
  bias: "qkv" | "attention_bias";
  qkNorm: "none" | "full" | "head";
  windows: { kind: "none" } | { kind: "mistral"; dflt: number } | { kind: "qwen" };
  thetaDefault: number;
  /** The config class's head_dim default where it has one (Qwen3: 128), else hidden_size / heads. */
  headDimDefault?: number;
  /** OLMoE's `clip_qkv`: clamps q, k, v; moec has no clamp, so only null is accepted. */
  clipQkv?: boolean;
}

export function llamaAttention(c: ConfigFields, D: number, L: number, eps: number, style: AttentionStyle): { hyper: Hyper[]; layers: AttentionPlan[] } {
  const heads = readHeads(c, D, style.headDimDefault);
  const args: Arg[] = [...heads.args];
  const from = [...heads.from];
  if (style.bias === "qkv") {
    args.push({ name: "bias", value: "true" });
    from.push("q/k/v biases (always, in this family)");
  } else refuseAttentionBias(c);
  if (style.clipQkv) c.refuseUnless("clip_qkv", (v) => v === undefined, "moec's attention does not clamp q, k and v");
  if (style.qkNorm !== "none") {
    args.push({ name: "qk_norm", value: style.qkNorm }, { name: "qk_eps", value: floatLit(eps) });
    from.push(`q/k norm ${style.qkNorm === "head" ? "per head" : "over the projection"} (rms_norm_eps)`);
  }
  const rope = readRope(c, heads.hd, style.thetaDefault);
  args.push(...rope.args);
  from.push(...rope.from);
  const w = style.windows.kind === "qwen" ? qwenWindows(c, L) : style.windows.kind === "mistral" ? mistralWindows(c, L, style.windows.dflt) : undefined;
  const layers = [...Array(L).keys()].map((i): AttentionPlan => {
    const win = w?.windows[i] ?? 0;
    return {
      block: "attention",
      args: win ? [...args, { name: "window", value: String(win) }] : args,
      from: [...from, ...(w ? [win ? `window: ${w.from}` : w.from] : [])].join(", "),
    };
  });
  return { hyper: heads.hyper, layers };
}
