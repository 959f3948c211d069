// The fused router kernel: gate GEMM, score transforms, selection, post-select normalization
// and the per-expert counts, in ONE dispatch.
//
// Workgroup = TT tokens × 256 threads. Thread `tid` owns experts e ≡ tid (mod 256) for its
// tokens in every phase, so the f32 score rows it writes to the scratch buffer [T, E] are only
// ever read back by itself (no storage barrier needed):
//   1. gate GEMM: x rows staged in workgroup memory in K-chunks, W rows streamed per thread;
//   2. transforms (softmax / log_softmax with tree reductions, sigmoid, exp, temp) in place;
//   3. selection by repeated arg-max: each thread keeps its local best (value, index, weight);
//      a tree reduction finds the winner (ties to the lower index), only the owner rescans.
//      Any E works (items per thread = ceil(E/256)), k rounds cost k·log2(256) barriers;
//      topp / threshold stop early on a workgroup-uniform flag (ragged: count ≤ maxPerToken);
//   4. post-select on the token's selected weights (thread 0, in slot order: deterministic).
// Outputs per token: count [T], ids [T·maxK], weights [T·maxK]; per expert: atomic counts [E].

import type { IrRouter } from "../../compiler/ir/ir.js";
import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { f32Lit, header, NONE, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

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

const WG = 256;
const TT = 4;
const BKR = 32;

export const ROUTER_TOKENS_PER_WORKGROUP = TT;

/** Uniform words of the router's Params struct. */
export function routerParams(o: RouterKernelOptions, dim: number): number[] {
  const rounds = o.select.kind === "topk" ? o.select.k : o.select.kind === "dense" ? 0 : o.select.max;
  return [dim, o.numExperts, routerMaxPerToken(o), rounds];
}

function transformCode(t: RouterTransform): string {
  const loop = (body: string): string =>
    `for (var j = 0u; j < NJ; j++) { let e = tid + j * WG; if (e < E) { let q = row + e; ${body} } }`;
  switch (t.kind) {
    case "sigmoid":
      return loop(`scr[q] = 1.0 / (1.0 + exp(-scr[q]));`);
    case "exp":
      return loop(`scr[q] = exp(scr[q]);`);
    case "temp":
      return loop(`scr[q] = scr[q] / ${f32Lit(t.tau)};`);
    case "softmax":
    case "log_softmax": {
      const write = t.kind === "softmax" ? `scr[q] = exp(scr[q] - m) / s;` : `scr[q] = scr[q] - m - log(s);`;
      return `{
        var lm = -3.402823e38;
        for (var j = 0u; j < NJ; j++) { let e = tid + j * WG; if (e < E) { lm = max(lm, scr[row + e]); } }
        let m = reduce_max(lm);
        var ls = 0.0;
        for (var j = 0u; j < NJ; j++) { let e = tid + j * WG; if (e < E) { ls += exp(scr[row + e] - m); } }
        let s = reduce_sum(ls);
        ${loop(write)}
      }`;
    }
  }
}

function postCode(p: RouterPost): string {
  const each = (body: string): string => `for (var s = 0u; s < cnt; s++) { let q = slot0 + s; ${body} }`;
  switch (p.kind) {
    case "renorm":
      // All-zero weights stay zero (LANGUAGE.md §5).
      return `{ var sum = 0.0; ${each("sum += wts[q];")} if (sum != 0.0) { ${each("wts[q] = wts[q] / sum;")} } }`;
    case "softmax":
      return `{ var m = -3.402823e38; ${each("m = max(m, wts[q]);")} var sum = 0.0; ${each("let v = exp(wts[q] - m); wts[q] = v; sum += v;")} ${each("wts[q] = wts[q] / sum;")} }`;
    case "exp":
      return each("wts[q] = exp(wts[q]);");
    case "scale":
      return each(`wts[q] = wts[q] * ${f32Lit(p.s)};`);
  }
}

export function routerKernel(o: RouterKernelOptions): KernelSpec {
  // E, D and the round count are uniforms so that one pipeline serves every pool size; only the
  // mask width (1 word up to E = 8192) and the stage constants are baked into the source.
  const MASKW = Math.max(1, Math.ceil(Math.ceil(o.numExperts / WG) / 32));
  const sel = o.select;
  const selValue = o.selectionBias ? `scr[row + e] + f32(ebias[e])` : `scr[row + e]`;

  const bindings: KernelSpec["bindings"] = [
    { name: "run", kind: "uniform" },
    { name: "params", kind: "uniform" },
    { name: "x", kind: "read" },
    { name: "weight", kind: "read" },
  ];
  let decl = "";
  const bind = (name: string, kind: "read" | "storage", type: string): void => {
    decl += `@group(0) @binding(${bindings.length}) var<storage, ${kind === "read" ? "read" : "read_write"}> ${name}: ${type};\n`;
    bindings.push({ name, kind });
  };
  if (o.scoreBias) bind("bias", "read", "array<st>");
  if (o.selectionBias) bind("ebias", "read", "array<f32>");
  bind("scr", "storage", "array<f32>");
  bind("tok_count", "storage", "array<u32>");
  bind("ids", "storage", "array<u32>");
  bind("wts", "storage", "array<f32>");
  bind("expert_count", "storage", "array<atomic<u32>>");

  let selectBody: string;
  if (sel.kind === "dense") {
    // Every expert in index order; the weights of other threads are then read by thread 0
    // (post-select), hence the storage barrier.
    selectBody = `
      for (var j = 0u; j < NJ; j++) {
        let e = tid + j * WG;
        if (e < E) { ids[slot0 + e] = e; wts[slot0 + e] = scr[row + e]; atomicAdd(&expert_count[e], 1u); }
      }
      storageBarrier();
      workgroupBarrier();
      let cnt = E;`;
  } else {
    const accept =
      sel.kind === "threshold"
        ? `if (c.v < ${f32Lit(sel.delta)}) { break; }`
        : "";
    const stopAfter = sel.kind === "topp" ? `cum += c.w; if (cum > ${f32Lit(sel.p)}) { break; }` : "";
    selectBody = `
      var mask: array<u32, MASKW>;
      var best = Cand(-3.402823e38, NONE, 0.0);
      for (var j = 0u; j < NJ; j++) {
        let e = tid + j * WG;
        if (e < E) { let c = Cand(${selValue}, e, scr[row + e]); if (better(c, best)) { best = c; } }
      }
      var cnt = 0u;
      var cum = 0.0;
      for (var r = 0u; r < p.rounds; r++) {
        let c = reduce_best(best);
        if (c.i == NONE) { break; }
        ${accept}
        if (tid == 0u) { ids[slot0 + cnt] = c.i; wts[slot0 + cnt] = c.w; atomicAdd(&expert_count[c.i], 1u); }
        cnt += 1u;
        if (c.i % WG == tid) {
          // Only the owner of the winner rescans its items, skipping the ones already taken.
          let jw = c.i / WG;
          mask[jw / 32u] |= 1u << (jw % 32u);
          best = Cand(-3.402823e38, NONE, 0.0);
          for (var j = 0u; j < NJ; j++) {
            let e = tid + j * WG;
            if (e < E && (mask[j / 32u] & (1u << (j % 32u))) == 0u) {
              let cc = Cand(${selValue}, e, scr[row + e]);
              if (better(cc, best)) { best = cc; }
            }
          }
        }
        ${stopAfter}
      }`;
  }

  const code = `${header(o.dtype)}
${RUN_STRUCT}
struct Params { D: u32, E: u32, maxK: u32, rounds: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> x: array<st>;
@group(0) @binding(3) var<storage, read> weight: array<st>;
${decl}
const WG = ${WG}u;
const TT = ${TT}u;
const BKR = ${BKR}u;
const MASKW = ${MASKW}u;
const NONE = ${NONE}u;

struct Cand { v: f32, i: u32, w: f32 }
var<workgroup> xs: array<f32, ${TT * BKR}>;
var<workgroup> red: array<Cand, ${WG}>;
var<workgroup> redf: array<f32, ${WG}>;

// Higher selection score wins; ties go to the lower expert index; NONE always loses.
fn better(a: Cand, b: Cand) -> bool {
  if (a.i == NONE) { return false; }
  if (b.i == NONE) { return true; }
  return a.v > b.v || (a.v == b.v && a.i < b.i);
}

// Each reduction starts with a barrier: the previous one's broadcast load must be finished
// everywhere before slot 0 is overwritten.
fn reduce_best(c: Cand) -> Cand {
  let tid = lid;
  workgroupBarrier();
  red[tid] = c;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (tid < s && better(red[tid + s], red[tid])) { red[tid] = red[tid + s]; }
    workgroupBarrier();
  }
  let r = workgroupUniformLoad(&red[0]);
  return r;
}

fn reduce_max(v: f32) -> f32 {
  workgroupBarrier();
  redf[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { redf[lid] = max(redf[lid], redf[lid + s]); }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&redf[0]);
}

fn reduce_sum(v: f32) -> f32 {
  workgroupBarrier();
  redf[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { redf[lid] = redf[lid] + redf[lid + s]; }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&redf[0]);
}

var<private> lid: u32;

@compute @workgroup_size(${WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  lid = tid;
  let T = run.T;
  let D = p.D;
  let E = p.E;
  let NJ = (E + WG - 1u) / WG;
  let tok0 = wg_linear * TT;
  if (tok0 >= T) { return; }

  // 1. Gate GEMM for TT tokens: scr[t, e] = x[t] · W[e] (+ b[e]).
  for (var e0 = 0u; e0 < E; e0 += WG) {
    let e = e0 + tid;
    var acc: array<f32, TT>;
    for (var k0 = 0u; k0 < D; k0 += BKR) {
      workgroupBarrier();
      if (tid < TT * BKR) {
        let t = tok0 + tid / BKR;
        let k = k0 + tid % BKR;
        var v = 0.0;
        if (t < T && k < D) { v = f32(x[t * D + k]); }
        xs[tid] = v;
      }
      workgroupBarrier();
      if (e < E) {
        let kn = min(BKR, D - k0);
        for (var kk = 0u; kk < kn; kk++) {
          let w = f32(weight[e * D + k0 + kk]);
          for (var t = 0u; t < TT; t++) { acc[t] = fma(w, xs[t * BKR + kk], acc[t]); }
        }
      }
    }
    if (e < E) {
      for (var t = 0u; t < TT; t++) {
        if (tok0 + t < T) { scr[(tok0 + t) * E + e] = acc[t]${o.scoreBias ? " + f32(bias[e])" : ""}; }
      }
    }
  }

  for (var t = 0u; t < TT; t++) {
    let tok = tok0 + t;
    if (tok >= T) { break; }
    let row = tok * E;
    let slot0 = tok * p.maxK;
    // 2. Transforms, on both streams.
    ${o.transforms.map(transformCode).join("\n    ")}
    // 3. Selection.
    ${selectBody}
    // 4. Post-select, in slot order.
    if (tid == 0u) {
      ${o.post.map(postCode).join("\n      ")}
      tok_count[tok] = cnt;
    }
    workgroupBarrier();
  }
}
`;
  const name = `router[${[
    o.scoreBias ? "linear+b" : "linear",
    ...o.transforms.map((t) => t.kind),
    ...(o.selectionBias ? ["bias"] : []),
    sel.kind === "topk" ? `topk(${sel.k})` : sel.kind,
    ...o.post.map((p) => p.kind),
  ].join("|")}]`;
  return { name, code, entryPoint: "main", bindings };
}
