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
import { header, NONE, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

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
/** Stage slots in the uniform block (more transforms or post stages than this are rejected). */
export const ROUTER_MAX_STAGES = 4;

export const ROUTER_TOKENS_PER_WORKGROUP = TT;

const TRANSFORM_CODE: Record<RouterTransform["kind"], number> = { softmax: 0, log_softmax: 1, sigmoid: 2, exp: 3, temp: 4 };
const SELECT_CODE: Record<RouterSelect["kind"], number> = { topk: 0, topp: 1, threshold: 2, dense: 3 };
const POST_CODE: Record<RouterPost["kind"], number> = { renorm: 0, softmax: 1, exp: 2, scale: 3 };

const f32Bits = (v: number): number => new Uint32Array(Float32Array.of(v).buffer)[0]!;

/**
 * Uniform words of the router's Params: the stage pipeline is data, not code, so ONE pipeline
 * serves every router (compiling a WGSL variant costs seconds on lavapipe and ~100 ms on GPUs).
 */
export function routerParams(o: RouterKernelOptions, dim: number): number[] {
  if (o.transforms.length > ROUTER_MAX_STAGES || o.post.length > ROUTER_MAX_STAGES) {
    throw new UnsupportedStageError(`the GPU router takes at most ${ROUTER_MAX_STAGES} transforms and ${ROUTER_MAX_STAGES} post-select stages`);
  }
  const sel = o.select;
  const rounds = sel.kind === "topk" ? sel.k : sel.kind === "dense" ? 0 : sel.max;
  const selParam = sel.kind === "topp" ? sel.p : sel.kind === "threshold" ? sel.delta : 0;
  const words = [
    dim, o.numExperts, routerMaxPerToken(o), rounds,
    WG / 2, o.transforms.length, SELECT_CODE[sel.kind], o.post.length,
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

/** The fused router kernel; `maxExperts` only sizes the per-thread selection mask (1 word up to 8192). */
export function routerKernel(o: { dtype: StorageDtype; maxExperts?: number }): KernelSpec {
  const MASKW = Math.max(1, Math.ceil(Math.ceil((o.maxExperts ?? 1) / WG) / 32));
  const code = `${header(o.dtype)}
${RUN_STRUCT}
// wg_half = WG/2 comes from the host so the reduction loops stay rolled: llvmpipe (lavapipe)
// turns each barrier of an unrolled loop into a coroutine suspend point and its JIT then takes
// seconds; GPU drivers unroll either way. Stage codes: see routerParams.
struct Params {
  D: u32, E: u32, maxK: u32, rounds: u32,
  wg_half: u32, n_transforms: u32, select_kind: u32, n_post: u32,
  select_param: f32, score_bias: u32, selection_bias: u32, _a: u32,
  tcode: vec4<u32>, tparam: vec4<f32>, pcode: vec4<u32>, pparam: vec4<f32>,
}
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> x: array<st>;
@group(0) @binding(3) var<storage, read> weight: array<st>;
@group(0) @binding(4) var<storage, read> bias: array<st>;
@group(0) @binding(5) var<storage, read> ebias: array<f32>;
@group(0) @binding(6) var<storage, read_write> scr: array<f32>;
@group(0) @binding(7) var<storage, read_write> tok_count: array<u32>;
@group(0) @binding(8) var<storage, read_write> ids: array<u32>;
@group(0) @binding(9) var<storage, read_write> wts: array<f32>;
@group(0) @binding(10) var<storage, read_write> expert_count: array<atomic<u32>>;

const WG = ${WG}u;
const TT = ${TT}u;
const BKR = ${BKR}u;
const MASKW = ${MASKW}u;
const NONE = ${NONE}u;

struct Cand { v: f32, i: u32, w: f32 }
var<workgroup> xs: array<f32, ${TT * BKR}>;
var<workgroup> red: array<Cand, ${WG}>;
var<workgroup> redf: array<f32, ${WG}>;
var<private> lid: u32;

// Higher selection score wins; ties go to the lower expert index; NONE always loses.
fn better(a: Cand, b: Cand) -> bool {
  if (a.i == NONE) { return false; }
  if (b.i == NONE) { return true; }
  return a.v > b.v || (a.v == b.v && a.i < b.i);
}

// Each reduction starts with a barrier: the previous one's broadcast load must be finished
// everywhere before slot 0 is overwritten.
fn reduce_best(c: Cand) -> Cand {
  workgroupBarrier();
  red[lid] = c;
  workgroupBarrier();
  for (var s = p.wg_half; s > 0u; s = s >> 1u) {
    if (lid < s && better(red[lid + s], red[lid])) { red[lid] = red[lid + s]; }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&red[0]);
}

// op 0: max, 1: sum.
fn reduce_f32(v: f32, op: u32) -> f32 {
  workgroupBarrier();
  redf[lid] = v;
  workgroupBarrier();
  for (var s = p.wg_half; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let o = redf[lid + s];
      redf[lid] = select(redf[lid] + o, max(redf[lid], o), op == 0u);
    }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&redf[0]);
}

fn sel_value(row: u32, e: u32) -> f32 {
  var v = scr[row + e];
  if (p.selection_bias != 0u) { v += ebias[e]; }
  return v;
}

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
    // Zeroed explicitly: the per-iteration zero-init of a loop-body var left stale sums for the
    // second expert chunk on lavapipe.
    var acc: array<f32, TT>;
    for (var t = 0u; t < TT; t++) { acc[t] = 0.0; }
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
      var b = 0.0;
      if (p.score_bias != 0u) { b = f32(bias[e]); }
      for (var t = 0u; t < TT; t++) {
        if (tok0 + t < T) { scr[(tok0 + t) * E + e] = acc[t] + b; }
      }
    }
  }

  for (var t = 0u; t < TT; t++) {
    let tok = tok0 + t;
    if (tok >= T) { break; }
    let row = tok * E;
    let slot0 = tok * p.maxK;

    // 2. Transforms on both streams, each thread on its own experts.
    for (var ti = 0u; ti < p.n_transforms; ti++) {
      let code = p.tcode[ti];
      if (code <= 1u) {
        var lm = -3.402823e38;
        for (var j = 0u; j < NJ; j++) { let e = tid + j * WG; if (e < E) { lm = max(lm, scr[row + e]); } }
        let m = reduce_f32(lm, 0u);
        var ls = 0.0;
        for (var j = 0u; j < NJ; j++) { let e = tid + j * WG; if (e < E) { ls += exp(scr[row + e] - m); } }
        let s = reduce_f32(ls, 1u);
        let lse = m + log(s);
        for (var j = 0u; j < NJ; j++) {
          let e = tid + j * WG;
          if (e < E) {
            let z = scr[row + e];
            scr[row + e] = select(z - lse, exp(z - m) / s, code == 0u);
          }
        }
      } else {
        let tau = p.tparam[ti];
        for (var j = 0u; j < NJ; j++) {
          let e = tid + j * WG;
          if (e < E) {
            let z = scr[row + e];
            var v = z / tau;
            if (code == 2u) { v = 1.0 / (1.0 + exp(-z)); }
            if (code == 3u) { v = exp(z); }
            scr[row + e] = v;
          }
        }
      }
    }

    // 3. Selection.
    var cnt = 0u;
    if (p.select_kind == 3u) {
      // dense: every expert in index order; other threads' weights are then read by thread 0.
      for (var j = 0u; j < NJ; j++) {
        let e = tid + j * WG;
        if (e < E) { ids[slot0 + e] = e; wts[slot0 + e] = scr[row + e]; atomicAdd(&expert_count[e], 1u); }
      }
      cnt = E;
      storageBarrier();
      workgroupBarrier();
    } else {
      var mask: array<u32, MASKW>;
      for (var q = 0u; q < MASKW; q++) { mask[q] = 0u; }
      var best = Cand(-3.402823e38, NONE, 0.0);
      for (var j = 0u; j < NJ; j++) {
        let e = tid + j * WG;
        if (e < E) { let c = Cand(sel_value(row, e), e, scr[row + e]); if (better(c, best)) { best = c; } }
      }
      var cum = 0.0;
      for (var r = 0u; r < p.rounds; r++) {
        let c = reduce_best(best);
        if (c.i == NONE) { break; }
        // threshold: highest first, stop below delta (possibly selecting none).
        if (p.select_kind == 2u && c.v < p.select_param) { break; }
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
              let cc = Cand(sel_value(row, e), e, scr[row + e]);
              if (better(cc, best)) { best = cc; }
            }
          }
        }
        // topp: the shortest prefix whose weight sum exceeds p.
        cum += c.w;
        if (p.select_kind == 1u && cum > p.select_param) { break; }
      }
    }

    // 4. Post-select on the selected weights, in slot order (thread 0: deterministic).
    if (tid == 0u) {
      for (var pi = 0u; pi < p.n_post; pi++) {
        let code = p.pcode[pi];
        if (code == 0u || code == 1u) {
          var m = -3.402823e38;
          for (var s = 0u; s < cnt; s++) { m = max(m, wts[slot0 + s]); }
          var sum = 0.0;
          for (var s = 0u; s < cnt; s++) {
            var v = wts[slot0 + s];
            if (code == 1u) { v = exp(v - m); wts[slot0 + s] = v; }
            sum += v;
          }
          // renorm: all-zero weights stay zero (LANGUAGE.md §5).
          if (sum != 0.0) { for (var s = 0u; s < cnt; s++) { wts[slot0 + s] = wts[slot0 + s] / sum; } }
        } else {
          let f = p.pparam[pi];
          for (var s = 0u; s < cnt; s++) {
            let v = wts[slot0 + s];
            wts[slot0 + s] = select(v * f, exp(v), code == 2u);
          }
        }
      }
      tok_count[tok] = cnt;
    }
    workgroupBarrier();
  }
}
`;
  return { name: `router[${o.dtype}${MASKW > 1 ? `,mask${MASKW}` : ""}]`, code, entryPoint: "main", bindings: ROUTER_BINDINGS };
}

const ROUTER_BINDINGS: KernelSpec["bindings"] = [
  { name: "run", kind: "uniform" },
  { name: "params", kind: "uniform" },
  { name: "x", kind: "read" },
  { name: "weight", kind: "read" },
  { name: "bias", kind: "read" },
  { name: "ebias", kind: "read" },
  { name: "scr", kind: "storage" },
  { name: "tok_count", kind: "storage" },
  { name: "ids", kind: "storage" },
  { name: "wts", kind: "storage" },
  { name: "expert_count", kind: "storage" },
];
