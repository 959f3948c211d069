// Dense GEMM with bias: out[r, n] = Σ_k a[r, k] · W[w_off + n·K + k] (+ b[b_off + n]), on the
// shared 16×64 tile like the expert GEMMs. Serves the IR's `linear` op (rows = T) and the unfused
// baseline's per-expert projections (rows = that expert's token count, W = a slice of the
// stacked pool tensor). The bound W may be a chunk holding rows [g0, g1) (see expert-gemm-up).

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { TILE_BM, TILE_BN, TILE_WG, tileDecls, tileLoop } from "./gemm-tile.js";
import { header, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const LINEAR_BM = TILE_BM;
export const LINEAR_BN = TILE_BN;

/** Params: rows (0 = the run's T), N, K, w_off, b_off, g0, g1, ntn, bias. */
export function linearParams(o: { rows: number; N: number; K: number; wOff?: number; bOff?: number; g0?: number; g1?: number; bias: boolean }): number[] {
  return [o.rows, o.N, o.K, o.wOff ?? 0, o.bOff ?? 0, o.g0 ?? 0, o.g1 ?? 0xffffffff, Math.ceil(o.N / LINEAR_BN), o.bias ? 1 : 0, 0, 0, 0];
}

/** One pipeline per storage dtype; bias presence is a uniform (bind any buffer as `b` without). */
export function linearKernel(dtype: StorageDtype): KernelSpec {
  const loop = tileLoop({
    K: "p.K",
    gated: false,
    loadA: "let row = tile_m * BM + r; if (row < M) { v = f32(a[row * p.K + k]); }",
    loadB: "let n = n_lo + c; if (n < p.N && n >= p.g0 && n < p.g1) { w = f32(weight[p.w_off + (n - p.g0) * p.K + k]); }",
  });
  const code = `${header(dtype)}
${RUN_STRUCT}
struct Params { rows: u32, N: u32, K: u32, w_off: u32, b_off: u32, g0: u32, g1: u32, ntn: u32, bias: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> a: array<st>;
@group(0) @binding(3) var<storage, read> weight: array<st>;
@group(0) @binding(4) var<storage, read> b: array<st>;
@group(0) @binding(5) var<storage, read_write> out: array<st>;
const BM = ${LINEAR_BM}u;
const BN = ${LINEAR_BN}u;
${tileDecls(false)}

@compute @workgroup_size(${TILE_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let tile_n = wg_linear % p.ntn;
  let tile_m = wg_linear / p.ntn;
  let M = select(p.rows, run.T, p.rows == 0u);
  if (tile_m * BM >= M) { return; }
  let n_lo = tile_n * BN;
  if (n_lo + BN <= p.g0 || n_lo >= p.g1) { return; }
  ${loop}
  for (var i = 0u; i < 4u; i++) {
    let row = tile_m * BM + ty * 4u + i;
    if (row >= M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let n = n_lo + tx + 16u * j;
      if (n < p.N && n >= p.g0 && n < p.g1) {
        var v = acc[i * 4u + j];
        if (p.bias != 0u) { v += f32(b[p.b_off + n]); }
        out[row * p.N + n] = st(v);
      }
    }
  }
}
`;
  const bindings: KernelSpec["bindings"] = [
    { name: "run", kind: "uniform" },
    { name: "params", kind: "uniform" },
    { name: "a", kind: "read" },
    { name: "weight", kind: "read" },
    { name: "b", kind: "read" },
    { name: "out", kind: "storage" },
  ];
  return { name: `linear[${dtype}]`, code, entryPoint: "main", bindings };
}
