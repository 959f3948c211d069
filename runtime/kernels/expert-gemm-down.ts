// Expert GEMM 2: the down projection, on the shared 16×64 tile (gemm-tile.ts).
//
// grouped mode (routed pools): A = h rows in sorted order [rows, I]; expert from tile_expert;
//   epilogue y[slot] = routing_weight[slot] · (h·W_downᵀ + b_down), written per slot
//   [T·maxK, D] so that the combine can sum each token's slots in slot order (no atomics).
// dense mode (shared pools): A = h [T, N·I]; K runs over all experts' hidden units, W_down
//   element (d, e·I + i) = w_down[e, d, i]; epilogue out[t] = h·W_downᵀ + Σ_e b_down[e]
//   (the bias sum is precomputed at upload), weight 1.
//
// Weight chunking: the bound W buffer holds flattened rows [g0, g1) of [N·D, I] (row g = e·D + d).
// grouped: a dispatch writes only the columns whose row is in its chunk. dense: every chunk
// contributes to every output column, so chunk c > 0 adds to what chunk c − 1 wrote (dispatches
// in one pass are ordered), over K restricted to the experts the chunk touches.

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { GEMM_BM, GEMM_BN } from "./expert-gemm-up.js";
import { TILE_WG, tileDecls, tileLoop } from "./gemm-tile.js";
import { header, NONE, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";


/** Structural variants only; the bias flag is a uniform. */
export interface ExpertGemmDownOptions {
  dtype: StorageDtype;
  mode: "grouped" | "dense";
}

/** Params: D, I, K (I grouped, N·I dense), maxK, nTilesN, g0, g1, accumulate, kLo, kHi. */
export function expertGemmDownParams(o: {
  D: number;
  I: number;
  N: number;
  maxK: number;
  mode: "grouped" | "dense";
  g0: number;
  g1: number;
  accumulate: boolean;
  bias: boolean;
}): number[] {
  const K = o.mode === "grouped" ? o.I : o.N * o.I;
  // dense: only the experts whose rows [e·D, e·D + D) meet the chunk contribute.
  const kLo = o.mode === "dense" ? Math.floor(o.g0 / o.D) * o.I : 0;
  const kHi = o.mode === "dense" ? Math.min(K, (Math.floor((o.g1 - 1) / o.D) + 1) * o.I) : K;
  return [o.D, o.I, K, o.maxK, Math.ceil(o.D / GEMM_BN), o.g0, o.g1, o.accumulate ? 1 : 0, kLo, kHi, o.bias ? 1 : 0, 0];
}

export function expertGemmDownKernel(o: ExpertGemmDownOptions): KernelSpec {
  const grouped = o.mode === "grouped";
  const bindings: KernelSpec["bindings"] = [
    { name: "run", kind: "uniform" },
    { name: "params", kind: "uniform" },
    { name: "h", kind: "read" },
  ];
  let decl = "";
  const bind = (name: string, kind: "read" | "storage", type: string): void => {
    decl += `@group(0) @binding(${bindings.length}) var<storage, ${kind === "read" ? "read" : "read_write"}> ${name}: ${type};\n`;
    bindings.push({ name, kind });
  };
  if (grouped) {
    bind("sorted", "read", "array<u32>");
    bind("tile_expert", "read", "array<u32>");
    bind("tile_info", "read", "array<u32>");
    bind("wts", "read", "array<f32>");
  }
  bind("w_down", "read", "array<st>");
  bind(grouped ? "b_down" : "b_down_sum", "read", "array<st>");
  bind(grouped ? "y" : "out", "storage", "array<st>");

  const rowSetup = grouped
    ? `
  if (tid == 0u) { sh_u = tile_info[0]; }
  let ntiles = workgroupUniformLoad(&sh_u);
  if (tile_m >= ntiles) { return; }
  if (tid == 0u) { sh_u = tile_expert[tile_m]; }
  let expert = workgroupUniformLoad(&sh_u);
  let g_lo = expert * p.D + tile_n * BN;
  let g_hi = expert * p.D + min(tile_n * BN + BN, p.D);
  if (g_hi <= p.g0 || g_lo >= p.g1) { return; }
  if (tid < BM) { row_slot[tid] = sorted[tile_m * BM + tid]; }`
    : `
  if (tile_m * BM >= run.T) { return; }
  let expert = 0u;
  if (tid < BM) { row_slot[tid] = select(NONE, tile_m * BM + tid, tile_m * BM + tid < run.T); }`;

  // B element (column d, k): grouped k = i of the tile's expert; dense k = e·I + i.
  const bAddr = grouped ? `let g = expert * p.D + col; let i = k;` : `let e = k / p.I; let i = k % p.I; let g = e * p.D + col;`;
  const loop = tileLoop({
    K: "p.k_hi",
    kStart: "p.k_lo",
    gated: false,
    // A rows are contiguous (sorted order / token order): no gather needed here.
    loadA: "if (row_slot[r] != NONE) { v = f32(h[(tile_m * BM + r) * p.K + k]); }",
    loadB: `let col = tile_n * BN + c;
        if (col < p.D) { ${bAddr} if (g >= p.g0 && g < p.g1) { w = f32(w_down[(g - p.g0) * p.I + i]); } }`,
  });

  const epilogue = grouped
    ? `
        let slot = row_slot[r];
        var v = acc[i * 4u + j];
        if (p.bias != 0u) { v += f32(b_down[g]); }
        v *= wts[slot];
        y[slot * p.D + col] = st(v);`
    : `
        let t = row_slot[r];
        var v = acc[i * 4u + j];
        if (p.accumulate != 0u) { v += f32(out[t * p.D + col]); }
        else if (p.bias != 0u) { v += f32(b_down_sum[col]); }
        out[t * p.D + col] = st(v);`;

  const code = `${header(o.dtype)}
${RUN_STRUCT}
struct Params { D: u32, I: u32, K: u32, maxK: u32, ntn: u32, g0: u32, g1: u32, accumulate: u32, k_lo: u32, k_hi: u32, bias: u32, _b: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> h: array<st>;
${decl}
const BM = ${GEMM_BM}u;
const BN = ${GEMM_BN}u;
const NONE = ${NONE}u;
var<workgroup> sh_u: u32;
var<workgroup> row_slot: array<u32, BM>;
${tileDecls(false)}

@compute @workgroup_size(${TILE_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let tile_n = wg_linear % p.ntn;
  let tile_m = wg_linear / p.ntn;
  ${rowSetup}
  workgroupBarrier();
  ${loop}

  for (var i = 0u; i < 4u; i++) {
    let r = ty * 4u + i;
    if (row_slot[r] == NONE) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let col = tile_n * BN + tx + 16u * j;
      ${grouped ? "let g = expert * p.D + col; if (col < p.D && g >= p.g0 && g < p.g1) {" : "if (col < p.D) {"}
        ${epilogue}
      }
    }
  }
}
`;
  return { name: `expert_gemm_down[${o.mode},${o.dtype}]`, code, entryPoint: "main", bindings };
}
