// FLOPs of one prefill forward over T tokens (positions 0…T−1), for `moec bench` on a model:
// §9's FLOPs per token over the active weights times T, plus attention's score and value products
// over the causal pairs (position t reads min(t + 1, window) positions, so T(T+1)/2 pairs without
// a window), less the LM head rows not computed when only the last position's logits are.
import type { EntryInfo } from "../driver.js";
import type { CountLabel } from "../semantic/count.js";
import { ownerCounts } from "../semantic/count.js";
import type { Instance } from "../semantic/instance.js";
import { attentionCost, attentionGroups } from "./attention.js";

export interface PrefillFlops {
  tokens: number;
  /** 2 × multiply-adds over the active weights at every position (FLOPs per token × T). */
  weights: number;
  /** Attention's score (Q·Kᵀ) and value (P·V) products over the causal pairs. */
  attention: number;
  /** LM head FLOPs left out with `lastLogits` (its T − 1 other rows), subtracted from the total. */
  lmHeadSkipped: number;
  total: number;
  /** `exact`, or how to read it (e.g. an upper bound for top-p pools), as §9's FLOPs per token. */
  label: CountLabel;
}

/** Query–key pairs of a causal prefill of T positions with a sliding window (0: none). */
export function causalPairs(T: number, window: number): number {
  if (window <= 0 || window >= T) return (T * (T + 1)) / 2;
  return (window * (window + 1)) / 2 + (T - window) * window;
}

/** FLOPs per token of the LM heads (category `lm_head`) anywhere in the instance tree. */
function lmHeadFlopsPerToken(inst: Instance): number {
  let f = 0;
  for (const o of inst.owners) if (o.category === "lm_head") f += ownerCounts(o).flops;
  for (const ch of inst.children) f += (ch.copies?.count ?? 1) * lmHeadFlopsPerToken(ch.instance);
  return f;
}

export function prefillFlops(info: EntryInfo, tokens: number, opts: { lastLogits?: boolean } = {}): PrefillFlops {
  const weights = info.counts.flops * tokens;
  // attentionCost at a context of 1 is the products' FLOPs per (query, key) pair.
  const attention = attentionGroups(info.instance).reduce((s, g) => {
    const perPair = attentionCost([g], 1);
    return s + (perPair.scoreFlops + perPair.valueFlops) * causalPairs(tokens, g.window);
  }, 0);
  const lmHeadSkipped = opts.lastLogits ? (tokens - 1) * lmHeadFlopsPerToken(info.instance) : 0;
  return { tokens, weights, attention, lmHeadSkipped, total: weights + attention - lmHeadSkipped, label: info.counts.flopsLabel };
}
