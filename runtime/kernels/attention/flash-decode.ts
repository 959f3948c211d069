// Attention for one new position over a KV cache (decoding; FlashDecoding's schedule): the
// positions the query reads, [lo, pos0] (lo = 0, or pos0 − W + 1 under a window of W), are split
// into chunks of DECODE_CHUNK; (1) `flash_decode_partial`, one workgroup per (head, chunk), one
// lane per cached position: the scores, their max m and sum l = Σ exp(score − m), and the
// weighted values acc = Σ exp(score − m) · v, written as a partial [acc | m | l]; (2)
// `flash_decode_merge`, one workgroup per head, rescales each partial by exp(m_c − M) and divides
// by the total L. A step's work is the attention itself (chunks grow with the position); the
// grid of (1) has ⌈(pos0 − lo + 1) / DECODE_CHUNK⌉ chunks per head, computed on the host.
//
// Cached position s sits at row s mod ring (kv-cache-write.ts). Heads are addressed as in
// flash-attention.ts: q(h, d) = q[q_off + h·q_hs + d], k(s, g, d) = cache[row·c_ld + k_off +
// g·k_hs + d], values likewise, query head h reading kv head h / group; MLA's absorbed form is
// one kv head (k_hs = v_hs = 0) whose keys are [c_kv | k_pe] and values c_kv (lower-mla-decode.ts).

import type { StorageDtype } from "../../gpu/buffers.js";
import { defineKernel, read, write } from "../define-kernel.js";
import { WG_BUILTINS, WG_LINEAR } from "../wgsl-common.js";

/** Cached positions per workgroup of the partial pass (= its lanes). */
export const DECODE_CHUNK = 64;

/** The first position a query at `pos` reads (window 0: all). */
export function decodeLow(pos: number, window: number): number {
  return window > 0 && pos + 1 > window ? pos + 1 - window : 0;
}

/** Chunks of the partial pass for a query at `pos`. */
export function decodeChunks(pos: number, window: number): number {
  return Math.ceil((pos + 1 - decodeLow(pos, window)) / DECODE_CHUNK);
}

export interface DecodeLayout {
  H: number;
  KV: number;
  qOff: number;
  qHs: number;
  cLd: number;
  kOff: number;
  kHs: number;
  vOff: number;
  vHs: number;
  ring: number;
  window: number;
  /** Chunks a partial buffer holds per head (for the largest position). */
  maxChunks: number;
  scale: number;
}

export function decodePartialParams(o: DecodeLayout) {
  return {
    H: o.H, group: o.H / o.KV, q_off: o.qOff, q_hs: o.qHs, c_ld: o.cLd, k_off: o.kOff, k_hs: o.kHs,
    v_off: o.vOff, v_hs: o.vHs, ring: o.ring, window: o.window, max_chunks: o.maxChunks, scale: o.scale,
  };
}

const LOW_WGSL = /* wgsl */ `
fn first_pos() -> u32 {
  let pos = run.pos0;
  if (p.window > 0u && pos + 1u > p.window) { return pos + 1u - p.window; }
  return 0u;
}
`;

/** The partial pass's workgroup reduction (sum, or max) over the chunk's S lanes (needs `red`).
 *  Every lane reads all S words after one barrier instead of a log₂ S tree: 2 barriers, not
 *  2 + log₂ S — on lavapipe a barrier costs a coroutine switch per invocation, and a step at
 *  context 2,048 runs thousands of these workgroups; S reads of one broadcast word are cheap on
 *  a GPU too. The sum runs in lane order, so every lane gets the same bits. */
export const CHUNK_REDUCE_WGSL = /* wgsl */ `fn reduce(v: f32, tid: u32, is_max: bool) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  var r = red[0];
  for (var k = 1u; k < S; k++) { r = select(r + red[k], max(r, red[k]), is_max); }
  workgroupBarrier();
  return r;
}`;

/**
 * The merge of one head's `chunks` partials starting at `head` (each VD sums, then m and l):
 * rescaled by exp(m_c − max m), divided by Σ l_c·exp(m_c − max m), written at `outAt + d`.
 */
export function mergeChunksWgsl(WG: number, outAt: string): string {
  return /* wgsl */ `var mx = -3.402823e38;
  for (var c = 0u; c < chunks; c++) { mx = max(mx, part[head + c * (VD + 2u) + VD]); }
  var total = 0.0;
  for (var c = 0u; c < chunks; c++) {
    let at = head + c * (VD + 2u);
    total += part[at + VD + 1u] * exp(part[at + VD] - mx);
  }
  for (var d = tid; d < VD; d += ${WG}u) {
    var acc = 0.0;
    for (var c = 0u; c < chunks; c++) {
      let at = head + c * (VD + 2u);
      acc = fma(part[at + d], exp(part[at + VD] - mx), acc);
    }
    out[${outAt} + d] = st(acc / total);
  }`;
}

export function flashDecodePartialKernel(o: { dtype: StorageDtype; kvDtype: StorageDtype; QD: number; VD: number }) {
  const { QD, VD } = o;
  const S = DECODE_CHUNK;
  return defineKernel({
    name: `flash_decode_partial[${QD},${VD},${o.dtype},kv${o.kvDtype}]`,
    dtype: o.dtype,
    f16: o.kvDtype === "f16",
    uniforms: {
      H: "u32", group: "u32", q_off: "u32", q_hs: "u32", c_ld: "u32", k_off: "u32", k_hs: "u32",
      v_off: "u32", v_hs: "u32", ring: "u32", window: "u32", max_chunks: "u32", scale: "f32",
    },
    buffers: { q: read(), cache: read(`array<${o.kvDtype}>`), part: write("array<f32>") },
    body: /* wgsl */ `
const S = ${S}u;
const QD = ${QD}u;
const VD = ${VD}u;
var<workgroup> qs: array<f32, ${QD}>;
var<workgroup> w: array<f32, ${S}>;
var<workgroup> red: array<f32, ${S}>;
${LOW_WGSL}
${CHUNK_REDUCE_WGSL}

@compute @workgroup_size(${S})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let h = wg_linear % p.H;
  let c = wg_linear / p.H;
  let lo = first_pos();
  let kvh = h / p.group;
  for (var d = tid; d < QD; d += S) { qs[d] = f32(q[p.q_off + h * p.q_hs + d]) * p.scale; }
  workgroupBarrier();
  let s = lo + c * S + tid;
  let live = s <= run.pos0;
  var score = -3.402823e38;
  if (live) {
    let kb = (s % p.ring) * p.c_ld + p.k_off + kvh * p.k_hs;
    var dot = 0.0;
    for (var d = 0u; d < QD; d++) { dot = fma(qs[d], f32(cache[kb + d]), dot); }
    score = dot;
  }
  // A chunk is launched only when its first position is live, so m is a real score.
  let m = reduce(score, tid, true);
  let e = select(0.0, exp(score - m), live);
  w[tid] = e;
  let l = reduce(e, tid, false);
  let base = (h * p.max_chunks + c) * (VD + 2u);
  for (var d = tid; d < VD; d += S) {
    var acc = 0.0;
    for (var j = 0u; j < S; j++) {
      let sj = lo + c * S + j;
      if (sj > run.pos0) { break; }
      acc = fma(w[j], f32(cache[(sj % p.ring) * p.c_ld + p.v_off + kvh * p.v_hs + d]), acc);
    }
    part[base + d] = acc;
  }
  if (tid == 0u) {
    part[base + VD] = m;
    part[base + VD + 1u] = l;
  }
}
`,
  });
}

export function flashDecodeMergeKernel(o: { dtype: StorageDtype; VD: number }) {
  const { VD } = o;
  const WG = 64;
  return defineKernel({
    name: `flash_decode_merge[${VD},${o.dtype}]`,
    dtype: o.dtype,
    uniforms: { window: "u32", max_chunks: "u32", o_off: "u32", o_hs: "u32" },
    buffers: { part: read("array<f32>"), out: write() },
    body: /* wgsl */ `
const S = ${DECODE_CHUNK}u;
const VD = ${VD}u;
${LOW_WGSL}
@compute @workgroup_size(${WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let h = wg_linear;
  let chunks = (run.pos0 + 1u - first_pos() + S - 1u) / S;
  let head = h * p.max_chunks * (VD + 2u);
${mergeChunksWgsl(WG, "p.o_off + h * p.o_hs")}
}
`,
  });
}
