// Dense GEMM with bias: out[r, n] = Σ_k a[r, k] · W[w_off + n·K + k] (+ b[b_off + n]), tiled
// 16×64×16 like the expert GEMMs. Serves the IR's `linear` op (rows = T) and the unfused
// baseline's per-expert projections (rows = that expert's token count, W = a slice of the
// stacked pool tensor). The bound W may be a chunk holding rows [g0, g1) (see expert-gemm-up).

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { header, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const LINEAR_BM = 16;
export const LINEAR_BN = 64;
const BK = 16;

/** Params: rows (0 = the run's T), N, K, w_off, b_off, g0, g1, ntn, bias. */
export function linearParams(o: { rows: number; N: number; K: number; wOff?: number; bOff?: number; g0?: number; g1?: number; bias: boolean }): number[] {
  return [o.rows, o.N, o.K, o.wOff ?? 0, o.bOff ?? 0, o.g0 ?? 0, o.g1 ?? 0xffffffff, Math.ceil(o.N / LINEAR_BN), o.bias ? 1 : 0, 0, 0, 0];
}

/** One pipeline per storage dtype; bias presence is a uniform (bind any buffer as `b` without). */
export function linearKernel(dtype: StorageDtype): KernelSpec {
  const code = `${header(dtype)}
${RUN_STRUCT}
struct Params { rows: u32, N: u32, K: u32, w_off: u32, b_off: u32, g0: u32, g1: u32, ntn: u32, bias: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> a: array<st>;
@group(0) @binding(3) var<storage, read> w: array<st>;
@group(0) @binding(4) var<storage, read> b: array<st>;
@group(0) @binding(5) var<storage, read_write> out: array<st>;
const BM = ${LINEAR_BM}u;
const BN = ${LINEAR_BN}u;
const BK = ${BK}u;
var<workgroup> as_: array<f32, ${LINEAR_BM * BK}>;
var<workgroup> bs: array<f32, ${BK * LINEAR_BN}>;

@compute @workgroup_size(256)
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let tile_n = wg_linear % p.ntn;
  let tile_m = wg_linear / p.ntn;
  let M = select(p.rows, run.T, p.rows == 0u);
  if (tile_m * BM >= M) { return; }
  let n_lo = tile_n * BN;
  if (n_lo + BN <= p.g0 || n_lo >= p.g1) { return; }
  let ty = tid / 16u;
  let tx = tid % 16u;
  let K = p.K;
  var acc: array<f32, 4>;
  for (var k0 = 0u; k0 < K; k0 += BK) {
    {
      let r = tile_m * BM + tid / BK;
      let k = k0 + tid % BK;
      var v = 0.0;
      if (r < M && k < K) { v = f32(a[r * K + k]); }
      as_[tid] = v;
    }
    for (var q = 0u; q < 4u; q++) {
      let idx = tid + q * 256u;
      let c = idx / BK;
      let kk = idx % BK;
      let n = n_lo + c;
      let k = k0 + kk;
      var v = 0.0;
      if (n < p.N && n >= p.g0 && n < p.g1 && k < K) { v = f32(w[p.w_off + (n - p.g0) * K + k]); }
      bs[kk * BN + c] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let av = as_[ty * BK + kk];
      for (var j = 0u; j < 4u; j++) { acc[j] = fma(av, bs[kk * BN + tx + 16u * j], acc[j]); }
    }
    workgroupBarrier();
  }
  let r = tile_m * BM + ty;
  if (r >= M) { return; }
  for (var j = 0u; j < 4u; j++) {
    let n = n_lo + tx + 16u * j;
    if (n < p.N && n >= p.g0 && n < p.g1) {
      var v = acc[j];
      if (p.bias != 0u) { v += f32(b[p.b_off + n]); }
      out[r * p.N + n] = st(v);
    }
  }
}
`;
  const bindings: KernelSpec["bindings"] = [
    { name: "run", kind: "uniform" },
    { name: "params", kind: "uniform" },
    { name: "a", kind: "read" },
    { name: "w", kind: "read" },
    { name: "b", kind: "read" },
    { name: "out", kind: "storage" },
  ];
  return { name: `linear[${dtype}]`, code, entryPoint: "main", bindings };
}
