// Queries and keys made ready for the scores, in place, one workgroup per token (LANGUAGE.md
// §13.0): the q/k RMS norm — over the whole q (and k) projection (`full`, OLMoE) or over each
// head with one shared [hd] weight (`head`, Qwen3) — then rotary positions on the rotated span of
// every head: `half` turns value i with i + r/2 (Hugging Face's rotate_half), `interleaved` 2i
// with 2i+1, at angle (pos0 + t) · invFreq[i] (pos0 from the run uniform: 0 for a run, the position for a decode step), cos and sin scaled by YaRN's factor.
//
// Heads are addressed generically (a row stride, the q and k spans' offsets, head widths and the
// rotated span's offset within a head), so attention's [q | k | v] projection and MLA's separate
// query and shared rope key use the same kernel. Each element is read and written by one thread.

import type { StorageDtype } from "../../gpu/buffers.js";
import { defineKernel, read, write } from "../define-kernel.js";
import { WG_BUILTINS, WG_LINEAR } from "../wgsl-common.js";

export const QK_PREPARE_WG = 64;
export const QK_NORM = { none: 0, full: 1, head: 2 } as const;
export const ROPE_KIND = { none: 0, half: 1, interleaved: 2 } as const;

const UNIFORMS = {
  ld: "u32", q_off: "u32", k_off: "u32", hq: "u32",
  hk: "u32", hdq: "u32", hdk: "u32", q_rope_off: "u32",
  k_rope_off: "u32", rope_dim: "u32", rope_kind: "u32", norm: "u32",
  wg_half: "u32", eps: "f32", cs_scale: "f32",
} as const;

export interface QkPrepare {
  /** Row stride of the buffer, offsets of the q and k spans, head counts and widths. */
  ld: number;
  qOff: number;
  kOff: number;
  hq: number;
  hk: number;
  hdq: number;
  hdk: number;
  /** Where each head's rotated span starts, and its length r (0: no rotary). */
  qRopeOff: number;
  kRopeOff: number;
  ropeDim: number;
  rope: keyof typeof ROPE_KIND;
  norm: keyof typeof QK_NORM;
  eps: number;
  cosSinScale: number;
}

export function qkPrepareParams(o: QkPrepare) {
  return {
    ld: o.ld, q_off: o.qOff, k_off: o.kOff, hq: o.hq, hk: o.hk, hdq: o.hdq, hdk: o.hdk,
    q_rope_off: o.qRopeOff, k_rope_off: o.kRopeOff, rope_dim: o.ropeDim, rope_kind: ROPE_KIND[o.rope],
    norm: QK_NORM[o.norm], wg_half: QK_PREPARE_WG / 2, eps: o.eps, cs_scale: o.cosSinScale,
  };
}

/**
 * `rowPositions`: batched decoding (batch-decode.ts), row t at its own position pos[t] from a u32
 * buffer instead of pos0 + t; the one-sequence kernel's source is unchanged without it.
 */
export function qkPrepareKernel(dtype: StorageDtype, opts: { rowPositions?: boolean } = {}) {
  const buffers = { qk: write(), q_w: read(), k_w: read(), inv_freq: read("array<f32>") };
  return defineKernel({
    name: opts.rowPositions ? `qk_prepare[${dtype},row_pos]` : `qk_prepare[${dtype}]`,
    dtype,
    uniforms: UNIFORMS,
    buffers: opts.rowPositions ? { ...buffers, pos: read("array<u32>") } : buffers,
    body: /* wgsl */ `
const WG = ${QK_PREPARE_WG}u;
var<workgroup> red: array<f32, ${QK_PREPARE_WG}>;

fn total(v: f32, tid: u32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  for (var s = p.wg_half; s > 0u; s = s >> 1u) {
    if (tid < s) { red[tid] = red[tid] + red[tid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn sum_sq(base: u32, n: u32, tid: u32) -> f32 {
  var s = 0.0;
  for (var j = tid; j < n; j += WG) { let v = f32(qk[base + j]); s += v * v; }
  return total(s, tid);
}

@compute @workgroup_size(${QK_PREPARE_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let t = wg_linear;
  if (t >= run.T) { return; }
  let row = t * p.ld;
  // full: one scale over each whole projection, read before anything is written.
  var rq = 1.0;
  var rk = 1.0;
  if (p.norm == ${QK_NORM.full}u) {
    rq = inverseSqrt(sum_sq(row + p.q_off, p.hq * p.hdq, tid) / f32(max(1u, p.hq * p.hdq)) + p.eps);
    rk = inverseSqrt(sum_sq(row + p.k_off, p.hk * p.hdk, tid) / f32(max(1u, p.hk * p.hdk)) + p.eps);
  }
  let pos = ${opts.rowPositions ? "f32(pos[t])" : "f32(run.pos0 + t)"};
  let half = p.rope_dim / 2u;
  for (var hh = 0u; hh < p.hq + p.hk; hh++) {
    let is_q = hh < p.hq;
    let head = select(hh - p.hq, hh, is_q);
    let hd = select(p.hdk, p.hdq, is_q);
    let base = row + select(p.k_off, p.q_off, is_q) + head * hd;
    let ro = select(p.k_rope_off, p.q_rope_off, is_q);
    var r = select(rk, rq, is_q);
    if (p.norm == ${QK_NORM.head}u) { r = inverseSqrt(sum_sq(base, hd, tid) / f32(hd) + p.eps); }
    // The norm weight of element d: [H·hd] over the projection (full) or one [hd] per head.
    let w_at = select(0u, head * hd, p.norm == ${QK_NORM.full}u);
    for (var d = tid; d < hd; d += WG) {
      let in_rope = p.rope_kind != ${ROPE_KIND.none}u && d >= ro && d < ro + p.rope_dim;
      // A rotated pair is handled by the thread of its first element.
      var first = true;
      var partner = 0u;
      var i = 0u;
      if (in_rope) {
        let e = d - ro;
        if (p.rope_kind == ${ROPE_KIND.half}u) { first = e < half; i = e % half; partner = select(d - half, d + half, first); }
        else { first = e % 2u == 0u; i = e / 2u; partner = select(d - 1u, d + 1u, first); }
        if (!first) { continue; }
      }
      var wd = 1.0;
      var wp = 1.0;
      if (p.norm != ${QK_NORM.none}u) {
        wd = select(f32(k_w[w_at + d]), f32(q_w[w_at + d]), is_q);
        if (in_rope) { wp = select(f32(k_w[w_at + partner]), f32(q_w[w_at + partner]), is_q); }
      }
      let x1 = f32(qk[base + d]) * r * wd;
      if (!in_rope) { qk[base + d] = st(x1); continue; }
      let x2 = f32(qk[base + partner]) * r * wp;
      let ang = pos * inv_freq[i];
      let c = cos(ang) * p.cs_scale;
      let s = sin(ang) * p.cs_scale;
      qk[base + d] = st(x1 * c - x2 * s);
      qk[base + partner] = st(x2 * c + x1 * s);
    }
    workgroupBarrier();
  }
}
`,
  });
}
