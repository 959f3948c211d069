// A heterogeneous pool's projections (`experts E = [ffn(hidden = 64), lowrank(rank = 4), atom()]`)
// as instances of the GEMM generator: ragged grouped GEMMs over the expert-sorted rows, one launch
// each for every member with weights, whatever its kind. Each 16-row tile reads its member's table
// entry (MEMBER_WORDS words: kind, I_j, up_row_j, down_off_j, act_j, gated_j, bias_j), so K, the
// activation and the bias are per tile and one pipeline serves any mix (lower-moe-mixed.ts packs
// the members' tensors and writes the table):
//
//   up    h[row, i] = act(x·w_gate[j]ᵀ + b_gate) ⊙ (x·w_upᵀ + b_up)   (or act(x·w_upᵀ + b_up)), h stride Imax
//   down  y[slot, d] = w_slot · (h[row]·w_down[j]ᵀ + b_down[j])

import type { StorageDtype } from "../../gpu/buffers.js";
import { GEMM_BN, gemmKernel, type GemmKernel } from "./gemm-kernel.js";

export { MEMBER_KIND, MEMBER_WORDS } from "./gemm-kernel.js";

export function heteroUpKernel(dtype: StorageDtype): GemmKernel {
  return gemmKernel({
    name: "hetero_gemm_up",
    dtype,
    rows: { kind: "sorted", gather: true, members: true },
    weights: "member-up",
    a: "x",
    b: "w_up",
    gate: "w_gate",
    epilogue: { bias: { buffer: "b_up", gate: "b_gate" }, act: true, store: { buffer: "h", row: "position", type: "st" } },
  });
}

export function heteroDownKernel(dtype: StorageDtype): GemmKernel {
  return gemmKernel({
    name: "hetero_gemm_down",
    dtype,
    rows: { kind: "sorted", gather: false, members: true },
    weights: "member-down",
    a: "h",
    b: "w_down",
    epilogue: { bias: { buffer: "b_down" }, routingWeight: true, store: { buffer: "y", row: "id", type: "st" } },
  });
}

/** Up: columns up to the largest member's Imax; h rows of stride Imax. */
export function heteroUpParams(o: { D: number; Imax: number; maxK: number }): { values: Record<string, number>; ntn: number } {
  const ntn = Math.ceil(o.Imax / GEMM_BN);
  return { values: { ntn, lda: o.D, ld: o.Imax, out_off: 0, maxK: o.maxK, K: o.D }, ntn };
}

export function heteroDownParams(o: { D: number; Imax: number }): { values: Record<string, number>; ntn: number } {
  const ntn = Math.ceil(o.D / GEMM_BN);
  return { values: { ntn, lda: o.Imax, ld: o.D, out_off: 0, ncols: o.D }, ntn };
}
