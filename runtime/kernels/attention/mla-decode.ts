// MLA in DeepSeek's decode form (absorbed up-projections, docs/generation.md): the cache holds per
// position only [c_kv (after kv_norm) | k_pe (rotated)], Rkv + Dr values, and wkv_b is applied on
// the query and output side instead of expanding keys and values per head:
//   q_abs[h] = W_uk[h]ᵀ · q_nope[h]  (so q_abs · c_kv = q_nope · k_nope),
//   o[h]     = W_uv[h]  · (Σ_s p_s c_kv[s])  (so it equals Σ_s p_s v[s]).
// `mla_decode_prep` (one workgroup, the step's one position pos0 from the run uniform) rotates
// each head's q_pe into the decode query [q_abs | q_pe] rows and appends [c_kv | rotated k_pe] to
// the cache at row pos0 mod ring; `head_matvec` is the per-head product of both absorptions, one
// thread per output value: out[h·out_hs + out_off + j] = Σ_i x[h·in_hs + in_off + i] ·
// w[h·w_hs + w_off + i·w_si + j·w_sj]. Same rotary conventions and tables as qk-prepare.ts.

import type { StorageDtype } from "../../gpu/buffers.js";
import { defineKernel, read, write } from "../define-kernel.js";
import { threadMain, WG_BUILTINS } from "../wgsl-common.js";
import { ROPE_KIND } from "./qk-prepare.js";

export const MLA_PREP_WG = 64;
export const HEAD_MATVEC_WG = 64;

export function mlaDecodePrepParams(o: { H: number; Dn: number; Dr: number; Rkv: number; ckvOff: number; kpeOff: number; ring: number; rope: keyof typeof ROPE_KIND; cosSinScale: number }) {
  return {
    H: o.H, Dn: o.Dn, Dr: o.Dr, Rkv: o.Rkv, ckv_off: o.ckvOff, kpe_off: o.kpeOff, ring: o.ring,
    rope_kind: ROPE_KIND[o.rope], cs_scale: o.cosSinScale,
  };
}

export function mlaDecodePrepKernel(dtype: StorageDtype, kvDtype: StorageDtype) {
  return defineKernel({
    name: `mla_decode_prep[${dtype},kv${kvDtype}]`,
    dtype,
    f16: kvDtype === "f16",
    uniforms: { H: "u32", Dn: "u32", Dr: "u32", Rkv: "u32", ckv_off: "u32", kpe_off: "u32", ring: "u32", rope_kind: "u32", cs_scale: "f32" },
    buffers: { q: read(), lat: read(), qd: write(), cache: write(`array<${kvDtype}>`), inv_freq: read("array<f32>") },
    body: /* wgsl */ `
const WG = ${MLA_PREP_WG}u;

/** A rotated pair (x1 first, x2 second) at the step's position, pair i: its first or second value. */
fn rotated(x1: f32, x2: f32, i: u32, first: bool) -> f32 {
  let ang = f32(run.pos0) * inv_freq[i];
  let c = cos(ang) * p.cs_scale;
  let s = sin(ang) * p.cs_scale;
  return select(x2 * c + x1 * s, x1 * c - x2 * s, first);
}

/** Pair index, partner offset and whether e is the pair's first value. */
fn pairing(e: u32) -> vec3u {
  let half = p.Dr / 2u;
  if (p.rope_kind == ${ROPE_KIND.half}u) {
    let first = e < half;
    return vec3u(e % half, select(e - half, e + half, first), select(0u, 1u, first));
  }
  let first = e % 2u == 0u;
  return vec3u(e / 2u, select(e - 1u, e + 1u, first), select(0u, 1u, first));
}

@compute @workgroup_size(${MLA_PREP_WG})
fn main(${WG_BUILTINS}) {
  let row = (run.pos0 % p.ring) * (p.Rkv + p.Dr);
  let rotate = p.rope_kind != ${ROPE_KIND.none}u;
  for (var j = tid; j < p.Rkv; j += WG) { cache[row + j] = ${kvDtype}(lat[p.ckv_off + j]); }
  for (var e = tid; e < p.Dr; e += WG) {
    var v = f32(lat[p.kpe_off + e]);
    if (rotate) {
      let pr = pairing(e);
      let first = pr.z == 1u;
      let x_e = f32(lat[p.kpe_off + e]);
      let x_p = f32(lat[p.kpe_off + pr.y]);
      v = select(rotated(x_p, x_e, pr.x, false), rotated(x_e, x_p, pr.x, true), first);
    }
    cache[row + p.Rkv + e] = ${kvDtype}(v);
  }
  let QD = p.Dn + p.Dr;
  let QDd = p.Rkv + p.Dr;
  for (var idx = tid; idx < p.H * p.Dr; idx += WG) {
    let h = idx / p.Dr;
    let e = idx % p.Dr;
    let qb = h * QD + p.Dn;
    var v = f32(q[qb + e]);
    if (rotate) {
      let pr = pairing(e);
      let first = pr.z == 1u;
      let x_e = f32(q[qb + e]);
      let x_p = f32(q[qb + pr.y]);
      v = select(rotated(x_p, x_e, pr.x, false), rotated(x_e, x_p, pr.x, true), first);
    }
    qd[h * QDd + p.Rkv + e] = st(v);
  }
}
`,
  });
}

export interface HeadMatvec {
  H: number;
  nOut: number;
  nIn: number;
  inHs: number;
  inOff: number;
  outHs: number;
  outOff: number;
  wHs: number;
  wOff: number;
  wSi: number;
  wSj: number;
}

export function headMatvecParams(o: HeadMatvec) {
  return {
    H: o.H, n_out: o.nOut, n_in: o.nIn, in_hs: o.inHs, in_off: o.inOff, out_hs: o.outHs, out_off: o.outOff,
    w_hs: o.wHs, w_off: o.wOff, w_si: o.wSi, w_sj: o.wSj,
  };
}

export function headMatvecKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `head_matvec[${dtype}]`,
    dtype,
    uniforms: { H: "u32", n_out: "u32", n_in: "u32", in_hs: "u32", in_off: "u32", out_hs: "u32", out_off: "u32", w_hs: "u32", w_off: "u32", w_si: "u32", w_sj: "u32" },
    buffers: { x: read(), w: read(), out: write() },
    body: /* wgsl */ `
${threadMain(HEAD_MATVEC_WG)}
  if (i >= p.H * p.n_out) { return; }
  let h = i / p.n_out;
  let j = i % p.n_out;
  let xb = h * p.in_hs + p.in_off;
  let wb = h * p.w_hs + p.w_off + j * p.w_sj;
  var acc = 0.0;
  for (var k = 0u; k < p.n_in; k++) { acc = fma(f32(x[xb + k]), f32(w[wb + k * p.w_si]), acc); }
  out[h * p.out_hs + p.out_off + j] = st(acc);
}
`,
  });
}
