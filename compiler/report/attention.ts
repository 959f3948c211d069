// Attention's context-dependent costs, which the weight count of §9 does not see: the score
// (Q·Kᵀ) and value (P·V) products per token, and the KV cache a token leaves behind.
//
// Per attention layer, for one token that attends to N positions (the token at position N when
// decoding; a prefill of N tokens costs about half that per token, causally masked):
//   score FLOPs = 2 · H · d_qk · N        value FLOPs = 2 · H · d_v · N
// with H query heads (grouped-query attention shares K/V between heads but every query head still
// multiplies), d_qk the query/key width per head (MLA: nope_dim + rope_dim), d_v the value width.
// KV-cache elements per token per layer: 2 · KV · head_dim (GQA/MHA: one K and one V row per
// key-value head); MLA caches its latent instead: kv_rank + rope_dim (DeepSeek-V2 §2.1).
import type { Instance } from "../semantic/instance.js";
import { stackName } from "./breakdown.js";

export interface AttentionGroup {
  /** Weight-name prefix: `layers.0–31.self_attn`. */
  name: string;
  /** Layers in this group (repeat copies). */
  layers: number;
  kind: string;
  heads: number;
  kvHeads: number;
  qkDim: number;
  vDim: number;
  /** KV-cache elements per token, per layer. */
  cachedWidth: number;
  /** Sliding window (positions read, itself included); 0: every earlier position. */
  window: number;
}

/** Every attention block of the entry, one group per stack of identical copies. */
export function attentionGroups(inst: Instance, prefix = "", copies = 1, out: AttentionGroup[] = []): AttentionGroup[] {
  for (const a of inst.attention) {
    const s = a.shape;
    out.push({
      name: prefix + a.owner.prefix, layers: copies, kind: a.owner.info?.kind ?? "attention",
      heads: s.heads, kvHeads: s.kvHeads, qkDim: s.qkDim, vDim: s.vDim, cachedWidth: s.cachedWidth, window: s.window,
    });
  }
  for (const ch of inst.children) {
    const k = ch.copies?.count ?? 1;
    const p = ch.copies ? `${stackName(ch.prefix, ch.copies.start, k)}.` : `${ch.prefix}.`;
    attentionGroups(ch.instance, prefix + p, copies * k, out);
  }
  return out;
}

export interface AttentionCost {
  context: number;
  /** Per token, all layers. */
  scoreFlops: number;
  valueFlops: number;
  layers: number;
  groups: (AttentionGroup & { scoreFlops: number; valueFlops: number })[];
}

export function attentionCost(groups: AttentionGroup[], context: number): AttentionCost {
  const g = groups.map((x) => ({ ...x, scoreFlops: 2 * x.heads * x.qkDim * context, valueFlops: 2 * x.heads * x.vDim * context }));
  return {
    context,
    scoreFlops: g.reduce((s, x) => s + x.layers * x.scoreFlops, 0),
    valueFlops: g.reduce((s, x) => s + x.layers * x.valueFlops, 0),
    layers: g.reduce((s, x) => s + x.layers, 0),
    groups: g,
  };
}

export interface KvCache {
  dtype: string;
  bytesPerElement: number;
  /** Per token, all layers. */
  elementsPerToken: number;
  bytesPerToken: number;
  context: number;
  bytesAtContext: number;
  groups: { name: string; layers: number; elementsPerToken: number; bytesPerToken: number }[];
}

export function kvCache(groups: AttentionGroup[], dtype: string, bytesPerElement: number, context: number): KvCache {
  const elements = groups.reduce((s, x) => s + x.layers * x.cachedWidth, 0);
  return {
    dtype, bytesPerElement, elementsPerToken: elements, bytesPerToken: elements * bytesPerElement, context,
    bytesAtContext: elements * bytesPerElement * context,
    groups: groups.map((x) => ({ name: x.name, layers: x.layers, elementsPerToken: x.cachedWidth, bytesPerToken: x.cachedWidth * bytesPerElement })),
  };
}
