// Router stage pipelines as the GPU kernels see them: the IR's stage list mapped onto what the
// fused router implements (or a clear error naming the stage), and the uniform words that carry
// the pipeline to the kernel. Stages are DATA, not code, so one pipeline serves every router.

import type { IrRouter } from "../../compiler/ir/ir.js";
import type { StorageDtype } from "../gpu/buffers.js";
import { f32Bits } from "./wgsl-common.js";

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

/** Maps the IR router's stage list onto what the fused kernel implements, or throws naming the stage. */
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

/** Stage slots in the uniform block (more transforms or post stages than this are rejected). */
export const ROUTER_MAX_STAGES = 4;

const TRANSFORM_CODE: Record<RouterTransform["kind"], number> = { softmax: 0, log_softmax: 1, sigmoid: 2, exp: 3, temp: 4 };
const SELECT_CODE: Record<RouterSelect["kind"], number> = { topk: 0, topp: 1, threshold: 2, dense: 3 };
const POST_CODE: Record<RouterPost["kind"], number> = { renorm: 0, softmax: 1, exp: 2, scale: 3 };

/** Uniform words of the unfused baseline's router Params (lower-moe-unfused.ts). */
export function routerParams(o: RouterKernelOptions, dim: number, wgHalf: number): number[] {
  if (o.transforms.length > ROUTER_MAX_STAGES || o.post.length > ROUTER_MAX_STAGES) {
    throw new UnsupportedStageError(`the GPU router takes at most ${ROUTER_MAX_STAGES} transforms and ${ROUTER_MAX_STAGES} post-select stages`);
  }
  const sel = o.select;
  const rounds = sel.kind === "topk" ? sel.k : sel.kind === "dense" ? 0 : sel.max;
  const selParam = sel.kind === "topp" ? sel.p : sel.kind === "threshold" ? sel.delta : 0;
  const words = [
    dim, o.numExperts, routerMaxPerToken(o), rounds,
    wgHalf, o.transforms.length, SELECT_CODE[sel.kind], o.post.length,
    f32Bits(selParam), o.scoreBias ? 1 : 0, o.selectionBias ? 1 : 0, 0,
  ];
  const tc = [0, 0, 0, 0], tp = [0, 0, 0, 0], pc = [0, 0, 0, 0], pp = [0, 0, 0, 0];
  o.transforms.forEach((t, i) => {
    tc[i] = TRANSFORM_CODE[t.kind];
    tp[i] = f32Bits(t.kind === "temp" ? t.tau : 0);
  });
  o.post.forEach((q, i) => {
    pc[i] = POST_CODE[q.kind];
    pp[i] = f32Bits(q.kind === "scale" ? q.s : 0);
  });
  return [...words, ...tc, ...tp, ...pc, ...pp];
}
