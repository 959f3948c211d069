// Token-centric combine for fine experts (see fine-gather-dot.ts): the axpy half and its reduce.
//
//   fine_axpy:   one thread per (token t, slot chunk c, output d), summing its chunk's slots in
//                slot order:  acc = Σ_{s ∈ chunk c, s < count[t]} Σ_r h[t·maxK + s, r] · b[e_s, d, r]
//                (+ w_s · b_down[e_s, d] for ffn experts with biases)
//                (identity pools: acc = (Σ_s w_s) · x[t, d]); it writes out[t, d] directly when
//                there is one chunk, else partial[t, c, d]. Threads with the same t, c read the same
//                h values (broadcast) and consecutive b[e, d, ·] (coalesced for R = 1).
//   fine_reduce: out[t, d] = Σ_c partial[t, c, d] in chunk order.
//
// Chunking the slots keeps every thread's loop short (k = 4096 atoms for one token would otherwise
// be a single 4096-step loop per output) while the sum order stays fixed: results are bitwise
// reproducible, with no float atomics. `b` may be bound as row chunks [g0, g1) of [N·D, R], one
// dispatch each; later chunks add to what earlier ones wrote into `partial` (dispatches in one
// pass are ordered).

import type { StorageDtype } from "../gpu/buffers.js";
import type { GpuBlockFormat } from "../weights/quant/gpu-blocks.js";
import { blockRowDot, blockWordFns } from "./block-dequant-wgsl.js";
import { defineKernel, type ParamValues, read, write } from "./define-kernel.js";
import { ROUTED_SLOTS } from "./fine-gather-dot.js";
import { threadMain } from "./wgsl-common.js";

export const FINE_AXPY_WG = 64;
/** Slots per chunk of fine_axpy. */
export const FINE_SLOT_CHUNK = 64;

export interface FineAxpyParams {
  D: number;
  R: number;
  maxK: number;
  /** Slot chunks per token (⌈maxK / FINE_SLOT_CHUNK⌉). */
  chunks: number;
  /** 0: rank units from h and b; 1: identity experts (Σ w)·x. */
  mode: 0 | 1;
  g0: number;
  g1: number;
  /** Write `partial` (f32, [T, chunks, D]) instead of `out`. */
  partial: boolean;
  /** Add to `partial` instead of overwriting it (second and later weight chunks). */
  accumulate: boolean;
  /** Add w_slot · b_down[e] (ffn(…, bias = true); set on one weight chunk only). */
  bias?: boolean;
}

const FINE_AXPY_UNIFORMS = {
  D: "u32", R: "u32", maxK: "u32", SC: "u32", nc: "u32", mode: "u32", g0: "u32", g1: "u32", partial: "u32", accumulate: "u32", bias: "u32",
} as const;

export function fineAxpyParams(o: FineAxpyParams): ParamValues<typeof FINE_AXPY_UNIFORMS> {
  return {
    D: o.D, R: o.R, maxK: o.maxK, SC: FINE_SLOT_CHUNK, nc: o.chunks, mode: o.mode, g0: o.g0, g1: o.g1,
    partial: o.partial ? 1 : 0, accumulate: o.accumulate ? 1 : 0, bias: o.bias ? 1 : 0,
  };
}

/** `quant`: b as Q8_0/Q4_0/FP8 blocks (`b` the values words, `b_scale` the scales; R whole blocks). */
export function fineAxpyKernel(dtype: StorageDtype, quant?: GpuBlockFormat) {
  const units = quant
    ? `${blockRowDot(quant, { values: "b", scales: "b_scale", lr: "row - p.g0", len: "p.R", vec: (e) => `vec4<f32>(h[h0 + ${e}], h[h0 + ${e} + 1u], h[h0 + ${e} + 2u], h[h0 + ${e} + 3u])`, out: "hb" })}
        acc += hb;`
    : `let b0 = (row - p.g0) * p.R;
        for (var r = 0u; r < p.R; r++) { acc = fma(h[h0 + r], f32(b[b0 + r]), acc); }`;
  return defineKernel({
    name: `fine_axpy[${dtype}${quant ? `,${quant}` : ""}]`,
    dtype,
    uniforms: FINE_AXPY_UNIFORMS,
    buffers: { x: read(), ...ROUTED_SLOTS, h: read("array<f32>"), ...(quant ? { b: read("array<u32>"), b_scale: read("array<u32>") } : { b: read() }), b_down: read(), out: write(), part: write("array<f32>") },
    body: /* wgsl */ `${quant ? blockWordFns(quant) : ""}
${threadMain(FINE_AXPY_WG)}
  let d = i % p.D;
  let tc = i / p.D;
  let t = tc / p.nc;
  let c = tc % p.nc;
  if (t >= run.T) { return; }
  let s0 = c * p.SC;
  let s1 = min(tok_count[t], s0 + p.SC);
  var acc = 0.0;
  if (p.mode == 1u) {
    var ws = 0.0;
    for (var s = s0; s < s1; s++) { ws += wts[t * p.maxK + s]; }
    acc = ws * f32(x[t * p.D + d]);
  } else {
    for (var s = s0; s < s1; s++) {
      let slot = t * p.maxK + s;
      let row = ids[slot] * p.D + d;
      if (p.bias != 0u) { acc = fma(wts[slot], f32(b_down[row]), acc); }
      if (row >= p.g0 && row < p.g1) {
        let h0 = slot * p.R;
        ${units}
      }
    }
  }
  if (p.partial != 0u) {
    if (p.accumulate != 0u) { acc += part[i]; }
    part[i] = acc;
  } else {
    out[t * p.D + d] = st(acc);
  }
}
`,
  });
}

/** out[t, d] = Σ_c partial[t, c, d], c in order (nc: slot chunks per token). */
export function fineReduceKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `fine_reduce[${dtype}]`,
    dtype,
    uniforms: { D: "u32", nc: "u32" },
    buffers: { part: read("array<f32>"), out: write() },
    body: /* wgsl */ `
${threadMain(FINE_AXPY_WG)}
  if (i >= run.T * p.D) { return; }
  let t = i / p.D;
  let d = i % p.D;
  var acc = 0.0;
  for (var c = 0u; c < p.nc; c++) { acc += part[(t * p.nc + c) * p.D + d]; }
  out[i] = st(acc);
}
`,
  });
}
