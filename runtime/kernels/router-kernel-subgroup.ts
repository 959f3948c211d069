// The fused router kernel, subgroup form (adapters with the `subgroups` feature):
//
//   1. gate GEMM: workgroup = TT tokens; thread t owns experts e ≡ t (mod 64) and keeps TT
//      accumulators, so each W row is read once per TT tokens; x is read straight from memory
//      (broadcast loads), so this phase has no barrier. One barrier then publishes the scores.
//   2–4. ONE SUBGROUP PER TOKEN: subgroups pull tokens from a workgroup counter (robust to any
//      subgroup size or layout); lanes own experts e ≡ lane (mod lanes). Softmax statistics,
//      each selection round's arg-max (subgroupMax, then subgroupMin over the indices at the max:
//      ties to the lower index) and the winner's weight (subgroupAdd of the one lane holding it)
//      need no barrier at all. Round r rescans only the candidates ranked after round r−1's
//      winner: O(k·E/lanes) per token, any E, no per-expert state.
//   Post-select runs on lane 0 in slot order (lane 0 wrote those slots); dense selection
//   normalizes in parallel with subgroup reductions.
//
// Barriers cost a coroutine switch per invocation on lavapipe (~µs each); this form has one.

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { ROUTER_BINDINGS, ROUTER_ORDER_WGSL, ROUTER_PARAMS_WGSL } from "./router-common.js";
import { header, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const SUBGROUP_ROUTER_WG = 64;
export const SUBGROUP_ROUTER_TOKENS = 16;

export function subgroupRouterKernel(dtype: StorageDtype): KernelSpec {
  const WG = SUBGROUP_ROUTER_WG;
  const TT = SUBGROUP_ROUTER_TOKENS;
  const code = `${header(dtype, { subgroups: true })}${RUN_STRUCT}
${ROUTER_PARAMS_WGSL}
${ROUTER_ORDER_WGSL}
const WG = ${WG}u;
const TT = ${TT}u;
var<workgroup> next_token: atomic<u32>;

@compute @workgroup_size(${WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let T = run.T;
  let D = p.D;
  let E = p.E;
  let tok0 = wg_linear * TT;
  if (tok0 >= T) { return; }
  let ntok = min(TT, T - tok0);

  // 1. Gate GEMM: scr[t, e] = x[t] · W[e] (+ b[e]).
  for (var e = tid; e < E; e += WG) {
    var acc: array<f32, TT>;
    for (var t = 0u; t < TT; t++) { acc[t] = 0.0; }  // explicit: loop-body vars were stale on lavapipe
    for (var k = 0u; k < D; k++) {
      let w = f32(weight[e * D + k]);
      for (var t = 0u; t < TT; t++) {
        if (t < ntok) { acc[t] = fma(w, f32(x[(tok0 + t) * D + k]), acc[t]); }
      }
    }
    var b = 0.0;
    if (p.score_bias != 0u) { b = f32(bias[e]); }
    for (var t = 0u; t < ntok; t++) { scr[(tok0 + t) * E + e] = acc[t] + b; }
  }
  storageBarrier();
  workgroupBarrier();

  // 2–4. One subgroup per token.
  let lanes = subgroupAdd(1u);
  let lane = subgroupExclusiveAdd(1u);
  loop {
    var tt = 0u;
    if (lane == 0u) { tt = atomicAdd(&next_token, 1u); }
    tt = subgroupBroadcastFirst(tt);
    if (tt >= ntok) { break; }
    let tok = tok0 + tt;
    let row = tok * E;
    let slot0 = tok * p.maxK;

    for (var ti = 0u; ti < p.n_transforms; ti++) {
      let code = p.tcode[ti];
      if (code <= 1u) {
        var lm = -3.402823e38;
        for (var e = lane; e < E; e += lanes) { lm = max(lm, scr[row + e]); }
        let m = subgroupMax(lm);
        var ls = 0.0;
        for (var e = lane; e < E; e += lanes) { ls += exp(scr[row + e] - m); }
        let s = subgroupAdd(ls);
        let lse = m + log(s);
        for (var e = lane; e < E; e += lanes) {
          let z = scr[row + e];
          scr[row + e] = select(z - lse, exp(z - m) / s, code == 0u);
        }
      } else {
        let tau = p.tparam[ti];
        for (var e = lane; e < E; e += lanes) { scr[row + e] = transform_elementwise(code, scr[row + e], tau); }
      }
    }

    var cnt = 0u;
    if (p.select_kind == 3u) {
      // dense: every expert, in index order; post-select with subgroup reductions.
      for (var e = lane; e < E; e += lanes) { ids[slot0 + e] = e; wts[slot0 + e] = scr[row + e]; atomicAdd(&expert_count[e], 1u); }
      cnt = E;
      for (var pi = 0u; pi < p.n_post; pi++) {
        let code = p.pcode[pi];
        if (code <= 1u) {
          var lm = -3.402823e38;
          for (var e = lane; e < E; e += lanes) { lm = max(lm, wts[slot0 + e]); }
          let m = subgroupMax(lm);
          var ls = 0.0;
          for (var e = lane; e < E; e += lanes) {
            var v = wts[slot0 + e];
            if (code == 1u) { v = exp(v - m); wts[slot0 + e] = v; }
            ls += v;
          }
          let s = subgroupAdd(ls);
          if (s != 0.0) { for (var e = lane; e < E; e += lanes) { wts[slot0 + e] = wts[slot0 + e] / s; } }
        } else {
          let f = p.pparam[pi];
          for (var e = lane; e < E; e += lanes) {
            let v = wts[slot0 + e];
            wts[slot0 + e] = select(v * f, exp(v), code == 2u);
          }
        }
      }
    } else {
      var pv = 0.0;
      var pi = NONE;
      var cum = 0.0;
      for (var r = 0u; r < p.rounds; r++) {
        var best = Cand(0.0, NONE, 0.0);
        for (var e = lane; e < E; e += lanes) {
          let v = sel_value(row, e);
          if (after_prev(v, e, pv, pi)) {
            let c = Cand(v, e, scr[row + e]);
            if (better(c, best)) { best = c; }
          }
        }
        let m = subgroupMax(select(-3.402823e38, best.v, best.i != NONE));
        let wi = subgroupMin(select(NONE, best.i, best.i != NONE && best.v == m));
        if (wi == NONE) { break; }
        // threshold: highest first, stop below delta (possibly selecting none).
        if (p.select_kind == 2u && m < p.select_param) { break; }
        let ww = subgroupAdd(select(0.0, best.w, best.i == wi));
        if (lane == 0u) { ids[slot0 + cnt] = wi; wts[slot0 + cnt] = ww; atomicAdd(&expert_count[wi], 1u); }
        cnt += 1u;
        pv = m;
        pi = wi;
        // topp: the shortest prefix whose weight sum exceeds p.
        cum += ww;
        if (p.select_kind == 1u && cum > p.select_param) { break; }
      }
      if (lane == 0u) { post_select_serial(slot0, cnt); }
    }
    if (lane == 0u) { tok_count[tok] = cnt; }
  }
}
`;
  return { name: `router[subgroups,${dtype}]`, code, entryPoint: "main", bindings: ROUTER_BINDINGS };
}
