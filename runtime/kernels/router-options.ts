// Router stage pipelines as the unfused baseline's kernels see them (lower-moe-unfused.ts,
// unfused-kernels.ts): the IR's stage list mapped onto the stages they implement, or a clear error
// naming the stage. (The fused router takes every stage through router-plan.ts.)

import type { IrRouter } from "../../compiler/ir/ir.js";
import type { StorageDtype } from "../gpu/buffers.js";

export type RouterTransform =
  | { kind: "softmax" }
  | { kind: "log_softmax" }
  | { kind: "sigmoid" }
  | { kind: "exp" }
  | { kind: "temp"; tau: number };

export type RouterSelect =
  | { kind: "topk"; k: number }
  | { kind: "topp"; p: number; max: number }
  | { kind: "threshold"; delta: number; max: number }
  | { kind: "dense" };

export type RouterPost = { kind: "renorm" } | { kind: "softmax" } | { kind: "exp" } | { kind: "scale"; s: number };

export interface RouterKernelOptions {
  dtype: StorageDtype;
  /** `linear(bias = true)`. */
  scoreBias: boolean;
  transforms: RouterTransform[];
  /** `bias(aux_free)` right before the select stage: `e_bias` added to the selection stream only. */
  selectionBias: boolean;
  select: RouterSelect;
  post: RouterPost[];
  numExperts: number;
}

export class UnsupportedStageError extends Error {
  override name = "UnsupportedStageError";
}

const num = (v: unknown, what: string): number => {
  if (typeof v !== "number") throw new UnsupportedStageError(`router stage parameter ${what} must be a number, got ${String(v)}`);
  return v;
};

/** Maps the IR router's stage list onto what the unfused baseline implements, or throws naming the stage. */
export function routerKernelOptions(router: IrRouter, dtype: StorageDtype): RouterKernelOptions {
  const st = router.stages;
  const where = (i: number): string => `router '${router.key}' stage ${i} '${st[i]!.name}'`;
  if (st.length === 0 || st[0]!.role !== "score" || st[0]!.name !== "linear") {
    throw new UnsupportedStageError(
      `router '${router.key}': the GPU kernel implements the 'linear' score stage only (got '${st[0]?.name ?? "nothing"}')`,
    );
  }
  const opts: RouterKernelOptions = {
    dtype,
    scoreBias: st[0]!.params["bias"] === true,
    transforms: [],
    selectionBias: false,
    select: { kind: "dense" },
    post: [],
    numExperts: router.numExperts,
  };
  let i = 1;
  for (; i < st.length && st[i]!.role === "transform"; i++) {
    const s = st[i]!;
    if (opts.selectionBias) throw new UnsupportedStageError(`${where(i)}: a transform after bias(aux_free) is not implemented on the GPU`);
    switch (s.name) {
      case "softmax":
      case "log_softmax":
      case "sigmoid":
      case "exp":
        opts.transforms.push({ kind: s.name });
        break;
      case "temp":
        opts.transforms.push({ kind: "temp", tau: num(s.params["tau"] ?? s.params["0"], "tau") });
        break;
      case "bias":
        opts.selectionBias = true;
        break;
      default:
        throw new UnsupportedStageError(`${where(i)} is not implemented on the GPU`);
    }
  }
  const sel = st[i];
  if (!sel || sel.role !== "select") throw new UnsupportedStageError(`router '${router.key}' has no select stage`);
  const E = router.numExperts;
  switch (sel.name) {
    case "topk": {
      const k = num(sel.params["k"] ?? sel.params["0"], "k");
      if (k < 1 || k > E) throw new UnsupportedStageError(`${where(i)}: k = ${k} must be in 1..${E}`);
      opts.select = { kind: "topk", k };
      break;
    }
    case "topp":
      opts.select = {
        kind: "topp",
        p: num(sel.params["p"] ?? sel.params["0"], "p"),
        max: Math.min(E, num(sel.params["max"] ?? E, "max")),
      };
      break;
    case "threshold":
      opts.select = {
        kind: "threshold",
        delta: num(sel.params["delta"] ?? sel.params["0"], "delta"),
        max: Math.min(E, num(sel.params["max"] ?? E, "max")),
      };
      break;
    case "dense":
      opts.select = { kind: "dense" };
      break;
    default:
      throw new UnsupportedStageError(`${where(i)} is not implemented on the GPU (expert choice needs the batch pass)`);
  }
  for (i++; i < st.length; i++) {
    const s = st[i]!;
    if (s.role !== "post") throw new UnsupportedStageError(`${where(i)}: expected a post-select stage`);
    switch (s.name) {
      case "renorm":
      case "softmax":
      case "exp":
        opts.post.push({ kind: s.name });
        break;
      case "scale":
        opts.post.push({ kind: "scale", s: num(s.params["s"] ?? s.params["0"], "s") });
        break;
      default:
        throw new UnsupportedStageError(`${where(i)} is not implemented on the GPU`);
    }
  }
  return opts;
}

/** Static per-token slot count the kernel writes. */
export function routerMaxPerToken(o: RouterKernelOptions): number {
  switch (o.select.kind) {
    case "topk":
      return o.select.k;
    case "topp":
    case "threshold":
      return o.select.max;
    case "dense":
      return o.numExperts;
  }
}
