// The sampler of LANGUAGE.md §13.2 as ONE dispatch: one workgroup per row of logits [B, V]
// (strided passes over the row, so V up to ~152k costs no more threads), which applies
// temperature, the repetition penalty, top-k, top-p and min-p, draws one token with Philox4x32-10
// keyed by the seed and counted by (step, row), writes its id into `ids` (where the next step's
// embedding reads it), marks it seen, and raises the row's `done` flag when it is a stop id.
//
// No sort. Every filter keeps a prefix of one total order, value descending then id ascending, so
// each filter's result is a cut (T, I): token i is kept iff key_i > T, or key_i = T and i ≤ I, where
// key is the f32 value's bits mapped to an order-preserving u32. A cut is found by bisection on T
// over the row's key range (≤ 32 passes, each a strided count-and-mass reduction), then on I over
// the ids tied at T (skipped when one id holds T). Counts are exact (integers in f32, V < 2^24);
// masses are f32 sums of exp(z − z_max) in a fixed order, monotone in the cut, so the bisection
// finds the shortest prefix under those sums. See docs/generation.md.

import type { StorageDtype } from "../../gpu/buffers.js";
import { defineKernel, read, uniformBlock, write } from "../define-kernel.js";
import { WG_BUILTINS, WG_LINEAR } from "../wgsl-common.js";
import { PHILOX_WGSL } from "./philox-wgsl.js";

export const SAMPLER_WG = 256;

/** Per-step values (a second uniform block, written by the host before each step's submit). */
export const SAMPLER_STEP_WORDS = 4;

export const SAMPLER_UNIFORMS = {
  V: "u32",
  /** u32 words of one row's seen bitmask: ceil(V / 32). */
  W: "u32",
  /** 1: greedy (τ = 0); the filters and the draw are skipped. */
  greedy: "u32",
  /** 0 or ≥ V: no top-k. */
  top_k: "u32",
  n_stop: "u32",
  /** Row b's id goes to ids[step.out_offset + b · out_stride]. */
  out_stride: "u32",
  seed_lo: "u32",
  seed_hi: "u32",
  /** τ (1 when greedy). */
  tau: "f32",
  penalty: "f32",
  /** 1: no top-p. */
  top_p: "f32",
  min_p: "f32",
  /** Elements between rows of logits (V, or the model's vocabulary when only the first V ids are drawn). */
  LD: "u32",
} as const;

export function samplerKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `sampler[${dtype}]`,
    dtype,
    uniforms: SAMPLER_UNIFORMS,
    buffers: {
      logits: read(),
      /** [B, W] bitmask of the ids each row has seen (prompt + generated); the drawn id is added. */
      seen: write("array<u32>"),
      stop: read("array<i32>"),
      ids: write("array<i32>"),
      /** [B]: set to 1 (never cleared here) when the row draws a stop id. */
      done: write("array<u32>"),
      step: uniformBlock("Step"),
    },
    body: /* wgsl */ `
struct Step { step: u32, out_offset: u32, _a: u32, _b: u32 }
${PHILOX_WGSL}
const WG: u32 = ${SAMPLER_WG}u;
const ALL: u32 = 0xffffffffu;

var<workgroup> red: array<vec2<f32>, WG>;
var<workgroup> redk: array<vec3<u32>, WG>;
var<workgroup> partial: array<f32, WG>;
var<workgroup> bcast_f: vec2<f32>;
var<workgroup> bcast_u: vec3<u32>;
var<workgroup> pick_id: u32;
var<private> row: u32;
var<private> lid: u32;

// The value the filters see: logit / τ, then Hugging Face's penalty on seen ids (−0 made +0 so
// equal values have equal keys).
fn zval(i: u32) -> f32 {
  var z = f32(logits[row * p.LD + i]) / p.tau;
  if (p.penalty != 1.0 && ((seen[row * p.W + (i >> 5u)] >> (i & 31u)) & 1u) == 1u) {
    z = select(z * p.penalty, z / p.penalty, z > 0.0);
  }
  return select(z, 0.0, z == 0.0);
}

// Order-preserving map of f32 bits to u32 (negative values reversed below positive ones).
fn key_of(z: f32) -> u32 {
  let b = bitcast<u32>(z);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn in_cut(i: u32, k: u32, cut: vec2<u32>) -> bool {
  return k > cut.x || (k == cut.x && i <= cut.y);
}

// (count, mass) of the tokens inside both cuts; mass in units of exp(z − zmax).
fn measure(cut: vec2<u32>, within: vec2<u32>, zmax: f32) -> vec2<f32> {
  var acc = vec2<f32>(0.0, 0.0);
  for (var i = lid; i < p.V; i += WG) {
    let z = zval(i);
    let k = key_of(z);
    if (in_cut(i, k, cut) && in_cut(i, k, within)) { acc += vec2<f32>(1.0, exp(z - zmax)); }
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { bcast_f = red[0]; }
  return workgroupUniformLoad(&bcast_f);
}

// Lowest and highest id whose key is k, among the tokens inside 'within'.
fn tie_range(k: u32, within: vec2<u32>) -> vec2<u32> {
  var lo = ALL;
  var hi = 0u;
  for (var i = lid; i < p.V; i += WG) {
    let ki = key_of(zval(i));
    if (ki == k && in_cut(i, ki, within)) { lo = min(lo, i); hi = max(hi, i); }
  }
  redk[lid] = vec3<u32>(lo, hi, 0u);
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let a = redk[lid];
      let b = redk[lid + s];
      redk[lid] = vec3<u32>(min(a.x, b.x), max(a.y, b.y), 0u);
    }
    workgroupBarrier();
  }
  if (lid == 0u) { bcast_u = redk[0]; }
  return workgroupUniformLoad(&bcast_u).xy;
}

// The shortest prefix (a cut) of the order, among the tokens inside 'within', whose measure
// m[which] (0: count, 1: mass) reaches goal. Needs measure(key ≥ lo0) ≥ goal.
fn find_cut(goal: f32, which: u32, within: vec2<u32>, lo0: u32, hi0: u32, zmax: f32) -> vec2<u32> {
  // The largest key T with measure(key ≥ T) ≥ goal.
  var lo = lo0;
  var hi = hi0;
  loop {
    if (lo >= hi) { break; }
    let d = hi - lo;
    let mid = lo + (d >> 1u) + (d & 1u);
    let m = measure(vec2<u32>(mid, ALL), within, zmax);
    if (m[which] >= goal) { lo = mid; } else { hi = mid - 1u; }
  }
  // Ties at T by ascending id: the smallest I with measure(cut (T, I)) ≥ goal.
  let ties = tie_range(lo, within);
  var ilo = ties.x;
  var ihi = ties.y;
  loop {
    if (ilo >= ihi) { break; }
    let mid = ilo + ((ihi - ilo) >> 1u);
    let m = measure(vec2<u32>(lo, mid), within, zmax);
    if (m[which] >= goal) { ihi = mid; } else { ilo = mid + 1u; }
  }
  return vec2<u32>(lo, ilo);
}

@compute @workgroup_size(WG)
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  if (wg_linear >= run.T) { return; }
  row = wg_linear;
  lid = tid;

  // Pass 1: the highest key (lowest id on ties) and the lowest key.
  var bk = 0u;
  var bi = ALL;
  var mk = ALL;
  for (var i = lid; i < p.V; i += WG) {
    let k = key_of(zval(i));
    if (k > bk || (k == bk && i < bi)) { bk = k; bi = i; }
    mk = min(mk, k);
  }
  redk[lid] = vec3<u32>(bk, bi, mk);
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let a = redk[lid];
      let b = redk[lid + s];
      var best = a.xy;
      if (b.x > a.x || (b.x == a.x && b.y < a.y)) { best = b.xy; }
      redk[lid] = vec3<u32>(best, min(a.z, b.z));
    }
    workgroupBarrier();
  }
  if (lid == 0u) { bcast_u = redk[0]; }
  let top = workgroupUniformLoad(&bcast_u);

  if (p.greedy == 1u) {
    if (lid == 0u) { pick_id = top.y; }
  } else {
    let zmax = zval(top.y);
    let everything = vec2<u32>(0u, ALL);
    var cut_k = everything;
    if (p.top_k > 0u && p.top_k < p.V) {
      cut_k = find_cut(f32(p.top_k), 0u, everything, top.z, top.x, zmax);
    }
    var cut_p = everything;
    if (p.top_p < 1.0) {
      let mass_k = measure(cut_k, everything, zmax).y;
      cut_p = find_cut(p.top_p * mass_k, 1u, cut_k, top.z, top.x, zmax);
    }

    // The draw: u in [0, 1) from 24 bits of Philox at counter (step, row), key = seed.
    let rnd = philox4x32_10(vec4<u32>(step.step, row, 0u, 0u), vec2<u32>(p.seed_lo, p.seed_hi));
    let u = f32(rnd.x >> 8u) * (1.0 / 16777216.0);
    // Cumulative mass in a fixed order: thread by thread, each thread's ids ascending.
    var acc = 0.0;
    for (var i = lid; i < p.V; i += WG) {
      let z = zval(i);
      let k = key_of(z);
      let w = exp(z - zmax);
      if (in_cut(i, k, cut_k) && in_cut(i, k, cut_p) && w >= p.min_p) { acc += w; }
    }
    partial[lid] = acc;
    workgroupBarrier();
    if (lid == 0u) {
      var total = 0.0;
      for (var t = 0u; t < WG; t++) { total += partial[t]; }
      let goal = u * total;
      var before = 0.0;
      var who = ALL;
      var rem = 0.0;
      var last = 0u;
      for (var t = 0u; t < WG; t++) {
        let s = partial[t];
        if (s > 0.0) {
          last = t;
          if (who == ALL && before + s > goal) { who = t; rem = goal - before; }
          before += s;
        }
      }
      // Rounding put the target past the end: the last thread holding mass takes it.
      if (who == ALL) { who = last; rem = partial[last]; }
      bcast_u = vec3<u32>(who, bitcast<u32>(rem), 0u);
    }
    let chosen = workgroupUniformLoad(&bcast_u);
    if (lid == chosen.x) {
      let rem = bitcast<f32>(chosen.y);
      var run_mass = 0.0;
      var pick = ALL;
      var last = ALL;
      for (var i = lid; i < p.V; i += WG) {
        let z = zval(i);
        let k = key_of(z);
        let w = exp(z - zmax);
        if (in_cut(i, k, cut_k) && in_cut(i, k, cut_p) && w >= p.min_p && w > 0.0) {
          last = i;
          run_mass += w;
          if (run_mass > rem) { pick = i; break; }
        }
      }
      pick_id = select(pick, last, pick == ALL);
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let id = pick_id;
    ids[step.out_offset + row * p.out_stride] = i32(id);
    let w = row * p.W + (id >> 5u);
    seen[w] = seen[w] | (1u << (id & 31u));
    for (var s = 0u; s < p.n_stop; s++) {
      if (u32(stop[s]) == id) { done[row] = 1u; }
    }
  }
}
`,
  });
}
