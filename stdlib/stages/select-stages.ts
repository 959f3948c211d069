// Select stages (LANGUAGE.md §5) and the post-select stages that only exist after selection.
// Ties in any selection go to the lower expert (or token) index.
import type { Issue } from "@moec/plugin-api";
import { type StdStageSpec, NATIVE, num, ranked } from "./std-spec.js";

const maxOf = (a: Record<string, unknown>, E: number): number => Math.min(E, (a.max as number | undefined) ?? E);

export const topk: StdStageSpec = {
  name: "topk",
  kind: "select",
  doc: "The k highest selection scores per token.",
  params: [{ name: "k", type: "int", min: 1, positional: true, doc: "experts per token" }],
  check: (a, E) => ((a.k as number) > E ? [{ message: `topk(${a.k}) selects more experts than the pool has (${E})`, param: "k" }] : []),
  active: (a) => ({ count: a.k as number, label: "exact" }),
  maxPerToken: (a) => a.k as number,
  native: { select: NATIVE.select.topk },
  torch: { select: 'return unrank(ranked(sel), slots(sel) < ctx.args["k"])' },
  reference: { select: (sel, _w, ctx) => ranked(sel).slice(0, num(ctx.args, "k")) },
};

export const topp: StdStageSpec = {
  name: "topp",
  kind: "select",
  doc: "Experts by selection score, the shortest prefix whose weight sum exceeds p (at least 1, at most max).",
  params: [
    { name: "p", type: "number", min: 0, minExclusive: true, max: 1, positional: true, doc: "probability mass" },
    { name: "max", type: "int", min: 1, optional: true, doc: "most experts per token (clamped to E; default E)" },
  ],
  active: (a, E) => ({ count: maxOf(a, E), label: "upper bound" }),
  maxPerToken: (a, E) => maxOf(a, E),
  native: { select: NATIVE.select.topp },
  torch: {
    // Take experts in rank order until the weight taken so far exceeds p (at least 1, at most max).
    select: [
      "order = ranked(sel)",
      'over = (torch.cumsum(w.gather(-1, order), dim=-1) > ctx.args["p"]).long()',
      "before = torch.cumsum(over, dim=-1) - over",
      'limit = min(ctx.E, ctx.args.get("max") or ctx.E)',
      "return unrank(order, (before == 0) & (slots(sel) < limit))",
    ].join("\n"),
  },
  reference: {
    select(sel, w, ctx) {
      const p = num(ctx.args, "p");
      const max = maxOf(ctx.args, sel.length);
      const ids: number[] = [];
      let cum = 0;
      for (const e of ranked(sel)) {
        if (ids.length >= max) break;
        ids.push(e);
        cum += w[e]!;
        if (cum > p) break;
      }
      return ids;
    },
  },
};

export const threshold: StdStageSpec = {
  name: "threshold",
  kind: "select",
  doc: "Experts whose selection score ≥ δ, highest first, at most max; may be none.",
  params: [
    { name: "delta", type: "number", positional: true, doc: "score threshold δ" },
    { name: "max", type: "int", min: 1, optional: true, doc: "most experts per token (clamped to E; default E)" },
  ],
  active: (a, E) => ({ count: maxOf(a, E), label: "upper bound" }),
  maxPerToken: (a, E) => maxOf(a, E),
  native: { select: NATIVE.select.threshold },
  torch: {
    select: [
      "order = ranked(sel)",
      'ok = sel.gather(-1, order) >= ctx.args["delta"]',
      "before = torch.cumsum(ok.long(), dim=-1) - ok.long()",
      'limit = min(ctx.E, ctx.args.get("max") or ctx.E)',
      "return unrank(order, ok & (before < limit))",
    ].join("\n"),
  },
  reference: {
    select: (sel, _w, ctx) => ranked(sel).filter((e) => sel[e]! >= num(ctx.args, "delta")).slice(0, maxOf(ctx.args, sel.length)),
  },
};

export const groupTopk: StdStageSpec = {
  name: "group_topk",
  kind: "select",
  doc: "Keep the `keep` groups (of `groups` contiguous ones) with the largest top-2 sums, then top-k among them.",
  params: [
    { name: "k", type: "int", min: 1, positional: true, doc: "experts per token" },
    { name: "groups", type: "int", min: 1, doc: "number of groups G" },
    { name: "keep", type: "int", min: 1, doc: "groups kept K" },
  ],
  check(a, E) {
    const k = a.k as number, G = a.groups as number, K = a.keep as number;
    const issues: Issue[] = [];
    if (k > E) issues.push({ message: `group_topk(${k}) selects more experts than the pool has (${E})`, param: "k" });
    if (E % G !== 0) issues.push({ message: `groups = ${G} does not divide the pool size ${E}`, param: "groups" });
    else if (K > G) issues.push({ message: `keep = ${K} is more than groups = ${G}`, param: "keep" });
    else if (k > (K * E) / G) issues.push({ message: `k = ${k} is more than the ${(K * E) / G} experts in the ${K} kept groups`, param: "k" });
    return issues;
  },
  active: (a) => ({ count: a.k as number, label: "exact" }),
  maxPerToken: (a) => a.k as number,
  native: { select: NATIVE.select.group_topk },
  torch: {
    // A group's score: the sum of its top min(2, E/G) selection scores (DeepSeek-V3).
    select: [
      'T, E, G = sel.shape[0], ctx.E, ctx.args["groups"]',
      "size = E // G",
      "group_score = sel.view(T, G, size).topk(min(2, size), dim=-1).values.sum(-1)",
      'kept = unrank(ranked(group_score), slots(group_score) < ctx.args["keep"])',
      "kept = kept.repeat_interleave(size, dim=-1)",
      'among = torch.where(kept, sel, torch.full_like(sel, float("-inf")))',
      'return unrank(ranked(among), slots(sel) < ctx.args["k"]) & kept',
    ].join("\n"),
  },
  reference: {
    select(sel, _w, ctx) {
      const k = num(ctx.args, "k");
      const G = num(ctx.args, "groups");
      const keep = num(ctx.args, "keep");
      const size = sel.length / G;
      const top = Math.min(2, size);
      // A group's score: the sum of its top min(2, E/G) selection scores (DeepSeek-V3).
      const groupScore = Array.from({ length: G }, (_, g) => {
        const vals = Array.from(sel.subarray(g * size, (g + 1) * size)).sort((a, b) => b - a);
        return vals.slice(0, top).reduce((a, b) => a + b, 0);
      });
      const kept = new Set(ranked(groupScore).slice(0, keep));
      return ranked(sel, (e) => kept.has(Math.floor(e / size))).slice(0, k);
    },
  },
};

export const choose: StdStageSpec = {
  name: "choose",
  kind: "select",
  scope: "run",
  doc: "Expert choice: each expert takes its max(1, min(T, ⌊c·T/E⌋)) highest-scoring tokens of the run.",
  params: [{ name: "capacity", type: "number", min: 0, minExclusive: true, positional: true, doc: "capacity factor c" }],
  active: (a) => ({ count: a.capacity as number, label: "expectation" }),
  maxPerToken: (_a, E) => E,
  native: { select: NATIVE.select.choose },
  torch: {
    // Per run: each expert takes its capacity best tokens (ties to the lower token).
    select: [
      "T, E = sel.shape",
      'cap = max(1, min(T, math.floor(ctx.args["capacity"] * T / E)))',
      "order = torch.sort(sel, dim=0, descending=True, stable=True).indices",
      "take = (torch.arange(T, device=sel.device) < cap)[:, None].expand(T, E)",
      "return torch.zeros_like(take).scatter(0, order, take)",
    ].join("\n"),
  },
  reference: {
    selectRun(sel, _w, ctx) {
      const T = ctx.tokens;
      const E = ctx.E;
      const cap = Math.max(1, Math.min(T, Math.floor((num(ctx.args, "capacity") * T) / E)));
      const chosen: boolean[][] = Array.from({ length: T }, () => new Array<boolean>(E).fill(false));
      for (let e = 0; e < E; e++) {
        const col = Float64Array.from({ length: T }, (_, t) => sel[t]![e]!);
        for (const t of ranked(col).slice(0, cap)) chosen[t]![e] = true;
      }
      // A token's slots in expert-index order.
      return chosen.map((row) => row.flatMap((on, e) => (on ? [e] : [])));
    },
  },
};

export const dense: StdStageSpec = {
  name: "dense",
  kind: "select",
  doc: "Every expert, with its weight (a soft gate).",
  params: [],
  active: (_a, E) => ({ count: E, label: "exact" }),
  maxPerToken: (_a, E) => E,
  native: { select: NATIVE.select.dense },
  torch: { select: "return torch.ones_like(sel, dtype=torch.bool)" },
  reference: { select: (sel) => Array.from({ length: sel.length }, (_, e) => e) },
};

export const renorm: StdStageSpec = {
  name: "renorm",
  kind: "post",
  doc: "Selected weights divided by their sum (all zero stays zero).",
  native: { post: NATIVE.post.renorm },
  torch: {
    post: [
      "s = w.sum(dim=-1, keepdim=True)",
      "return torch.where(s == 0, w, w / torch.where(s == 0, torch.ones_like(s), s))",
    ].join("\n"),
  },
  reference: {
    post(w) {
      let sum = 0;
      for (const v of w) sum += v;
      return sum === 0 ? w.slice() : w.map((v) => v / sum);
    },
  },
};

export const scale: StdStageSpec = {
  name: "scale",
  kind: "post",
  doc: "Multiplies the selected weights by s.",
  params: [{ name: "s", type: "number", positional: true, doc: "factor" }],
  native: { post: NATIVE.post.scale },
  torch: { post: 'return w * ctx.args["s"]' },
  reference: { post: (w, ctx) => w.map((v) => v * num(ctx.args, "s")) },
};

export const SELECT_STAGES = [topk, topp, threshold, groupTopk, choose, dense];
export const POST_STAGES = [renorm, scale];
