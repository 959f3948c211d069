// The fused router kernel: gate GEMM, score (linear / cosine / product keys / plugin), the
// transforms on two streams, selection (top-k, top-p, threshold, group-limited top-k, dense,
// plugin selectors, and the per-token half of expert choice), post-select normalization,
// per-expert counts and the per-token statistics — in ONE dispatch per router (expert choice:
// three, see router-aux-kernels.ts). Stages are data (uniform words, router-layout.ts), so one
// compiled pipeline serves every std-only router; plugin stages add switch cases
// (router-plugin-wgsl.ts) and so a pipeline per set of plugins.
//
// One WGSL body (`route_token`) serves two forms, which differ only in how lanes reduce:
//   subgroup  — workgroup of 64 = SUB_TT tokens for the GEMM; then ONE SUBGROUP PER TOKEN, lanes
//               own experts e ≡ lane (mod lanes); reductions are subgroup operations, so after the
//               GEMM barrier there is none (lavapipe turns each barrier into a coroutine switch);
//   workgroup — 256 threads own experts e ≡ tid (mod 256) for WG_TT tokens; reductions are trees
//               in workgroup memory (fallback for adapters without `subgroups`).
// Lane L of NL owns experts e ≡ L (mod NL) and selection slots s ≡ L (mod NL): every value a lane
// reads in the per-token phase it wrote itself, or came from a reduction, or was written before
// the GEMM barrier / by an earlier dispatch — no lane reads another lane's per-token writes.
//
// Selection: round r takes the best candidate ranked AFTER round r−1's winner (higher selection
// score first, ties to the lower index), so no per-expert "taken" state is needed for any E.
//
// Why one file of ~600 lines: it is one WGSL program whose functions all rely on the lane-ownership
// rule above; split across files, it would no longer show which function depends on which rule.

import type { StorageDtype } from "../gpu/buffers.js";
import { defineKernel, read, write } from "./define-kernel.js";
import { paramsWgsl, ROUTER_UNIFORMS } from "./router-layout.js";
import { type KernelPluginStage, pluginRouterWgsl } from "./router-plugin-wgsl.js";
import { WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const SUB_WG = 64;
export const SUB_TT = 16;
export const WG_WG = 256;
export const WG_TT = 4;
const BKR = 32;

/** What the router reads (x, the gate matrix, the aux vector) and writes: scratch (scores,
 *  streams, thresholds), the per-token slot lists, per-expert counts and per-token statistics. */
const ROUTER_BUFFERS = {
  x: read(),
  weight: read(),
  aux: read("array<f32>"),
  scr: write("array<f32>"),
  tok_count: write("array<u32>"),
  ids: write("array<u32>"),
  wts: write("array<f32>"),
  expert_count: write("array<atomic<u32>>"),
  tstats: write("array<f32>"),
} as const;

// Accessors plugin WGSL uses (router-plugin-wgsl.ts).
const ACCESSORS_WGSL = /* wgsl */ `
fn aux_at(base: u32, i: u32) -> f32 { return aux[base + i]; }
fn x_at(t: u32, k: u32) -> f32 { return f32(x[t * hw(P_D) + k]); }
`;

// Shared by both forms. Native codes: stdlib/stages/std-spec.ts NATIVE.
const COMMON_WGSL = /* wgsl */ `
const NEG = -3.402823e38;
struct Cand { v: f32, i: u32, w: f32 }
// Higher selection score wins; ties go to the lower index; NONE always loses.
fn better(a: Cand, b: Cand) -> bool {
  if (a.i == NONE) { return false; }
  if (b.i == NONE) { return true; }
  return a.v > b.v || (a.v == b.v && a.i < b.i);
}
// Is (v, e) ranked after the previous winner (pv, pi)? pi == NONE: no previous winner.
fn after_prev(v: f32, e: u32, pv: f32, pi: u32) -> bool {
  return pi == NONE || v < pv || (v == pv && e > pi);
}
fn tx_native(code: u32, z: f32, e: u32, umax: f32, usumexp: f32, pb: u32, sb: u32) -> f32 {
  switch code {
    case 0u: { return exp(z - umax) / usumexp; }
    case 1u: { return z - umax - log(usumexp); }
    case 2u: { return 1.0 / (1.0 + exp(-z)); }
    case 3u: { return exp(z); }
    case 4u: { return z / xp(pb); }
    case 5u: { return z + aux[sb + e]; }
    default: { return z; }
  }
}
fn post_native(code: u32, w: f32, wmax: f32, wsum: f32, wsumexp: f32, pb: u32) -> f32 {
  switch code {
    case 0u: { return select(w, w / wsum, wsum != 0.0); }
    case 1u: { return exp(w - wmax) / wsumexp; }
    case 2u: { return exp(w); }
    case 3u: { return w * xp(pb); }
    default: { return w; }
  }
}
fn tslot(i: u32, f: u32) -> u32 { return hw(P_T0 + 4u * i + f); }
fn qslot(i: u32, f: u32) -> u32 { return hw(P_Q0 + 4u * i + f); }
// product keys, part i, key j: eval-mode BatchNorm (no affine) when asked.
fn prod_logit(row: u32, i: u32, j: u32) -> f32 {
  let n = hw(P_SIZE);
  var z = scr[hw(P_GOFF) + row * hw(P_GSTRIDE) + i * n + j];
  if (hw(P_BN) != 0u) {
    let b = hw(P_BNOFF);
    // The product stage's state block: per part, running_mean [n] then running_var [n].
    z = (z - aux[b + 2u * i * n + j]) / sqrt(aux[b + 2u * i * n + n + j] + 1e-5);
  }
  return z;
}
// Expert choice, pass 3: is token t among expert e's chosen (at or above its threshold pair)?
fn chosen(v: f32, t: u32, e: u32) -> bool {
  let o = hw(P_THROFF) + 2u * e;
  let tv = scr[o];
  let ti = bitcast<u32>(scr[o + 1u]);
  return v > tv || (v == tv && t <= ti);
}
`;

// One token through the pipeline. Lane L of NL; reductions (red_*, arg_best, uni_*) are
// per form. In the workgroup form every call below happens in uniform control flow.
const ROUTE_TOKEN_WGSL = /* wgsl */ `
fn route_token(tok: u32, L: u32, NL: u32) {
  let E = hw(P_E);
  let D = hw(P_D);
  let mode = hw(P_MODE);
  let wrow = hw(P_WOFF) + tok * E;
  let nt = hw(P_NT);
  let split = hw(P_SPLIT);
  var srow = wrow;
  if (split < nt) { srow = hw(P_SOFF) + tok * E; }
  let slot0 = tok * hw(P_MAXK);

  if (mode != 2u) {
    // ---- score: finish what the GEMM started ----
    let sc = hw(P_SCORE);
    if (sc == 0u) {
      let bo = hw(P_BIASOFF);
      if (bo != NONE) { for (var e = L; e < E; e += NL) { scr[wrow + e] += aux[bo + e]; } }
    } else if (sc == 1u) {
      var lx = 0.0;
      for (var k = L; k < D; k += NL) { let v = f32(x[tok * D + k]); lx += v * v; }
      let xn = sqrt(red_sum(lx));
      let tau = xp(hw(P_SCPB));
      for (var e = L; e < E; e += NL) {
        let den = xn * aux[hw(P_WNOFF) + e];
        // A zero vector has no direction: cosine 0 (as the reference).
        scr[wrow + e] = select(0.0, scr[wrow + e] / den / tau, den > 0.0);
      }
    } else if (sc == 2u) {
      let parts = hw(P_PARTS);
      let n = hw(P_SIZE);
      var lse: array<f32, 8>;
      for (var i = 0u; i < parts; i++) {
        var lm = NEG;
        for (var j = L; j < n; j += NL) { lm = max(lm, prod_logit(tok, i, j)); }
        let m = red_max(lm);
        var ls = 0.0;
        for (var j = L; j < n; j += NL) { ls += exp(prod_logit(tok, i, j) - m); }
        lse[i] = m + log(red_sum(ls));
      }
      for (var e = L; e < E; e += NL) {
        var rest = e;
        var z = 0.0;
        for (var q = 0u; q < parts; q++) {
          let i = parts - 1u - q;
          z += prod_logit(tok, i, rest % n) - lse[i];
          rest = rest / n;
        }
        scr[wrow + e] = z;
      }
    } else {
      let pb = hw(P_SCPB);
      let has_dot = hw(P_R) != 0u;
      for (var e = L; e < E; e += NL) {
        var dot = 0.0;
        if (has_dot) { dot = scr[wrow + e]; }
        scr[wrow + e] = plg_score(sc, dot, e, tok, pb);
      }
    }

    // ---- transforms, on the streams each names ----
    for (var ti = 0u; ti < nt; ti++) {
      if (ti == split) { for (var e = L; e < E; e += NL) { scr[srow + e] = scr[wrow + e]; } }
      let code = tslot(ti, 0u);
      let fl = tslot(ti, 1u);
      let pb = tslot(ti, 2u);
      let sb = tslot(ti, 3u);
      for (var si = 0u; si < 2u; si++) {
        let applies = (si == 0u && (fl & 1u) != 0u) || (si == 1u && ti >= split && (fl & 2u) != 0u);
        if (!applies) { continue; }
        let base = select(srow, wrow, si == 0u);
        var umax = 0.0;
        var usum = 0.0;
        var usumexp = 1.0;
        var usumsq = 0.0;
        if ((fl & 20u) != 0u) {
          var l = NEG;
          for (var e = L; e < E; e += NL) { l = max(l, plg_pre(code, scr[base + e], e, pb)); }
          umax = red_max(l);
        }
        if ((fl & 8u) != 0u) {
          var l = 0.0;
          for (var e = L; e < E; e += NL) { l += plg_pre(code, scr[base + e], e, pb); }
          usum = red_sum(l);
        }
        if ((fl & 16u) != 0u) {
          var l = 0.0;
          for (var e = L; e < E; e += NL) { l += exp(plg_pre(code, scr[base + e], e, pb) - umax); }
          usumexp = red_sum(l);
        }
        if ((fl & 32u) != 0u) {
          var l = 0.0;
          for (var e = L; e < E; e += NL) { let u = plg_pre(code, scr[base + e], e, pb); l += u * u; }
          usumsq = red_sum(l);
        }
        for (var e = L; e < E; e += NL) {
          let z = scr[base + e];
          if (code < 16u) {
            scr[base + e] = tx_native(code, z, e, umax, usumexp, pb, sb);
          } else {
            scr[base + e] = plg_tx(code, z, plg_pre(code, z, e, pb), e, umax, usum, usumexp, usumsq, pb);
          }
        }
      }
    }

    // ---- statistics: entropy of p (the weight stream before selection, §10) ----
    if ((hw(P_STATS) & 1u) != 0u) {
      var pn = 0.0;
      var h = 0.0;
      if (hw(P_PSOFT) != 0u) {
        var lm = NEG;
        for (var e = L; e < E; e += NL) { lm = max(lm, scr[wrow + e]); }
        let m = red_max(lm);
        var ls = 0.0;
        for (var e = L; e < E; e += NL) { ls += exp(scr[wrow + e] - m); }
        pn = m + log(red_sum(ls));
        var lh = 0.0;
        for (var e = L; e < E; e += NL) { let q = exp(scr[wrow + e] - pn); if (q > 0.0) { lh -= q * log(q); } }
        h = red_sum(lh);
      } else {
        var ls = 0.0;
        for (var e = L; e < E; e += NL) { ls += scr[wrow + e]; }
        pn = red_sum(ls);
        var lh = 0.0;
        if (pn > 0.0) {
          for (var e = L; e < E; e += NL) { let q = scr[wrow + e] / pn; if (q > 0.0) { lh -= q * log(q); } }
        }
        h = red_sum(lh);
      }
      if (L == 0u) { tstats[hw(P_ENTOFF) + tok] = h; tstats[hw(P_PNOFF) + tok] = pn; }
    }
    if (mode == 1u) { return; }
  }

  // ---- selection ----
  let sk = hw(P_SELECT);
  var cnt = 0u;
  if (sk == 3u) {
    // dense: every expert in index order (slot e is owned by the lane owning e).
    for (var e = L; e < E; e += NL) { ids[slot0 + e] = e; wts[slot0 + e] = scr[wrow + e]; atomicAdd(&expert_count[e], 1u); }
    cnt = E;
  } else if (sk == 5u) {
    // expert choice, pass 3: the token's experts in index order; every lane walks all E so
    // that the lane owning slot s writes it.
    for (var e = 0u; e < E; e++) {
      if (chosen(scr[srow + e], tok, e)) {
        if (cnt % NL == L) { ids[slot0 + cnt] = e; wts[slot0 + cnt] = scr[wrow + e]; atomicAdd(&expert_count[e], 1u); }
        cnt += 1u;
      }
    }
  } else {
    // group_topk: keep the KEEP groups with the largest sums of their top min(2, E/G) scores.
    var gkv = 0.0;
    var gki = NONE;
    let G = hw(P_GROUPS);
    if (sk == 4u) {
      let gsz = E / G;
      let grow = hw(P_GSOFF) + tok * G;
      for (var g = 0u; g < G; g++) {
        var a1 = NEG;
        var a2 = NEG;
        let g0 = g * gsz;
        for (var e = g0 + (L + NL - g0 % NL) % NL; e < g0 + gsz; e += NL) {
          let v = scr[srow + e];
          if (v > a1) { a2 = a1; a1 = v; } else if (v > a2) { a2 = v; }
        }
        let m1 = red_max(a1);
        var gs = m1;
        if (gsz >= 2u) {
          let wl = red_min_u32(select(NONE, L, a1 == m1));
          gs += red_max(select(a1, a2, L == wl));
        }
        // Every lane writes the same value: no lane depends on another's write.
        scr[grow + g] = gs;
      }
      // The KEEP-th best group (value, index) is the threshold of the kept ones.
      var pv = 0.0;
      var pi = NONE;
      for (var r = 0u; r < hw(P_KEEP); r++) {
        var best = Cand(0.0, NONE, 0.0);
        for (var g = L; g < G; g += NL) {
          let v = scr[grow + g];
          if (after_prev(v, g, pv, pi)) { let c = Cand(v, g, 0.0); if (better(c, best)) { best = c; } }
        }
        let c = arg_best(best);
        pv = c.v;
        pi = c.i;
      }
      gkv = pv;
      gki = pi;
    }
    let gsz = E / max(G, 1u);
    let grow = hw(P_GSOFF) + tok * G;
    var limit = hw(P_ROUNDS);
    let spb = hw(P_SPB);
    if (sk >= 16u) { limit = min(uni_u32(plg_limit(sk, spb, limit)), hw(P_MAXK)); }
    var pv = 0.0;
    var pi = NONE;
    var cum = 0.0;
    for (var r = 0u; r < limit; r++) {
      var best = Cand(0.0, NONE, 0.0);
      for (var e = L; e < E; e += NL) {
        let v = scr[srow + e];
        if (!after_prev(v, e, pv, pi)) { continue; }
        if (sk == 4u) {
          let gv = scr[grow + e / gsz];
          let g = e / gsz;
          if (!(gv > gkv || (gv == gkv && g <= gki))) { continue; }
        }
        if (sk >= 16u && !plg_eligible(sk, e, v, scr[wrow + e], spb)) { continue; }
        let c = Cand(v, e, scr[wrow + e]);
        if (better(c, best)) { best = c; }
      }
      let c = arg_best(best);
      if (c.i == NONE) { break; }
      // threshold: highest first, stop below delta (possibly selecting none).
      if (sk == 2u && c.v < hf(P_SP1)) { break; }
      if (sk >= 16u && !uni_bool(plg_accept(sk, c.v, c.w, cnt, cum, spb))) { break; }
      if (cnt % NL == L) { ids[slot0 + cnt] = c.i; wts[slot0 + cnt] = c.w; atomicAdd(&expert_count[c.i], 1u); }
      cnt += 1u;
      pv = c.v;
      pi = c.i;
      cum += c.w;
      // topp: the shortest prefix whose weight sum exceeds p.
      if (sk == 1u && cum > hf(P_SP1)) { break; }
      if (sk >= 16u && uni_bool(plg_stop(sk, c.v, c.w, cnt, cum, spb))) { break; }
    }
  }

  // ---- post-select, on the selected weights (each lane its own slots) ----
  for (var qi = 0u; qi < hw(P_NPOST); qi++) {
    let code = qslot(qi, 0u);
    let fl = qslot(qi, 1u);
    let pb = qslot(qi, 2u);
    var wmax = 0.0;
    var wsum = 0.0;
    var wsumexp = 1.0;
    if ((fl & 20u) != 0u) {
      var l = NEG;
      for (var s = L; s < cnt; s += NL) { l = max(l, wts[slot0 + s]); }
      wmax = red_max(l);
    }
    if ((fl & 8u) != 0u) {
      var l = 0.0;
      for (var s = L; s < cnt; s += NL) { l += wts[slot0 + s]; }
      wsum = red_sum(l);
    }
    if ((fl & 16u) != 0u) {
      var l = 0.0;
      for (var s = L; s < cnt; s += NL) { l += exp(wts[slot0 + s] - wmax); }
      wsumexp = red_sum(l);
    }
    for (var s = L; s < cnt; s += NL) {
      let w = wts[slot0 + s];
      if (code < 16u) { wts[slot0 + s] = post_native(code, w, wmax, wsum, wsumexp, pb); }
      else { wts[slot0 + s] = plg_post(code, w, s, cnt, wmax, wsum, wsumexp, pb); }
    }
  }
  if ((hw(P_STATS) & 2u) != 0u) {
    let g0 = hw(P_GOFF_STATS) + tok * E;
    for (var s = L; s < cnt; s += NL) { tstats[g0 + ids[slot0 + s]] = wts[slot0 + s]; }
  }
  if (L == 0u) { tok_count[tok] = cnt; }
}
`;

const SUBGROUP_REDUCTIONS = /* wgsl */ `
fn red_max(v: f32) -> f32 { return subgroupMax(v); }
fn red_sum(v: f32) -> f32 { return subgroupAdd(v); }
fn red_min_u32(v: u32) -> u32 { return subgroupMin(v); }
fn uni_u32(v: u32) -> u32 { return subgroupBroadcastFirst(v); }
fn uni_bool(v: bool) -> bool { return subgroupBroadcastFirst(u32(v)) != 0u; }
fn arg_best(c: Cand) -> Cand {
  let m = subgroupMax(select(NEG, c.v, c.i != NONE));
  let wi = subgroupMin(select(NONE, c.i, c.i != NONE && c.v == m));
  let ww = subgroupAdd(select(0.0, c.w, c.i == wi && wi != NONE));
  return Cand(m, wi, ww);
}
`;

const WORKGROUP_REDUCTIONS = /* wgsl */ `
var<workgroup> red: array<Cand, ${WG_WG}>;
var<workgroup> redf: array<f32, ${WG_WG}>;
var<workgroup> redu: array<u32, ${WG_WG}>;
var<private> lid: u32;
// Each reduction starts with a barrier: the previous one's broadcast load must be finished
// everywhere before slot 0 is overwritten. Loops run to a uniform bound (wg_half) so lavapipe's
// JIT keeps them rolled.
fn red_f32(v: f32, op: u32) -> f32 {
  workgroupBarrier();
  redf[lid] = v;
  workgroupBarrier();
  for (var s = hw(P_WGHALF); s > 0u; s = s >> 1u) {
    if (lid < s) {
      let o = redf[lid + s];
      redf[lid] = select(redf[lid] + o, max(redf[lid], o), op == 0u);
    }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&redf[0]);
}
fn red_max(v: f32) -> f32 { return red_f32(v, 0u); }
fn red_sum(v: f32) -> f32 { return red_f32(v, 1u); }
fn red_min_u32(v: u32) -> u32 {
  workgroupBarrier();
  redu[lid] = v;
  workgroupBarrier();
  for (var s = hw(P_WGHALF); s > 0u; s = s >> 1u) {
    if (lid < s) { redu[lid] = min(redu[lid], redu[lid + s]); }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&redu[0]);
}
fn uni_u32(v: u32) -> u32 {
  workgroupBarrier();
  if (lid == 0u) { redu[0] = v; }
  return workgroupUniformLoad(&redu[0]);
}
fn uni_bool(v: bool) -> bool { return uni_u32(u32(v)) != 0u; }
fn arg_best(c: Cand) -> Cand {
  workgroupBarrier();
  red[lid] = c;
  workgroupBarrier();
  for (var s = hw(P_WGHALF); s > 0u; s = s >> 1u) {
    if (lid < s && better(red[lid + s], red[lid])) { red[lid] = red[lid + s]; }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&red[0]);
}
`;

// The gate GEMM writes scr[GOFF + t·GSTRIDE + r] = x[t] · W[r] for r < R.
// R's high bit (R_PRECOMPUTED): the rows are already there, no GEMM here.
function gemmSubgroup(): string {
  return /* wgsl */ `
  let R = select(hw(P_R), 0u, hw(P_R) >= 0x80000000u);
  if (hw(P_MODE) != 2u) {
    let goff = hw(P_GOFF);
    let gs = hw(P_GSTRIDE);
    for (var e = tid; e < R; e += WG) {
      var acc: array<f32, TT>;
      for (var t = 0u; t < TT; t++) { acc[t] = 0.0; }  // explicit: loop-body vars were stale on lavapipe
      for (var k = 0u; k < D; k++) {
        let w = f32(weight[e * D + k]);
        for (var t = 0u; t < TT; t++) {
          if (t < ntok) { acc[t] = fma(w, f32(x[(tok0 + t) * D + k]), acc[t]); }
        }
      }
      for (var t = 0u; t < ntok; t++) { scr[goff + (tok0 + t) * gs + e] = acc[t]; }
    }
  }
  storageBarrier();
  workgroupBarrier();`;
}

function gemmWorkgroup(): string {
  return /* wgsl */ `
  let R = select(hw(P_R), 0u, hw(P_R) >= 0x80000000u);
  if (hw(P_MODE) != 2u) {
    let goff = hw(P_GOFF);
    let gs = hw(P_GSTRIDE);
    for (var e0 = 0u; e0 < R; e0 += WG) {
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
        if (e < R) {
          let kn = min(BKR, D - k0);
          for (var kk = 0u; kk < kn; kk++) {
            let w = f32(weight[e * D + k0 + kk]);
            for (var t = 0u; t < TT; t++) { acc[t] = fma(w, xs[t * BKR + kk], acc[t]); }
          }
        }
      }
      if (e < R) {
        for (var t = 0u; t < TT; t++) {
          if (tok0 + t < T) { scr[goff + (tok0 + t) * gs + e] = acc[t]; }
        }
      }
    }
  }
  // Product keys and plugin scores read GEMM outputs of other threads.
  storageBarrier();
  workgroupBarrier();`;
}

export interface FusedRouterVariant {
  dtype: StorageDtype;
  subgroups: boolean;
  plugins: KernelPluginStage[];
}

export function fusedRouterKernel(v: FusedRouterVariant) {
  const plug = pluginRouterWgsl(v.plugins);
  const tag = v.plugins.length ? `,plugins:${v.plugins.map((s) => s.name).join("+")}` : "";
  return defineKernel({
    name: `router-fused[${v.subgroups ? "subgroups" : "workgroup"},${v.dtype}${tag}]`,
    dtype: v.dtype,
    subgroups: v.subgroups,
    uniforms: ROUTER_UNIFORMS,
    buffers: ROUTER_BUFFERS,
    body: `${paramsWgsl()}
${ACCESSORS_WGSL}
${COMMON_WGSL}
${v.subgroups ? subgroupMain(plug) : workgroupMain(plug)}`,
  });
}

function subgroupMain(plug: string): string {
  return /* wgsl */ `
${SUBGROUP_REDUCTIONS}
${plug}
${ROUTE_TOKEN_WGSL}
const WG = ${SUB_WG}u;
const TT = ${SUB_TT}u;
var<workgroup> next_token: atomic<u32>;

@compute @workgroup_size(${SUB_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let T = run.T;
  let D = hw(P_D);
  let tok0 = wg_linear * TT;
  if (tok0 >= T) { return; }
  let ntok = min(TT, T - tok0);
${gemmSubgroup()}
  let lanes = subgroupAdd(1u);
  let lane = subgroupExclusiveAdd(1u);
  loop {
    var tt = 0u;
    if (lane == 0u) { tt = atomicAdd(&next_token, 1u); }
    tt = subgroupBroadcastFirst(tt);
    if (tt >= ntok) { break; }
    route_token(tok0 + tt, lane, lanes);
  }
}
`;
}

function workgroupMain(plug: string): string {
  return /* wgsl */ `
${WORKGROUP_REDUCTIONS}
${plug}
${ROUTE_TOKEN_WGSL}
const WG = ${WG_WG}u;
const TT = ${WG_TT}u;
const BKR = ${BKR}u;
var<workgroup> xs: array<f32, ${WG_TT * BKR}>;

@compute @workgroup_size(${WG_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  lid = tid;
  let T = run.T;
  let D = hw(P_D);
  let tok0 = wg_linear * TT;
  if (tok0 >= T) { return; }
${gemmWorkgroup()}
  for (var t = 0u; t < TT; t++) {
    let tok = tok0 + t;
    if (tok >= T) { break; }
    route_token(tok, tid, WG);
    workgroupBarrier();
  }
}
`;
}

export function fusedRouterTokensPerWorkgroup(subgroups: boolean): number {
  return subgroups ? SUB_TT : WG_TT;
}
