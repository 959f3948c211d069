// WGSL shared by the two router kernels (subgroup and workgroup): the uniform block carrying the
// stage pipeline (router-options.ts), the bindings, candidate ordering and the serial
// post-select stages.

import type { KernelSpec } from "./kernel-spec.js";

export const ROUTER_PARAMS_WGSL = /* wgsl */ `
// Stage codes: see routerParams. wg_half is only used by the workgroup kernel's reductions.
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
`;

export const ROUTER_BINDINGS: KernelSpec["bindings"] = [
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

/**
 * Candidates in selection order: higher selection score first, ties to the lower expert index,
 * NONE last. Round r of a selection takes the best candidate ranked AFTER round r−1's winner, so
 * no per-expert "taken" state is needed for any E. NaN scores are never selected.
 */
export const ROUTER_ORDER_WGSL = /* wgsl */ `
const NONE = 0xffffffffu;
struct Cand { v: f32, i: u32, w: f32 }
fn better(a: Cand, b: Cand) -> bool {
  if (a.i == NONE) { return false; }
  if (b.i == NONE) { return true; }
  return a.v > b.v || (a.v == b.v && a.i < b.i);
}
// Is (v, e) ranked after the previous winner (pv, pi)? pi == NONE: no previous winner.
fn after_prev(v: f32, e: u32, pv: f32, pi: u32) -> bool {
  return pi == NONE || v < pv || (v == pv && e > pi);
}
fn sel_value(row: u32, e: u32) -> f32 {
  var v = scr[row + e];
  if (p.selection_bias != 0u) { v += ebias[e]; }
  return v;
}
fn transform_elementwise(code: u32, z: f32, tau: f32) -> f32 {
  switch code {
    case 2u: { return 1.0 / (1.0 + exp(-z)); }
    case 3u: { return exp(z); }
    default: { return z / tau; }
  }
}
// Post-select stages over one token's cnt selected weights, serially in slot order (one
// invocation: deterministic). renorm: all-zero weights stay zero (LANGUAGE.md §5).
fn post_select_serial(slot0: u32, cnt: u32) {
  for (var pi = 0u; pi < p.n_post; pi++) {
    let code = p.pcode[pi];
    if (code <= 1u) {
      var m = -3.402823e38;
      for (var s = 0u; s < cnt; s++) { m = max(m, wts[slot0 + s]); }
      var sum = 0.0;
      for (var s = 0u; s < cnt; s++) {
        var v = wts[slot0 + s];
        if (code == 1u) { v = exp(v - m); wts[slot0 + s] = v; }
        sum += v;
      }
      if (sum != 0.0) { for (var s = 0u; s < cnt; s++) { wts[slot0 + s] = wts[slot0 + s] / sum; } }
    } else {
      let f = p.pparam[pi];
      for (var s = 0u; s < cnt; s++) {
        let v = wts[slot0 + s];
        wts[slot0 + s] = select(v * f, exp(v), code == 2u);
      }
    }
  }
}
`;
