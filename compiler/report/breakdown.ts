// Where the parameters are (LANGUAGE.md §9): per category, and per top-level part of the entry —
// each top-level weight owner, each called layer, each `repeat` stack (one layer's count × copies).
// The rows partition the weights, so they add up to the totals by construction; tests check it.
import type { Instance } from "../semantic/instance.js";
import type { OwnerCategory } from "../semantic/values.js";
import type { Counts } from "../semantic/count.js";
import { countInstance, ownerCounts } from "../semantic/count.js";

export const CATEGORY_ORDER: readonly OwnerCategory[] = ["embedding", "attention", "dense_ffn", "experts", "shared", "router", "linear", "norm", "lm_head"];

export const CATEGORY_LABEL: Record<OwnerCategory, string> = {
  embedding: "embeddings", attention: "attention", dense_ffn: "dense FFN", experts: "expert pools", shared: "shared experts",
  router: "routers", linear: "linear (gates)", norm: "norms", lm_head: "lm_head",
};

export interface PartCounts {
  total: number;
  active: number;
  flops: number;
  byCategory: Counts["byCategory"];
}

export interface BreakdownRow {
  /** Weight-name prefix: `embed_tokens`, `layers.1–27`, `block_sparse_moe`. */
  name: string;
  /** A category for one owner; `layer` for a called layer or agent; `stack` for a `repeat`. */
  what: OwnerCategory | "layer" | "stack";
  /** Copies in a `repeat` stack (1 otherwise), and the first index. */
  copies: number;
  first?: number;
  /** One copy's counts. */
  each: PartCounts;
  /** Counts of all copies. */
  total: number;
  active: number;
  flops: number;
}

/** Index range of a stack, as weight names spell it: `layers.3–60`, or `layers.0` for one copy. */
export function stackName(prefix: string, first: number, count: number): string {
  return count === 1 ? `${prefix}.${first}` : `${prefix}.${first}–${first + count - 1}`;
}

export function breakdownRows(inst: Instance): BreakdownRow[] {
  const rows: { at: number; row: BreakdownRow }[] = [];
  for (const o of inst.owners) {
    const c = ownerCounts(o);
    const each: PartCounts = { total: c.total, active: c.active, flops: c.flops, byCategory: { [o.category]: { total: c.total, active: c.active } } };
    rows.push({ at: o.span.start, row: { name: o.prefix, what: o.category, copies: 1, each, total: c.total, active: c.active, flops: c.flops } });
  }
  for (const ch of inst.children) {
    const c = countInstance(ch.instance);
    const k = ch.copies?.count ?? 1;
    const each: PartCounts = { total: c.total, active: c.active, flops: c.flops, byCategory: c.byCategory };
    const name = ch.copies ? stackName(ch.prefix, ch.copies.start, k) : ch.prefix;
    rows.push({
      at: ch.span.start,
      row: { name, what: ch.copies ? "stack" : "layer", copies: k, ...(ch.copies ? { first: ch.copies.start } : {}), each, total: k * c.total, active: k * c.active, flops: k * c.flops },
    });
  }
  // Source order reads like the network: embedding, stacks, final norm, head.
  return rows.sort((a, b) => a.at - b.at).map((r) => r.row);
}

/** Categories in a fixed, readable order, leaving out empty ones. */
export function orderedCategories(by: Counts["byCategory"]): { category: OwnerCategory; label: string; total: number; active: number }[] {
  return CATEGORY_ORDER.filter((c) => by[c] !== undefined).map((c) => ({ category: c, label: CATEGORY_LABEL[c], total: by[c]!.total, active: by[c]!.active }));
}
