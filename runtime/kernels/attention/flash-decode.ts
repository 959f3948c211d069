// Attention for one new position over a KV cache (decoding; FlashDecoding's schedule): the
// positions the query reads, [lo, pos0] (lo = 0, or pos0 − W + 1 under a window of W), are split
// into chunks of DECODE_CHUNK; (1) `flash_decode_partial`, one workgroup per (head, chunk) — or
// per (group of query heads sharing a kv head, chunk), which loads each key and value once for the
// group — one lane per cached position: the scores, their max m and sum l = Σ exp(score − m), and the
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

/** Query heads one partial workgroup computes: the largest divisor of the GQA group up to 4 whose
 *  queries fit 9 KiB of workgroup memory (all of them read the same kv head, so each key and value
 *  is loaded once for them all). */
export function decodeHeadsPerWorkgroup(group: number, QD: number): number {
  for (let n = Math.min(4, group); n > 1; n--) if (group % n === 0 && n * QD <= 2304) return n;
  return 1;
}

/** Can the partial pass read keys as vec4 words (every offset and stride a multiple of 4)? */
export function decodeVec4(o: { QD: number; cLd: number; kOff: number; kHs: number }): boolean {
  return [o.QD, o.cLd, o.kOff, o.kHs].every((n) => n % 4 === 0);
}

/**
 * One workgroup per (group of HPW query heads, chunk): lane = cached position. Each lane loads its
 * key once (as vec4 words when `vec4`) and scores it against all HPW queries; the max and the sum
 * of every head are read from workgroup memory after one barrier each; each thread then sums
 * values d over the chunk's positions for all HPW heads. 4 barriers per workgroup.
 */
export function flashDecodePartialKernel(o: { dtype: StorageDtype; kvDtype: StorageDtype; QD: number; VD: number; heads: number; vec4: boolean }) {
  const { QD, VD, heads: HPW, vec4 } = o;
  const S = DECODE_CHUNK;
  const J = [...Array(HPW).keys()];
  const kv = o.kvDtype;
  const keyDot = vec4
    ? `let kb = ((s % p.ring) * p.c_ld + p.k_off + kvh * p.k_hs) / 4u;
    for (var d4 = 0u; d4 < QD / 4u; d4++) {
      let k = vec4<f32>(cache[kb + d4]);
      ${J.map((j) => `sc${j} = fma(k.x, qs[${j}u * QD + 4u * d4], fma(k.y, qs[${j}u * QD + 4u * d4 + 1u], fma(k.z, qs[${j}u * QD + 4u * d4 + 2u], fma(k.w, qs[${j}u * QD + 4u * d4 + 3u], sc${j}))));`).join("\n      ")}
    }`
    : `let kb = (s % p.ring) * p.c_ld + p.k_off + kvh * p.k_hs;
    for (var d = 0u; d < QD; d++) {
      let k = f32(cache[kb + d]);
      ${J.map((j) => `sc${j} = fma(qs[${j}u * QD + d], k, sc${j});`).join("\n      ")}
    }`;
  const value = (at: string) => (vec4 ? `f32(cache[(${at}) / 4u][(${at}) % 4u])` : `f32(cache[${at}])`);
  return defineKernel({
    name: `flash_decode_partial[${QD},${VD},${o.dtype},kv${kv},h${HPW}${vec4 ? ",v4" : ""}]`,
    dtype: o.dtype,
    f16: kv === "f16",
    uniforms: {
      H: "u32", group: "u32", q_off: "u32", q_hs: "u32", c_ld: "u32", k_off: "u32", k_hs: "u32",
      v_off: "u32", v_hs: "u32", ring: "u32", window: "u32", max_chunks: "u32", scale: "f32",
    },
    buffers: { q: read(), cache: read(vec4 ? `array<vec4<${kv}>>` : `array<${kv}>`), part: write("array<f32>") },
    body: /* wgsl */ `
const S = ${S}u;
const QD = ${QD}u;
const VD = ${VD}u;
const HPW = ${HPW}u;
var<workgroup> qs: array<f32, ${HPW * QD}>;
var<workgroup> w: array<f32, ${HPW * S}>;
${LOW_WGSL}

@compute @workgroup_size(${S})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let groups = p.H / HPW;
  let h0 = (wg_linear % groups) * HPW;
  let c = wg_linear / groups;
  let lo = first_pos();
  let kvh = h0 / p.group;
  for (var i = tid; i < HPW * QD; i += S) { qs[i] = f32(q[p.q_off + (h0 + i / QD) * p.q_hs + i % QD]) * p.scale; }
  workgroupBarrier();
  let s = lo + c * S + tid;
  let live = s <= run.pos0;
  ${J.map((j) => `var sc${j} = 0.0;`).join(" ")}
  if (live) {
    ${keyDot}
  }
  ${J.map((j) => `w[${j}u * S + tid] = select(-3.402823e38, sc${j}, live);`).join("\n  ")}
  workgroupBarrier();
  // A chunk is launched only when its first position is live, so every m is a real score.
  ${J.map((j) => `var m${j} = w[${j}u * S];`).join(" ")}
  for (var k = 1u; k < S; k++) { ${J.map((j) => `m${j} = max(m${j}, w[${j}u * S + k]);`).join(" ")} }
  workgroupBarrier();
  ${J.map((j) => `w[${j}u * S + tid] = select(0.0, exp(sc${j} - m${j}), live);`).join("\n  ")}
  workgroupBarrier();
  ${J.map((j) => `var l${j} = 0.0;`).join(" ")}
  for (var k = 0u; k < S; k++) { ${J.map((j) => `l${j} += w[${j}u * S + k];`).join(" ")} }
  let n = min(S, run.pos0 + 1u - (lo + c * S));
  for (var d = tid; d < VD; d += S) {
    ${J.map((j) => `var acc${j} = 0.0;`).join(" ")}
    for (var k = 0u; k < n; k++) {
      let at = ((lo + c * S + k) % p.ring) * p.c_ld + p.v_off + kvh * p.v_hs + d;
      let v = ${value("at")};
      ${J.map((j) => `acc${j} = fma(w[${j}u * S + k], v, acc${j});`).join(" ")}
    }
    ${J.map((j) => `part[((h0 + ${j}u) * p.max_chunks + c) * (VD + 2u) + d] = acc${j};`).join("\n    ")}
  }
  if (tid == 0u) {
    ${J.map((j) => `part[((h0 + ${j}u) * p.max_chunks + c) * (VD + 2u) + VD] = m${j}; part[((h0 + ${j}u) * p.max_chunks + c) * (VD + 2u) + VD + 1u] = l${j};`).join("\n    ")}
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
