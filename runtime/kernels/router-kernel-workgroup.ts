// The fused router kernel, workgroup form (fallback for adapters without `subgroups`):
// workgroup = TT tokens × 256 threads; thread t owns experts e ≡ t (mod 256) in every phase, so
// the score rows it writes are only read back by itself (no storage barrier needed):
//   1. gate GEMM: x rows staged in workgroup memory per K-chunk, TT accumulators per thread;
//   2. transforms in place; softmax statistics by tree reductions in workgroup memory;
//   3. selection: round r takes the best candidate ranked after round r−1's winner (tree
//      arg-max over per-thread bests, ties to the lower index), any E, k·log2(256) barriers;
//   4. post-select on thread 0, in slot order.
// Reduction loops run to a uniform bound (wg_half) so lavapipe's JIT keeps them rolled.

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { ROUTER_BINDINGS, ROUTER_ORDER_WGSL, ROUTER_PARAMS_WGSL } from "./router-common.js";
import { header, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const WORKGROUP_ROUTER_WG = 256;
export const WORKGROUP_ROUTER_TOKENS = 4;
const BKR = 32;

export function workgroupRouterKernel(dtype: StorageDtype): KernelSpec {
  const WG = WORKGROUP_ROUTER_WG;
  const TT = WORKGROUP_ROUTER_TOKENS;
  const code = `${header(dtype)}
${RUN_STRUCT}
${ROUTER_PARAMS_WGSL}
${ROUTER_ORDER_WGSL}
const WG = ${WG}u;
const TT = ${TT}u;
const BKR = ${BKR}u;
var<workgroup> xs: array<f32, ${TT * BKR}>;
var<workgroup> red: array<Cand, ${WG}>;
var<workgroup> redf: array<f32, ${WG}>;
var<private> lid: u32;

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

  // 1. Gate GEMM for TT tokens.
  for (var e0 = 0u; e0 < E; e0 += WG) {
    let e = e0 + tid;
    var acc: array<f32, TT>;
    for (var t = 0u; t < TT; t++) { acc[t] = 0.0; }  // explicit: loop-body vars were stale on lavapipe
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

    // 2. Transforms on both streams.
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
          if (e < E) { scr[row + e] = transform_elementwise(code, scr[row + e], tau); }
        }
      }
    }

    // 3. Selection.
    var cnt = 0u;
    if (p.select_kind == 3u) {
      // dense: every expert in index order; thread 0 then reads the others' weights.
      for (var j = 0u; j < NJ; j++) {
        let e = tid + j * WG;
        if (e < E) { ids[slot0 + e] = e; wts[slot0 + e] = scr[row + e]; atomicAdd(&expert_count[e], 1u); }
      }
      cnt = E;
      storageBarrier();
      workgroupBarrier();
    } else {
      var pv = 0.0;
      var pi = NONE;
      var cum = 0.0;
      for (var r = 0u; r < p.rounds; r++) {
        var best = Cand(0.0, NONE, 0.0);
        for (var j = 0u; j < NJ; j++) {
          let e = tid + j * WG;
          if (e < E) {
            let v = sel_value(row, e);
            if (after_prev(v, e, pv, pi)) { let c = Cand(v, e, scr[row + e]); if (better(c, best)) { best = c; } }
          }
        }
        let c = reduce_best(best);
        if (c.i == NONE) { break; }
        if (p.select_kind == 2u && c.v < p.select_param) { break; }
        if (tid == 0u) { ids[slot0 + cnt] = c.i; wts[slot0 + cnt] = c.w; atomicAdd(&expert_count[c.i], 1u); }
        cnt += 1u;
        pv = c.v;
        pi = c.i;
        cum += c.w;
        if (p.select_kind == 1u && cum > p.select_param) { break; }
      }
    }

    // 4. Post-select, in slot order.
    if (tid == 0u) {
      post_select_serial(slot0, cnt);
      tok_count[tok] = cnt;
    }
    workgroupBarrier();
  }
}
`;
  return { name: `router[workgroup,${dtype}]`, code, entryPoint: "main", bindings: ROUTER_BINDINGS };
}
