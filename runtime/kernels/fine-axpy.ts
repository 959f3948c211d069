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
import type { KernelSpec } from "./kernel-spec.js";
import { header, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

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

export function fineAxpyParams(o: FineAxpyParams): number[] {
  return [o.D, o.R, o.maxK, FINE_SLOT_CHUNK, o.chunks, o.mode, o.g0, o.g1, o.partial ? 1 : 0, o.accumulate ? 1 : 0, o.bias ? 1 : 0, 0];
}

export function fineAxpyKernel(dtype: StorageDtype): KernelSpec {
  const code = `${header(dtype)}
${RUN_STRUCT}
struct Params { D: u32, R: u32, maxK: u32, SC: u32, nc: u32, mode: u32, g0: u32, g1: u32, partial: u32, accumulate: u32, bias: u32, _b: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> x: array<st>;
@group(0) @binding(3) var<storage, read> tok_count: array<u32>;
@group(0) @binding(4) var<storage, read> ids: array<u32>;
@group(0) @binding(5) var<storage, read> wts: array<f32>;
@group(0) @binding(6) var<storage, read> h: array<f32>;
@group(0) @binding(7) var<storage, read> b: array<st>;
@group(0) @binding(8) var<storage, read> b_down: array<st>;
@group(0) @binding(9) var<storage, read_write> out: array<st>;
@group(0) @binding(10) var<storage, read_write> part: array<f32>;

@compute @workgroup_size(${FINE_AXPY_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let i = wg_linear * ${FINE_AXPY_WG}u + tid;
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
        let b0 = (row - p.g0) * p.R;
        let h0 = slot * p.R;
        for (var r = 0u; r < p.R; r++) { acc = fma(h[h0 + r], f32(b[b0 + r]), acc); }
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
`;
  return {
    name: `fine_axpy[${dtype}]`,
    code,
    entryPoint: "main",
    bindings: [
      { name: "run", kind: "uniform" },
      { name: "params", kind: "uniform" },
      { name: "x", kind: "read" },
      { name: "tok_count", kind: "read" },
      { name: "ids", kind: "read" },
      { name: "wts", kind: "read" },
      { name: "h", kind: "read" },
      { name: "b", kind: "read" },
      { name: "b_down", kind: "read" },
      { name: "out", kind: "storage" },
      { name: "part", kind: "storage" },
    ],
  };
}

/** out[t, d] = Σ_c partial[t, c, d], c in order. Params: D, chunks. */
export function fineReduceKernel(dtype: StorageDtype): KernelSpec {
  const code = `${header(dtype)}
${RUN_STRUCT}
struct Params { D: u32, nc: u32, _a: u32, _b: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> part: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<st>;

@compute @workgroup_size(${FINE_AXPY_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let i = wg_linear * ${FINE_AXPY_WG}u + tid;
  if (i >= run.T * p.D) { return; }
  let t = i / p.D;
  let d = i % p.D;
  var acc = 0.0;
  for (var c = 0u; c < p.nc; c++) { acc += part[(t * p.nc + c) * p.D + d]; }
  out[i] = st(acc);
}
`;
  return {
    name: `fine_reduce[${dtype}]`,
    code,
    entryPoint: "main",
    bindings: [
      { name: "run", kind: "uniform" },
      { name: "params", kind: "uniform" },
      { name: "part", kind: "read" },
      { name: "out", kind: "storage" },
    ],
  };
}
