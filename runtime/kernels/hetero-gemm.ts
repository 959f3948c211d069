// Heterogeneous pools (`experts E = [ffn(hidden = 64), lowrank(rank = 4), atom(), identity()]`):
// ragged grouped GEMMs over the expert-sorted rows of the dispatch kernel, one launch each for
// every member with weights, whatever its kind, plus a combine that handles null members.
//
// Every member with weights is an FFN of I_j hidden units (pool-view.ts: lowrank = ffn(R,
// identity), atom = ffn(1, act)). Their tensors are packed member after member (lower-moe-mixed.ts):
//   w_up, w_gate [ΣI_j, D] (gate rows zero for non-gated members), b_up, b_gate [ΣI_j],
//   w_down: member j's [D, I_j] block at down_off_j, b_down [N, D] (zero without bias),
// and a table gives each member's kind, I_j, offsets, activation and flags (MEMBER_WORDS words):
//   [kind (0 weights, 1 identity, 2 zero), I_j, up_row_j, down_off_j, act_j, gated_j, bias_j, 0].
// A tile's member is uniform across the workgroup, so K = I_j and the activation are per tile:
// one pipeline serves any mix. Tiles of null members exit at once; column tiles past I_j too.
//
//   hetero_up:      h[row, i] = act(x·w_gate[j]ᵀ + b_gate) ⊙ (x·w_upᵀ + b_up)   (or act(x·w_upᵀ + b_up))
//   hetero_down:    y[slot, d] = w_slot · (h[row]·w_down[j]ᵀ + b_down[j])
//   hetero_combine: out[t, d] = Σ_{s < count[t]} (identity: w_s·x[t, d]; zero: 0; else y[t·maxK + s, d])

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { TILE_BM, TILE_BN, TILE_WG, tileDecls, tileLoop } from "./gemm-tile.js";
import { ACT_WGSL, header, NONE, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const MEMBER_WORDS = 8;
export const MEMBER_KIND = { weights: 0, identity: 1, zero: 2 } as const;
export const HETERO_BM = TILE_BM;
export const HETERO_BN = TILE_BN;
export const HETERO_COMBINE_WG = 256;

/** Params of both GEMMs: D, Imax (row stride of h), maxK, ntn (column tiles). */
export function heteroGemmParams(o: { D: number; Imax: number; maxK: number; ntn: number }): number[] {
  return [o.D, o.Imax, o.maxK, o.ntn];
}

const TILE_HEAD = `
  if (tid == 0u) { sh_u = tile_info[0]; }
  let ntiles = workgroupUniformLoad(&sh_u);
  if (tile_m >= ntiles) { return; }
  if (tid == 0u) { sh_u = tile_expert[tile_m]; }
  let expert = workgroupUniformLoad(&sh_u);
  if (tid < ${MEMBER_WORDS}u) { sh_m[tid] = table[expert * ${MEMBER_WORDS}u + tid]; }
  let mt = workgroupUniformLoad(&sh_m);
  let kind = mt[0];
  let I_e = mt[1];`;

function decls(list: [string, "read" | "storage", string][]): { decl: string; bindings: KernelSpec["bindings"] } {
  const bindings: KernelSpec["bindings"] = [
    { name: "run", kind: "uniform" },
    { name: "params", kind: "uniform" },
  ];
  const decl = list
    .map(([name, kind, type], i) => {
      bindings.push({ name, kind });
      return `@group(0) @binding(${i + 2}) var<storage, ${kind === "read" ? "read" : "read_write"}> ${name}: ${type};`;
    })
    .join("\n");
  return { decl, bindings };
}

const COMMON = (dtype: StorageDtype) => `${header(dtype)}
${RUN_STRUCT}
struct Params { D: u32, Imax: u32, maxK: u32, ntn: u32 }
@group(0) @binding(1) var<uniform> p: Params;`;

export function heteroGemmUpKernel(dtype: StorageDtype): KernelSpec {
  const { decl, bindings } = decls([
    ["x", "read", "array<st>"],
    ["sorted", "read", "array<u32>"],
    ["tile_expert", "read", "array<u32>"],
    ["tile_info", "read", "array<u32>"],
    ["table", "read", "array<u32>"],
    ["w_up", "read", "array<st>"],
    ["w_gate", "read", "array<st>"],
    ["b_up", "read", "array<st>"],
    ["b_gate", "read", "array<st>"],
    ["h", "storage", "array<st>"],
  ]);
  const loop = tileLoop({
    K: "p.D",
    gated: true,
    loadA: "let t = row_tok[r]; if (t != NONE) { v = f32(x[t * p.D + k]); }",
    loadB: `let col = tile_n * BN + c;
        if (col < I_e) { let a = (up_row + col) * p.D + k; w = f32(w_up[a]); if (gated != 0u) { wg = f32(w_gate[a]); } }`,
  });
  const code = `${COMMON(dtype)}
${decl}
${ACT_WGSL}
const BM = ${HETERO_BM}u;
const BN = ${HETERO_BN}u;
const NONE = ${NONE}u;
var<workgroup> sh_u: u32;
var<workgroup> sh_m: array<u32, ${MEMBER_WORDS}>;
var<workgroup> row_tok: array<u32, BM>;
${tileDecls(true)}

@compute @workgroup_size(${TILE_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let tile_n = wg_linear % p.ntn;
  let tile_m = wg_linear / p.ntn;
  ${TILE_HEAD}
  if (kind != ${MEMBER_KIND.weights}u || tile_n * BN >= I_e) { return; }
  let up_row = mt[2];
  let act = mt[4];
  let gated = mt[5];
  let bias = mt[6];
  if (tid < BM) {
    let slot = sorted[tile_m * BM + tid];
    row_tok[tid] = select(slot / p.maxK, NONE, slot == NONE);
  }
  workgroupBarrier();
  ${loop}

  for (var i = 0u; i < 4u; i++) {
    let r = ty * 4u + i;
    if (row_tok[r] == NONE) { continue; }
    let row = tile_m * BM + r;
    for (var j = 0u; j < 4u; j++) {
      let col = tile_n * BN + tx + 16u * j;
      if (col < I_e) {
        var u = acc[i * 4u + j];
        var gt = acc_g[i * 4u + j];
        if (bias != 0u) {
          u += f32(b_up[up_row + col]);
          gt += f32(b_gate[up_row + col]);
        }
        h[row * p.Imax + col] = st(select(act_f32(act, u), act_f32(act, gt) * u, gated != 0u));
      }
    }
  }
}
`;
  return { name: `hetero_gemm_up[${dtype}]`, code, entryPoint: "main", bindings };
}

export function heteroGemmDownKernel(dtype: StorageDtype): KernelSpec {
  const { decl, bindings } = decls([
    ["h", "read", "array<st>"],
    ["sorted", "read", "array<u32>"],
    ["tile_expert", "read", "array<u32>"],
    ["tile_info", "read", "array<u32>"],
    ["table", "read", "array<u32>"],
    ["wts", "read", "array<f32>"],
    ["w_down", "read", "array<st>"],
    ["b_down", "read", "array<st>"],
    ["y", "storage", "array<st>"],
  ]);
  const loop = tileLoop({
    K: "I_e",
    gated: false,
    loadA: "if (row_slot[r] != NONE) { v = f32(h[(tile_m * BM + r) * p.Imax + k]); }",
    loadB: `let col = tile_n * BN + c;
        if (col < p.D) { w = f32(w_down[down_off + col * I_e + k]); }`,
  });
  const code = `${COMMON(dtype)}
${decl}
const BM = ${HETERO_BM}u;
const BN = ${HETERO_BN}u;
const NONE = ${NONE}u;
var<workgroup> sh_u: u32;
var<workgroup> sh_m: array<u32, ${MEMBER_WORDS}>;
var<workgroup> row_slot: array<u32, BM>;
${tileDecls(false)}

@compute @workgroup_size(${TILE_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let tile_n = wg_linear % p.ntn;
  let tile_m = wg_linear / p.ntn;
  ${TILE_HEAD}
  if (kind != ${MEMBER_KIND.weights}u) { return; }
  let down_off = mt[3];
  let bias = mt[6];
  if (tid < BM) { row_slot[tid] = sorted[tile_m * BM + tid]; }
  workgroupBarrier();
  ${loop}

  for (var i = 0u; i < 4u; i++) {
    let r = ty * 4u + i;
    let slot = row_slot[r];
    if (slot == NONE) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let col = tile_n * BN + tx + 16u * j;
      if (col < p.D) {
        var v = acc[i * 4u + j];
        if (bias != 0u) { v += f32(b_down[expert * p.D + col]); }
        y[slot * p.D + col] = st(v * wts[slot]);
      }
    }
  }
}
`;
  return { name: `hetero_gemm_down[${dtype}]`, code, entryPoint: "main", bindings };
}

/** Per-token combine in slot order; null members are applied here (no GEMM rows). Params: D, maxK. */
export function heteroCombineKernel(dtype: StorageDtype): KernelSpec {
  const { decl, bindings } = decls([
    ["x", "read", "array<st>"],
    ["tok_count", "read", "array<u32>"],
    ["ids", "read", "array<u32>"],
    ["wts", "read", "array<f32>"],
    ["table", "read", "array<u32>"],
    ["y", "read", "array<st>"],
    ["out", "storage", "array<st>"],
  ]);
  const code = `${COMMON(dtype)}
${decl}

@compute @workgroup_size(${HETERO_COMBINE_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let i = wg_linear * ${HETERO_COMBINE_WG}u + tid;
  if (i >= run.T * p.D) { return; }
  let t = i / p.D;
  let d = i % p.D;
  var acc = 0.0;
  for (var s = 0u; s < tok_count[t]; s++) {
    let slot = t * p.maxK + s;
    let kind = table[ids[slot] * ${MEMBER_WORDS}u];
    if (kind == ${MEMBER_KIND.weights}u) { acc += f32(y[slot * p.D + d]); }
    else if (kind == ${MEMBER_KIND.identity}u) { acc += wts[slot] * f32(x[i]); }
  }
  out[i] = st(acc);
}
`;
  return { name: `hetero_combine[${dtype}]`, code, entryPoint: "main", bindings };
}
