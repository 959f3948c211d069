// The router's other passes:
//   choose thresholds — expert choice (`choose(c)` and plugin run-scope selectors): one workgroup
//     per expert finds the (score, token) pair of its cap-th best token over the whole run
//     (repeated arg-max, ties to the lower token index). Between the router's scores pass and
//     its per-token pass (router-fused.ts MODE 1 / MODE 2): expert choice costs two dispatches
//     more than token-choice routing.
//   statistics — per expert: importance Σ_t G[t, e] and Σ_t p[t, e] (LANGUAGE.md §10); per run:
//     Σ_t entropy_t and the histogram of experts per token. Loads are the router's counts.
//   state update — after the run, every state rule of the router's stages (std `bias`:
//     e_bias ← e_bias + γ·sign(mean_load − load)), in place, on the GPU.

import { defineKernel, type ParamValues, read, uniformBlock, write } from "./define-kernel.js";
import { BLOCK_ACCESSORS_WGSL, paramsWgsl, ROUTER_UNIFORMS } from "./router-layout.js";
import { type KernelPluginStage, type KernelStateRule, pluginCapacityWgsl, pluginUpdateWgsl } from "./router-plugin-wgsl.js";
import { WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

const WG = 256;

// The choose kernel's own uniform block, written per run (the capacity depends on T): `cap` from
// the host (0: the plugin's capacity function, `code`, decides). Struct and words from one list.
const CHOOSE_FIELDS = ["cap", "code"] as const;
const CHOOSE_STRUCT = `struct Choose { ${CHOOSE_FIELDS.map((f) => `${f}: u32`).join(", ")} }`;

/** The words of the choose kernel's `choose` block. */
export function chooseWords(v: Record<(typeof CHOOSE_FIELDS)[number], number>): Uint32Array {
  const w = new Uint32Array(4);
  CHOOSE_FIELDS.forEach((f, i) => (w[i] = v[f]));
  return w;
}

/** `choose.cap` meaning "read cap_table[T]" (the run's count is only on the GPU). */
export const CAP_FROM_TABLE = 0xffffffff;

export function chooseThresholdKernel(plugins: KernelPluginStage[]) {
  const tag = plugins.length ? `[plugins:${plugins.map((s) => s.name).join("+")}]` : "";
  return defineKernel({
    name: `router-choose${tag}`,
    uniforms: ROUTER_UNIFORMS,
    buffers: { choose: uniformBlock("Choose"), scr: write("array<f32>"), cap_table: read("array<u32>") },
    body: /* wgsl */ `${paramsWgsl()}
${CHOOSE_STRUCT}
${pluginCapacityWgsl(plugins)}
struct Cand { v: f32, i: u32 }
var<workgroup> red: array<Cand, ${WG}>;
fn better(a: Cand, b: Cand) -> bool {
  if (a.i == NONE) { return false; }
  if (b.i == NONE) { return true; }
  return a.v > b.v || (a.v == b.v && a.i < b.i);
}

@compute @workgroup_size(${WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let E = hw(P_E);
  let e = wg_linear;
  if (e >= E) { return; }
  let T = run.T;
  // Capacity: from the host (std choose: max(1, min(T, ⌊c·T/E⌋)) in float64), else the plugin's;
  // CAP_FROM_TABLE: T is only known on the GPU (an agents-pool member), so the host's capacity of
  // every count is read at T.
  var cap = choose.cap;
  if (cap == ${CAP_FROM_TABLE}u) { cap = cap_table[T]; } else if (cap == 0u) { cap = max(1u, min(T, plg_capacity(choose.code, T, hw(P_SPB)))); }
  var base = hw(P_WOFF);
  if (hw(P_SPLIT) < hw(P_NT)) { base = hw(P_SOFF); }
  var pv = 0.0;
  var pi = NONE;
  for (var r = 0u; r < cap; r++) {
    var best = Cand(0.0, NONE);
    for (var t = tid; t < T; t += ${WG}u) {
      let v = scr[base + t * E + e];
      if (pi == NONE || v < pv || (v == pv && t > pi)) {
        let c = Cand(v, t);
        if (better(c, best)) { best = c; }
      }
    }
    workgroupBarrier();
    red[tid] = best;
    workgroupBarrier();
    for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
      if (tid < s && better(red[tid + s], red[tid])) { red[tid] = red[tid + s]; }
      workgroupBarrier();
    }
    let c = workgroupUniformLoad(&red[0]);
    if (c.i == NONE) { break; }
    pv = c.v;
    pi = c.i;
  }
  if (tid == 0u) {
    scr[hw(P_THROFF) + 2u * e] = pv;
    scr[hw(P_THROFF) + 2u * e + 1u] = bitcast<f32>(pi);
  }
}
`,
  });
}

export const STATS_WG = 64;

/** Statistics pass: ceil(E/64) workgroups for the experts, then one for the tokens. */
export function routerStatsKernel() {
  return defineKernel({
    name: "router-stats",
    uniforms: ROUTER_UNIFORMS,
    buffers: {
      scr: read("array<f32>"),
      tstats: read("array<f32>"),
      tok_count: read("array<u32>"),
      sout: write("array<f32>"),
      hist: write("array<atomic<u32>>"),
    },
    body: /* wgsl */ `${paramsWgsl()}
var<workgroup> redh: array<f32, ${STATS_WG}>;

@compute @workgroup_size(${STATS_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let E = hw(P_E);
  let T = run.T;
  let nwe = (E + ${STATS_WG - 1}u) / ${STATS_WG}u;
  if (wg_linear < nwe) {
    let e = wg_linear * ${STATS_WG}u + tid;
    if (e >= E) { return; }
    var imp = 0.0;
    var pm = 0.0;
    let soft = hw(P_PSOFT) != 0u;
    for (var t = 0u; t < T; t++) {
      imp += tstats[hw(P_GOFF_STATS) + t * E + e];
      let w = scr[hw(P_WOFF) + t * E + e];
      let pn = tstats[hw(P_PNOFF) + t];
      if (soft) { pm += exp(w - pn); } else if (pn > 0.0) { pm += w / pn; }
    }
    sout[e] = imp;
    sout[E + e] = pm;
  } else if (wg_linear == nwe) {
    var h = 0.0;
    for (var t = tid; t < T; t += ${STATS_WG}u) {
      h += tstats[hw(P_ENTOFF) + t];
      atomicAdd(&hist[tok_count[t]], 1u);
    }
    redh[tid] = h;
    workgroupBarrier();
    for (var s = ${STATS_WG / 2}u; s > 0u; s = s >> 1u) {
      if (tid < s) { redh[tid] += redh[tid + s]; }
      workgroupBarrier();
    }
    if (tid == 0u) { sout[2u * E] = redh[0]; }
  }
}
`,
  });
}

export const STATE_MAX_RULES = 6;

/** The state kernel's block: h = E, the rule count, then per rule (code, aux offset, length, param base); xp = f32 params. */
const STATE_UNIFORMS = { h: { vec4: "u32", length: 1 + STATE_MAX_RULES }, xp: { vec4: "f32", length: 4 } } as const;

export function stateParams(E: number, rules: { code: number; offset: number; length: number; pb: number }[], xp: number[]): ParamValues<typeof STATE_UNIFORMS> {
  if (rules.length > STATE_MAX_RULES) throw new RangeError(`a router has more than ${STATE_MAX_RULES} state vectors with update rules`);
  const h = new Array<number>(4 + 4 * STATE_MAX_RULES).fill(0);
  h[0] = E;
  h[1] = rules.length;
  rules.forEach((r, j) => h.splice(4 + 4 * j, 4, r.code, r.offset, r.length, r.pb));
  const f = new Array<number>(16).fill(0);
  if (xp.length > 16) throw new RangeError("a router's state rules take more than 16 parameters");
  xp.forEach((v, i) => (f[i] = v));
  // vec4 arrays take words: the f32 params as their bits.
  return { h, xp: new Uint32Array(Float32Array.from(f).buffer) };
}

export function routerStateKernel(rules: KernelStateRule[]) {
  const tag = rules.length ? `[${rules.map((r) => `${r.stage}.${r.state}`).join("+")}]` : "";
  return defineKernel({
    name: `router-state${tag}`,
    uniforms: STATE_UNIFORMS,
    buffers: { expert_count: read("array<u32>"), aux: write("array<f32>") },
    body: /* wgsl */ `
const P_E = 0u;
${BLOCK_ACCESSORS_WGSL}
${pluginUpdateWgsl(rules)}
var<workgroup> redu: array<u32, ${WG}>;

@compute @workgroup_size(${WG})
fn main(${WG_BUILTINS}) {
  let E = hw(0u);
  var l = 0u;
  for (var e = tid; e < E; e += ${WG}u) { l += expert_count[e]; }
  redu[tid] = l;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (tid < s) { redu[tid] += redu[tid + s]; }
    workgroupBarrier();
  }
  let total = workgroupUniformLoad(&redu[0]);
  let mean = f32(total) / f32(E);
  let T = f32(run.T);
  for (var j = 0u; j < hw(1u); j++) {
    let code = hw(4u + 4u * j);
    let off = hw(5u + 4u * j);
    let len = hw(6u + 4u * j);
    let pb = hw(7u + 4u * j);
    for (var i = tid; i < len; i += ${WG}u) {
      var load = 0.0;
      if (i < E) { load = f32(expert_count[i]); }
      aux[off + i] = state_update(code, aux[off + i], i, load, mean, T, pb);
    }
  }
}
`,
  });
}
