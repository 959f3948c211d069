// Batched decoding's attention kernels (issue 12, docs/generation.md "Batches"): B sequences, one
// new row each, at their own positions pos[b] (a small u32 GPU buffer, not the run uniform's
// single pos0). The KV cache holds B slots of `ring` rows each; slot b's position s sits at row
// b·ring + s mod ring. `batch_kv_cache_write` puts row b's key/value span at slot b, position
// pos[b]; `batch_flash_decode_partial` is flash-decode.ts's partial pass with one workgroup per
// (row, head, chunk), row b reading [lo_b, pos[b]] of slot b; `batch_flash_decode_merge` merges
// per (row, head). The grid is sized for the largest position (host-known); chunks past a
// row's own positions write an empty partial (l = 0) that its merge never reads. run.T = B.
// `shared: true` is Group Think's form (group-decode.ts): one cache for all rows, a `grp` buffer
// naming the step, rows placed step-major and each query masked by §11.2's visibility; the
// kernels are the same WGSL with the row addressing and the mask swapped in.

import type { StorageDtype } from "../../gpu/buffers.js";
import { type BufferDecl, defineKernel, read, write } from "../define-kernel.js";
import { threadMain, WG_BUILTINS, WG_LINEAR } from "../wgsl-common.js";
import { CHUNK_REDUCE_WGSL, DECODE_CHUNK, type DecodeLayout, mergeChunksWgsl } from "./flash-decode.js";
import { GROUP_MASK_WGSL } from "./group-decode.js";

export const BATCH_KV_WRITE_WG = 256;

/** The first position row b reads, under a window of W (0: all). */
const LOW_WGSL = /* wgsl */ `
fn first_pos(pos: u32) -> u32 {
  if (p.window > 0u && pos + 1u > p.window) { return pos + 1u - p.window; }
  return 0u;
}
`;

/** The `grp` binding of the shared (Group Think) form. */
const groupBuffers = (shared: boolean): Record<string, BufferDecl> => (shared ? { grp: read("array<u32>") } : {});

/**
 * Rows t < run.T (= B) of `src`: a span of n values at src_off (row stride src_ld) into slot t at
 * position pos[t]; shared: into the shared cache's row for thread t at this step.
 */
export function batchKvCacheWriteKernel(dtype: StorageDtype, kvDtype: StorageDtype, shared = false) {
  return defineKernel({
    name: `batch_kv_cache_write[${dtype},kv${kvDtype}${shared ? ",shared" : ""}]`,
    dtype,
    f16: kvDtype === "f16",
    uniforms: { src_ld: "u32", src_off: "u32", dst_ld: "u32", dst_off: "u32", n: "u32", ring: "u32" },
    buffers: { pos: read("array<u32>"), ...groupBuffers(shared), src: read(), cache: write(`array<${kvDtype}>`) },
    body: /* wgsl */ `
${shared ? "fn first_pos(pos: u32) -> u32 { return 0u; }\n" + GROUP_MASK_WGSL : ""}
${threadMain(BATCH_KV_WRITE_WG)}
  if (i >= run.T * p.n) { return; }
  let t = i / p.n;
  let j = i % p.n;
  let row = ${shared ? "group_dest_row(t)" : "t * p.ring + pos[t] % p.ring"};
  cache[row * p.dst_ld + p.dst_off + j] = ${kvDtype}(src[t * p.src_ld + p.src_off + j]);
}
`,
  });
}

/** A batch's layout: the one-sequence layout (flash-decode.ts; `maxChunks` per (row, head): ⌈ring /
 *  DECODE_CHUNK⌉) plus the query rows' stride, q(b, h, d) = q[b·qLd + qOff + h·qHs + d]. */
export interface BatchDecodeLayout extends DecodeLayout {
  qLd: number;
}

export function batchDecodePartialParams(o: BatchDecodeLayout) {
  return {
    H: o.H, group: o.H / o.KV, q_ld: o.qLd, q_off: o.qOff, q_hs: o.qHs, c_ld: o.cLd, k_off: o.kOff, k_hs: o.kHs,
    v_off: o.vOff, v_hs: o.vHs, ring: o.ring, window: o.window, max_chunks: o.maxChunks, scale: o.scale,
  };
}

/** Partial values a batch needs: B·H·maxChunks·(VD + 2) f32. */
export function batchDecodePartialSize(B: number, H: number, maxChunks: number, VD: number): number {
  return B * H * maxChunks * (VD + 2);
}

/**
 * The rows row b scans, [start, end), its live test for row s, and the cache row of s: its own
 * slot's [lo, pos[b]] (slots), or the shared cache's rows so far under the §11.2 mask (shared).
 */
function scanWgsl(shared: boolean, rows: boolean): string {
  const range = shared
    ? /* wgsl */ `${GROUP_MASK_WGSL}
fn scan_start(b: u32) -> u32 { return 0u; }
fn scan_end(b: u32) -> u32 { return group_rows(); }
`
    : /* wgsl */ `
fn scan_start(b: u32) -> u32 { return first_pos(pos[b]); }
fn scan_end(b: u32) -> u32 { return pos[b] + 1u; }
`;
  if (!rows) return range;
  return range + (shared
    ? /* wgsl */ `fn scan_reads(b: u32, s: u32) -> bool { return group_reads(b, s, pos[b]); }
fn key_row(b: u32, s: u32) -> u32 { return s; }
`
    : /* wgsl */ `fn scan_reads(b: u32, s: u32) -> bool { return true; }
fn key_row(b: u32, s: u32) -> u32 { return b * p.ring + s % p.ring; }
`);
}

export function batchFlashDecodePartialKernel(o: { dtype: StorageDtype; kvDtype: StorageDtype; QD: number; VD: number; shared?: boolean }) {
  const { QD, VD } = o;
  const S = DECODE_CHUNK;
  const shared = o.shared ?? false;
  return defineKernel({
    name: `batch_flash_decode_partial[${QD},${VD},${o.dtype},kv${o.kvDtype}${shared ? ",shared" : ""}]`,
    dtype: o.dtype,
    f16: o.kvDtype === "f16",
    uniforms: {
      H: "u32", group: "u32", q_ld: "u32", q_off: "u32", q_hs: "u32", c_ld: "u32", k_off: "u32", k_hs: "u32",
      v_off: "u32", v_hs: "u32", ring: "u32", window: "u32", max_chunks: "u32", scale: "f32",
    },
    buffers: { pos: read("array<u32>"), ...groupBuffers(shared), q: read(), cache: read(`array<${o.kvDtype}>`), part: write("array<f32>") },
    body: /* wgsl */ `
const S = ${S}u;
const QD = ${QD}u;
const VD = ${VD}u;
var<workgroup> qs: array<f32, ${QD}>;
var<workgroup> w: array<f32, ${S}>;
var<workgroup> red: array<f32, ${S}>;
${LOW_WGSL}
${scanWgsl(shared, true)}
${CHUNK_REDUCE_WGSL}

@compute @workgroup_size(${S})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let h = wg_linear % p.H;
  let c = (wg_linear / p.H) % p.max_chunks;
  let b = wg_linear / (p.H * p.max_chunks);
  // grid2D may launch a few workgroups past B·H·max_chunks.
  if (b >= run.T) { return; }
  let lo = scan_start(b);
  let end = scan_end(b);
  let kvh = h / p.group;
  for (var d = tid; d < QD; d += S) { qs[d] = f32(q[b * p.q_ld + p.q_off + h * p.q_hs + d]) * p.scale; }
  workgroupBarrier();
  let s = lo + c * S + tid;
  let live = s < end && scan_reads(b, s);
  var score = -3.402823e38;
  if (live) {
    let kb = key_row(b, s) * p.c_ld + p.k_off + kvh * p.k_hs;
    var dot = 0.0;
    for (var d = 0u; d < QD; d++) { dot = fma(qs[d], f32(cache[kb + d]), dot); }
    score = dot;
  }
  // A chunk past the row's positions (or wholly masked) has no live lane: its l is 0, and the
  // merge skips it (past the end) or weighs it by exp(−∞) = 0 (masked).
  let m = reduce(score, tid, true);
  let e = select(0.0, exp(score - m), live);
  w[tid] = e;
  let l = reduce(e, tid, false);
  let base = ((b * p.H + h) * p.max_chunks + c) * (VD + 2u);
  for (var d = tid; d < VD; d += S) {
    var acc = 0.0;
    for (var j = 0u; j < S; j++) {
      let sj = lo + c * S + j;
      if (sj >= end) { break; }
      acc = fma(w[j], f32(cache[key_row(b, sj) * p.c_ld + p.v_off + kvh * p.v_hs + d]), acc);
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

export function batchFlashDecodeMergeKernel(o: { dtype: StorageDtype; VD: number; shared?: boolean }) {
  const { VD } = o;
  const WG = 64;
  const shared = o.shared ?? false;
  return defineKernel({
    name: `batch_flash_decode_merge[${VD},${o.dtype}${shared ? ",shared" : ""}]`,
    dtype: o.dtype,
    uniforms: { H: "u32", window: "u32", max_chunks: "u32", o_ld: "u32", o_off: "u32", o_hs: "u32" },
    buffers: { pos: read("array<u32>"), ...groupBuffers(shared), part: read("array<f32>"), out: write() },
    body: /* wgsl */ `
const S = ${DECODE_CHUNK}u;
const VD = ${VD}u;
${LOW_WGSL}
${scanWgsl(shared, false)}
@compute @workgroup_size(${WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let h = wg_linear % p.H;
  let b = wg_linear / p.H;
  if (b >= run.T) { return; }
  let chunks = (scan_end(b) - scan_start(b) + S - 1u) / S;
  let head = (b * p.H + h) * p.max_chunks * (VD + 2u);
${mergeChunksWgsl(WG, "b * p.o_ld + p.o_off + h * p.o_hs")}
}
`,
  });
}
