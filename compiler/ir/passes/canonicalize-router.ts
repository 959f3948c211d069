// Pass `canonicalize-router`: rewrites a router's stage list into the cheapest equivalent form
// (LANGUAGE.md §5), from which the runtime picks its kernel path. Each rule keeps the routing
// weights and the selection exactly (up to rounding) and is listed by name in `rewrites`:
//
//   softmax-topk-renorm:     … |> softmax |> topk(k) |> renorm |> P  ≡  … |> topk(k) |> softmax |> P
//     (renormalizing softmax probabilities over the selected = softmax of their logits; softmax
//      is monotone per row, so the selection is unchanged; exp over k experts instead of E)
//   exp-topk-renorm:         … |> exp |> topk(k) |> renorm |> P      ≡  … |> topk(k) |> softmax |> P
//   logsoftmax-topk-softmax: … |> log_softmax |> topk(k) |> softmax |> P ≡ … |> topk(k) |> softmax |> P
//     (softmax is shift-invariant)
//
// In all three, the pre-selection weight stream p of the statistics (§10) is softmax of the
// rewritten stream, which `entropyFromSoftmax` records.

import type { IrRouter, IrStage } from "../ir.js";

export interface CanonicalRouter {
  router: IrRouter;
  /** Names of the rules applied, in order. */
  rewrites: string[];
  /** True when §10's p is softmax of the rewritten pre-selection stream whatever its sign. */
  entropyFromSoftmax: boolean;
}

const POST_SOFTMAX: IrStage = { name: "softmax", role: "post", params: {} };

export function canonicalizeRouter(r: IrRouter): CanonicalRouter {
  let stages = r.stages;
  const rewrites: string[] = [];
  for (;;) {
    const sel = stages.findIndex((s) => s.role === "select");
    if (sel < 2 || stages[sel]!.name !== "topk") break;
    const last = stages[sel - 1]!;
    const next = stages[sel + 1];
    if (last.role !== "transform" || !next) break;
    let rule: string | undefined;
    if (last.name === "softmax" && next.name === "renorm") rule = "softmax-topk-renorm";
    else if (last.name === "exp" && next.name === "renorm") rule = "exp-topk-renorm";
    else if (last.name === "log_softmax" && next.name === "softmax") rule = "logsoftmax-topk-softmax";
    if (!rule) break;
    stages = [...stages.slice(0, sel - 1), stages[sel]!, POST_SOFTMAX, ...stages.slice(sel + 2)];
    rewrites.push(rule);
  }
  return {
    router: rewrites.length ? { ...r, stages } : r,
    rewrites,
    entropyFromSoftmax: rewrites.length > 0,
  };
}

/** The router's stage list as one line: `linear |> topk(k=2) |> softmax`. */
export function printStages(r: IrRouter): string {
  return r.stages
    .map((s) => {
      const args = Object.entries(s.params).map(([k, v]) => `${k}=${v}`);
      return args.length ? `${s.name}(${args.join(", ")})` : s.name;
    })
    .join(" |> ");
}
