// Causal attention for a run of positions (prefill), tiled with an online softmax in f32: no
// T × T score matrix exists anywhere (FlashAttention's schedule). A workgroup takes BQ = 16 query
// rows of one head; lanes 4r … 4r+3 share query row r, each owning every fourth value of its q
// row and of its output accumulator. Key/value tiles of BK positions are staged in workgroup
// memory and shared by the 16 rows; for each tile the lanes reduce their partial dot products,
// update the row's running max m and sum l, rescale the accumulator by exp(m_old − m_new) and add
// p · v. Position t reads positions ≤ t (and with `window` W > 0 only t − W < s ≤ t).
//
// Keys may come from another source than the queries, several per position: with `kv_per_pos` G
// > 1, key row s is at position s div G (G keys per position, position-major), so position t reads
// key rows < (t + 1)·G in ONE softmax. Mixture of Thoughts' cross-attention over its peers
// (lower-peer-attention.ts) interleaves the peers' rows this way; G = 1 is self-attention.
//
// Heads are addressed generically — q(t, h, d) = q[t·q_ld + q_off + h·q_hs + d], keys and values
// likewise for KV heads (head strides q_hs, k_hs, v_hs: MLA's values sit inside [k_nope | v] heads), query head h reading kv head h / (H / KV) (GQA by index) — so the fused
// [q | k | v] projection of `attention` and MLA's assembled heads (QD = nope + rope, VD = v_dim)
// share it. QD and VD are compile-time constants (the lanes' register arrays); BK is chosen to fit
// the device's workgroup memory.

import type { StorageDtype } from "../../gpu/buffers.js";
import { defineKernel, read, write } from "../define-kernel.js";
import { WG_BUILTINS, WG_LINEAR } from "../wgsl-common.js";

export const FLASH_BQ = 16;
const LANES = 4;
const WG = FLASH_BQ * LANES;

/** The largest key tile (16, 8, 4, 2 or 1 positions) whose K, V and partial-score tiles fit `limitBytes`. */
export function flashKeyTile(QD: number, VD: number, limitBytes: number): number {
  for (const bk of [16, 8, 4, 2, 1]) if ((bk * (QD + VD) + FLASH_BQ * LANES * bk) * 4 <= limitBytes) return bk;
  throw new Error(`attention heads of ${QD}/${VD} values do not fit ${limitBytes} bytes of workgroup memory`);
}

export interface FlashLayout {
  /** Query heads and key/value heads (KV divides H). */
  H: number;
  KV: number;
  qLd: number;
  qOff: number;
  kLd: number;
  kOff: number;
  vLd: number;
  vOff: number;
  /** Head strides within a row (default: the head widths QD, QD, VD). */
  qHs?: number;
  kHs?: number;
  vHs?: number;
  /** Row stride of the output [T, H·VD]. */
  oLd: number;
  scale: number;
  window: number;
  /** Key/value rows per position (default 1): key row s is at position s div kvPerPos. */
  kvPerPos?: number;
}

export function flashParams(o: FlashLayout, QD: number, VD: number) {
  return {
    H: o.H, group: o.H / o.KV, q_ld: o.qLd, q_off: o.qOff, k_ld: o.kLd, k_off: o.kOff,
    v_ld: o.vLd, v_off: o.vOff, o_ld: o.oLd, window: o.window,
    q_hs: o.qHs ?? QD, k_hs: o.kHs ?? QD, v_hs: o.vHs ?? VD, scale: o.scale, kv_per_pos: o.kvPerPos ?? 1,
  };
}

export function flashAttentionKernel(o: { dtype: StorageDtype; QD: number; VD: number; BK: number }) {
  const { QD, VD, BK } = o;
  const NQ = Math.ceil(QD / LANES);
  const NV = Math.ceil(VD / LANES);
  return defineKernel({
    name: `flash_attention[${QD},${VD},bk${BK},${o.dtype}]`,
    dtype: o.dtype,
    uniforms: {
      H: "u32", group: "u32", q_ld: "u32", q_off: "u32", k_ld: "u32", k_off: "u32",
      v_ld: "u32", v_off: "u32", o_ld: "u32", window: "u32", q_hs: "u32", k_hs: "u32", v_hs: "u32", scale: "f32",
      kv_per_pos: "u32",
    },
    buffers: { q: read(), k: read(), v: read(), out: write() },
    body: /* wgsl */ `
const BQ = ${FLASH_BQ}u;
const BK = ${BK}u;
const LANES = ${LANES}u;
const QD = ${QD}u;
const VD = ${VD}u;
var<workgroup> kt: array<f32, ${BK * QD}>;
var<workgroup> vt: array<f32, ${BK * VD}>;
var<workgroup> part: array<f32, ${FLASH_BQ * LANES * BK}>;

@compute @workgroup_size(${WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let h = wg_linear % p.H;
  let q0 = (wg_linear / p.H) * BQ;
  if (q0 >= run.T) { return; }
  let kvh = h / p.group;
  let r = tid / LANES;
  let lane = tid % LANES;
  let t = q0 + r;
  let live = t < run.T;
  var qv: array<f32, ${NQ}>;
  for (var i = 0u; i < ${NQ}u; i++) {
    let d = lane + LANES * i;
    if (live && d < QD) { qv[i] = f32(q[t * p.q_ld + p.q_off + h * p.q_hs + d]) * p.scale; }
  }
  var acc: array<f32, ${NV}>;
  var m = -3.402823e38;
  var l = 0.0;
  let q_last = min(run.T, q0 + BQ) - 1u;
  let G = p.kv_per_pos;
  // Key rows [k_lo, k_end) cover positions up to q_last (G rows per position).
  let k_end = (q_last + 1u) * G;
  var k_lo = 0u;
  if (p.window > 0u && q0 + 1u > p.window) { k_lo = (q0 + 1u - p.window) * G; }
  for (var kb = k_lo; kb < k_end; kb += BK) {
    for (var idx = tid; idx < BK * QD; idx += ${WG}u) {
      let s = kb + idx / QD;
      var val = 0.0;
      if (s < k_end) { val = f32(k[s * p.k_ld + p.k_off + kvh * p.k_hs + idx % QD]); }
      kt[idx] = val;
    }
    for (var idx = tid; idx < BK * VD; idx += ${WG}u) {
      let s = kb + idx / VD;
      var val = 0.0;
      if (s < k_end) { val = f32(v[s * p.v_ld + p.v_off + kvh * p.v_hs + idx % VD]); }
      vt[idx] = val;
    }
    workgroupBarrier();
    for (var j = 0u; j < BK; j++) {
      var dot = 0.0;
      for (var i = 0u; i < ${NQ}u; i++) {
        let d = lane + LANES * i;
        if (d < QD) { dot = fma(qv[i], kt[j * QD + d], dot); }
      }
      part[(r * LANES + lane) * BK + j] = dot;
    }
    workgroupBarrier();
    // Every lane of the row computes the same scores, max and weights (no second barrier needed).
    var sc: array<f32, ${BK}>;
    var bmax = -3.402823e38;
    for (var j = 0u; j < BK; j++) {
      let s = (kb + j) / G;
      let ok = live && s <= t && (p.window == 0u || s + p.window > t);
      var dot = 0.0;
      for (var ln = 0u; ln < LANES; ln++) { dot += part[(r * LANES + ln) * BK + j]; }
      sc[j] = select(-3.402823e38, dot, ok);
      if (ok) { bmax = max(bmax, dot); }
    }
    let m_new = max(m, bmax);
    let alpha = exp(m - m_new);
    l *= alpha;
    for (var i = 0u; i < ${NV}u; i++) { acc[i] *= alpha; }
    for (var j = 0u; j < BK; j++) {
      if (sc[j] <= -3.402823e38) { continue; }
      let pj = exp(sc[j] - m_new);
      l += pj;
      for (var i = 0u; i < ${NV}u; i++) {
        let d = lane + LANES * i;
        if (d < VD) { acc[i] = fma(pj, vt[j * VD + d], acc[i]); }
      }
    }
    m = m_new;
    workgroupBarrier();
  }
  if (!live) { return; }
  for (var i = 0u; i < ${NV}u; i++) {
    let d = lane + LANES * i;
    if (d < VD) { out[t * p.o_ld + h * VD + d] = st(acc[i] / l); }
  }
}
`,
  });
}
