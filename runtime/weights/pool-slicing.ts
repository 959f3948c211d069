// Moves one group of hidden units (a fine expert, a coarse expert of a split pool, or a whole
// concatenated shared pool) between its file layout and the canonical stacked arrays.
// Fine expert j = gi·perGroup + s holds hidden units [s·I, (s+1)·I) of group gi.

import type { IrPool } from "../../compiler/ir/ir.js";
import type { Grouping, ParamLayout } from "./canonical-layout.js";

/** Elements of one group's tensor. */
export function groupSize(layout: ParamLayout, pool: IrPool, g: Grouping): number {
  const h = g.perGroup * pool.hidden;
  switch (layout) {
    case "rows": case "cols": return h * pool.dim;
    case "hvec": return h;
    case "ovec": case "dvec": return pool.dim;
  }
}

/** Writes group `gi` (in its file layout) into the canonical array `dst`. */
export function scatterGroup(layout: ParamLayout, pool: IrPool, g: Grouping, gi: number, src: Float32Array, dst: Float32Array): void {
  const D = pool.dim, I = pool.hidden, M = g.perGroup, j0 = gi * M;
  switch (layout) {
    case "rows": // [M·I, D] rows are the rows of fine experts j0 … j0+M-1, in order: one block copy
      dst.set(src, j0 * I * D);
      return;
    case "hvec":
      dst.set(src, j0 * I);
      return;
    case "cols": // [D, M·I] → M blocks of [D, I]
      for (let s = 0; s < M; s++) {
        const base = (j0 + s) * D * I;
        for (let d = 0; d < D; d++) {
          const row = d * M * I + s * I;
          dst.set(src.subarray(row, row + I), base + d * I);
        }
      }
      return;
    case "ovec": // belongs to the group's first fine expert; the others keep zeros
    case "dvec":
      dst.set(src, j0 * D);
      return;
  }
}

/**
 * Reads group `gi` out of the canonical array, or returns the index of a fine expert whose
 * `ovec` is non-zero although the group form can only hold the first expert's.
 */
export function gatherGroup(layout: ParamLayout, pool: IrPool, g: Grouping, gi: number, src: Float32Array): Float32Array | { unrepresentable: number } {
  const D = pool.dim, I = pool.hidden, M = g.perGroup, j0 = gi * M;
  switch (layout) {
    case "rows":
      return src.slice(j0 * I * D, (j0 + M) * I * D);
    case "hvec":
      return src.slice(j0 * I, (j0 + M) * I);
    case "cols": {
      const out = new Float32Array(D * M * I);
      for (let s = 0; s < M; s++) {
        const base = (j0 + s) * D * I;
        for (let d = 0; d < D; d++) out.set(src.subarray(base + d * I, base + (d + 1) * I), d * M * I + s * I);
      }
      return out;
    }
    case "ovec":
    case "dvec":
      for (let s = 1; s < M; s++) {
        for (let d = 0; d < D; d++) if (src[(j0 + s) * D + d] !== 0) return { unrepresentable: j0 + s };
      }
      return src.slice(j0 * D, (j0 + 1) * D);
  }
}
