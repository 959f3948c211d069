// The shapes the search tries per class, the deterministic fallback first (it is what the table
// is measured against, and its output is the one the others must match). Few rows: one row tile
// of the class's rows with 1, 4 or 16 lanes per column and 2 or 4 columns per thread; many rows and
// grouped expert GEMMs: 8- and 4-row register tiles; every class also tries the 16 × 64 tile.
// `quick` keeps a few (fewer compiles): one lane × 4 columns (no barrier: the full search's winner
// for 2–8 rows on lavapipe, bench/RESULTS.md "Tuning"), 16 lanes × 2 columns (the GPU guess), the
// 8-row register tile for 5–8 rows, the 8- and 4-row register tiles for many rows, and the tile.
// Dense classes also try the register tile over [K, N] weights (kn-loop.ts: the class's rows, or 8,
// × 1, 2 or 4 groups of 4 columns; quick: 2 groups), which a linear GEMM whose weights are held
// transposed takes (gemm-shape.ts asks the table for the fastest shape of its weights' layout).

import { classRows, type RowClass } from "./shape-class.js";
import { sameShape, TILE, type TunedShape } from "./tuned-shape.js";

const gemv = (rows: number, lanes: number, cols: number): TunedShape => ({ kind: "gemv", rows, lanes, cols });

function withFallbackFirst(fallback: TunedShape, shapes: TunedShape[]): TunedShape[] {
  return [fallback, ...shapes.filter((s) => !sameShape(s, fallback))];
}

const kn = (rows: number, cols: number): TunedShape => ({ kind: "gemv", rows, lanes: 1, cols, layout: "kn" });

export function denseCandidates(r: RowClass, fallback: TunedShape, quick: boolean): TunedShape[] {
  const R = classRows(r);
  if (R > 8) return withFallbackFirst(fallback, quick ? [kn(8, 2), gemv(8, 1, 4), gemv(4, 1, 4), TILE] : [kn(8, 2), kn(8, 1), kn(4, 2), kn(8, 4), gemv(8, 1, 4), gemv(8, 1, 2), gemv(4, 1, 4), gemv(8, 4, 2), TILE]);
  const rows = Math.min(4, R);
  const shapes = quick ? [kn(rows, 2), gemv(rows, 1, 4), gemv(rows, 16, 2)] : [kn(rows, 1), kn(rows, 2), kn(rows, 4), ...[1, 4, 16].flatMap((l) => [2, 4].map((c) => gemv(rows, l, c)))];
  if (R === 8) shapes.push(...(quick ? [kn(8, 2), gemv(8, 1, 4)] : [kn(8, 2), gemv(8, 4, 2), gemv(8, 1, 4)]));
  return withFallbackFirst(fallback, [...shapes, TILE]);
}

export function groupedCandidates(fallback: TunedShape, quick: boolean): TunedShape[] {
  return withFallbackFirst(fallback, quick ? [gemv(8, 1, 4), gemv(4, 1, 4), TILE] : [gemv(8, 1, 4), gemv(8, 1, 2), gemv(4, 1, 4), gemv(8, 4, 2), TILE]);
}
