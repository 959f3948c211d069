// The router's gate GEMM on its own, for a GEMM matrix larger than the storage binding limit
// (E·D·4 bytes > 128 MiB on lavapipe, e.g. E = 4096, D = 16384 at f32): one dispatch per row
// chunk of W (a range of experts), each writing its columns of the f32 score rows that the fused
// router kernel would have written itself:
//
//   scr[goff + t·gstride + r] = Σ_k x[t, k] · W[r, k]      for r in the chunk's [g0, g1)
//
// The router kernel then runs with its GEMM switched off (router-layout.ts R_PRECOMPUTED) and
// finishes the scores (bias, cosine, product keys, plugin scores) from these values. Same 16×64
// register-tiled loop as the expert GEMMs and `linear`; the grid covers only the chunk's columns.

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { TILE_BM, TILE_BN, TILE_WG, tileDecls, tileLoop } from "./gemm-tile.js";
import { header, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const ROUTER_GATE_BM = TILE_BM;
export const ROUTER_GATE_BN = TILE_BN;

/** Column tiles of a chunk (the grid is tiles × ⌈T / BM⌉). */
export const routerGateTiles = (g0: number, g1: number): number => Math.ceil((g1 - g0) / ROUTER_GATE_BN);

/** Params: K (= D), g0, g1 (rows of W in this chunk), goff, gstride, ntn (column tiles). */
export function routerGateParams(o: { K: number; g0: number; g1: number; goff: number; gstride: number }): number[] {
  return [o.K, o.g0, o.g1, o.goff, o.gstride, routerGateTiles(o.g0, o.g1), 0, 0];
}

/** One pipeline per storage dtype. `weight` is the chunk: rows [g0, g1) of W. */
export function routerGateKernel(dtype: StorageDtype): KernelSpec {
  const loop = tileLoop({
    K: "p.K",
    gated: false,
    loadA: "let row = tile_m * BM + r; if (row < M) { v = f32(x[row * p.K + k]); }",
    loadB: "let n = n_lo + c; if (n < p.g1) { w = f32(weight[(n - p.g0) * p.K + k]); }",
  });
  const code = `${header(dtype)}
${RUN_STRUCT}
struct Params { K: u32, g0: u32, g1: u32, goff: u32, gstride: u32, ntn: u32, _a: u32, _b: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> x: array<st>;
@group(0) @binding(3) var<storage, read> weight: array<st>;
@group(0) @binding(4) var<storage, read_write> scr: array<f32>;
const BM = ${ROUTER_GATE_BM}u;
const BN = ${ROUTER_GATE_BN}u;
${tileDecls(false)}

@compute @workgroup_size(${TILE_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let tile_n = wg_linear % p.ntn;
  let tile_m = wg_linear / p.ntn;
  let M = run.T;
  if (tile_m * BM >= M) { return; }
  let n_lo = p.g0 + tile_n * BN;
  ${loop}
  for (var i = 0u; i < 4u; i++) {
    let row = tile_m * BM + ty * 4u + i;
    if (row >= M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let n = n_lo + tx + 16u * j;
      if (n < p.g1) { scr[p.goff + row * p.gstride + n] = acc[i * 4u + j]; }
    }
  }
}
`;
  const bindings: KernelSpec["bindings"] = [
    { name: "run", kind: "uniform" },
    { name: "params", kind: "uniform" },
    { name: "x", kind: "read" },
    { name: "weight", kind: "read" },
    { name: "scr", kind: "storage" },
  ];
  return { name: `router-gate[${dtype}]`, code, entryPoint: "main", bindings };
}
