// Expert GEMM 1: h = act(x·W_gateᵀ + b_gate) ⊙ (x·W_upᵀ + b_up) (gated) or act(x·W_upᵀ + b_up),
// on the shared 16×64 tile (gemm-tile.ts); gate and up accumulate in the same tile, so the
// activation is applied in registers and only h is written.
//
// grouped mode (routed pools): row tile m covers rows m·BM.. of the expert-sorted list; its
//   expert comes from tile_expert[m]; input rows are gathered in-kernel from x via the slot
//   index (token = slot / maxK). Tiles ≥ tile_info[0] exit at once (the grid is an upper bound, so no
//   count ever comes back to the CPU). Output h [rows, I], rows in sorted order.
// dense mode (shared pools): all N experts at once as one FFN of hidden N·I, since the stacked
//   [N, I, D] up/gate tensors are exactly [N·I, D]; row = token. Output h [T, N·I].
//
// Weight chunking: the W buffers bound here hold flattened rows [g0, g1) of [N·I, D] (row
// g = e·I + i). A dispatch computes and writes only the columns whose row lies in its chunk, so a
// pool larger than maxStorageBufferBindingSize costs one more dispatch per chunk, not a failure.

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { TILE_BM, TILE_BN, TILE_WG, tileDecls, tileLoop } from "./gemm-tile.js";
import { ACT_CODE, ACT_WGSL, header, NONE, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const GEMM_BM = TILE_BM;
export const GEMM_BN = TILE_BN;

export type ExpertAct = "swiglu" | "geglu" | "relu" | "gelu" | "silu" | "identity";

/** Structural variants only; the activation and the bias flag are uniforms (one pipeline each). */
export interface ExpertGemmUpOptions {
  dtype: StorageDtype;
  gated: boolean;
  mode: "grouped" | "dense";
}

export const isGated = (act: ExpertAct): boolean => act === "swiglu" || act === "geglu";

/** The activation applied elementwise (to the gate for gated kinds). */
export function innerAct(act: ExpertAct): keyof typeof ACT_CODE {
  return act === "swiglu" ? "silu" : act === "geglu" ? "gelu" : act;
}

/** Params: D, I (hidden per expert), ncols (I grouped, N·I dense), maxK, nTilesN, g0, g1, act, bias. */
export function expertGemmUpParams(o: {
  D: number;
  I: number;
  N: number;
  maxK: number;
  mode: "grouped" | "dense";
  g0: number;
  g1: number;
  act: ExpertAct;
  bias: boolean;
}): number[] {
  const ncols = o.mode === "grouped" ? o.I : o.N * o.I;
  return [o.D, o.I, ncols, o.maxK, Math.ceil(ncols / GEMM_BN), o.g0, o.g1, ACT_CODE[innerAct(o.act)], o.bias ? 1 : 0, 0, 0, 0];
}

export function expertGemmUpKernel(o: ExpertGemmUpOptions): KernelSpec {
  const gated = o.gated;
  const grouped = o.mode === "grouped";
  const names: [string, "read" | "storage", string][] = [
    ["x", "read", "array<st>"],
    ...(grouped
      ? ([
          ["sorted", "read", "array<u32>"],
          ["tile_expert", "read", "array<u32>"],
          ["tile_info", "read", "array<u32>"],
        ] as [string, "read", string][])
      : []),
    ["w_up", "read", "array<st>"],
    ...(gated ? ([["w_gate", "read", "array<st>"]] as [string, "read", string][]) : []),
    ["b_up", "read", "array<st>"],
    ...(gated ? ([["b_gate", "read", "array<st>"]] as [string, "read", string][]) : []),
    ["h", "storage", "array<st>"],
  ];
  const bindings: KernelSpec["bindings"] = [
    { name: "run", kind: "uniform" },
    { name: "params", kind: "uniform" },
    ...names.map(([name, kind]) => ({ name, kind })),
  ];
  const decl = names
    .map(([name, kind, type], i) => `@group(0) @binding(${i + 2}) var<storage, ${kind === "read" ? "read" : "read_write"}> ${name}: ${type};`)
    .join("\n");

  const rowSetup = grouped
    ? `
  if (tid == 0u) { sh_u = tile_info[0]; }
  let ntiles = workgroupUniformLoad(&sh_u);
  if (tile_m >= ntiles) { return; }
  if (tid == 0u) { sh_u = tile_expert[tile_m]; }
  let expert = workgroupUniformLoad(&sh_u);
  let row_base = expert * p.I;
  if (tid < BM) {
    let slot = sorted[tile_m * BM + tid];
    row_tok[tid] = select(slot / p.maxK, NONE, slot == NONE);
  }`
    : `
  if (tile_m * BM >= run.T) { return; }
  let row_base = 0u;
  if (tid < BM) {
    let t = tile_m * BM + tid;
    row_tok[tid] = select(NONE, t, t < run.T);
  }`;

  const loop = tileLoop({
    K: "p.D",
    gated,
    loadA: "let t = row_tok[r]; if (t != NONE) { v = f32(x[t * p.D + k]); }",
    loadB: `let col = tile_n * BN + c; let g = row_base + col;
        if (col < p.ncols && g >= p.g0 && g < p.g1) { let a = (g - p.g0) * p.D + k; w = f32(w_up[a]);${gated ? " wg = f32(w_gate[a]);" : ""} }`,
  });

  const code = `${header(o.dtype)}
${RUN_STRUCT}
struct Params { D: u32, I: u32, ncols: u32, maxK: u32, ntn: u32, g0: u32, g1: u32, act: u32, bias: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(1) var<uniform> p: Params;
${decl}
${ACT_WGSL}
const BM = ${GEMM_BM}u;
const BN = ${GEMM_BN}u;
const NONE = ${NONE}u;
var<workgroup> sh_u: u32;
var<workgroup> row_tok: array<u32, BM>;
${tileDecls(gated)}

@compute @workgroup_size(${TILE_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let tile_n = wg_linear % p.ntn;
  let tile_m = wg_linear / p.ntn;
  ${rowSetup}
  // Flattened W rows of this column tile; skip the tile if it misses this weight chunk.
  let g_lo = row_base + tile_n * BN;
  let g_hi = row_base + min(tile_n * BN + BN, p.ncols);
  if (g_hi <= p.g0 || g_lo >= p.g1) { return; }
  workgroupBarrier();
  ${loop}

  for (var i = 0u; i < 4u; i++) {
    let r = ty * 4u + i;
    if (row_tok[r] == NONE) { continue; }
    let row = tile_m * BM + r;
    for (var j = 0u; j < 4u; j++) {
      let col = tile_n * BN + tx + 16u * j;
      let g = row_base + col;
      if (col < p.ncols && g >= p.g0 && g < p.g1) {
        var u = acc[i * 4u + j];
        ${gated ? "var gt = acc_g[i * 4u + j];" : ""}
        if (p.bias != 0u) {
          u += f32(b_up[g]);
          ${gated ? "gt += f32(b_gate[g]);" : ""}
        }
        h[row * p.ncols + col] = st(${gated ? "act_f32(p.act, gt) * u" : "act_f32(p.act, u)"});
      }
    }
  }
}
`;
  return { name: `expert_gemm_up[${o.mode}${gated ? ",gated" : ""},${o.dtype}]`, code, entryPoint: "main", bindings };
}
