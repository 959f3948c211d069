// The shapes the search tries per class, the deterministic fallback first (it is what the table
// is measured against, and its output is the one the others must match). Few rows: one row tile
// of the class's rows with 1, 4 or 16 lanes per column and 2 or 4 columns per thread; many rows and
// grouped expert GEMMs: 8- and 4-row register tiles; every class also tries the 16 × 64 tile.
// `quick` keeps the few that decided the choice on lavapipe and the GPU guesses (fewer compiles).

import { classRows, type RowClass } from "./shape-class.js";
import { sameShape, TILE, type TunedShape } from "./tuned-shape.js";

const gemv = (rows: number, lanes: number, cols: number): TunedShape => ({ kind: "gemv", rows, lanes, cols });

function withFallbackFirst(fallback: TunedShape, shapes: TunedShape[]): TunedShape[] {
  return [fallback, ...shapes.filter((s) => !sameShape(s, fallback))];
}

export function denseCandidates(r: RowClass, fallback: TunedShape, quick: boolean): TunedShape[] {
  const R = classRows(r);
  if (R > 8) return withFallbackFirst(fallback, quick ? [gemv(8, 1, 4), gemv(4, 1, 4), TILE] : [gemv(8, 1, 4), gemv(8, 1, 2), gemv(4, 1, 4), gemv(8, 4, 2), TILE]);
  const rows = Math.min(4, R);
  const lanes = quick ? [4, 16] : [1, 4, 16];
  const cols = quick ? [2] : [2, 4];
  const shapes = lanes.flatMap((l) => cols.map((c) => gemv(rows, l, c)));
  if (R === 8 && !quick) shapes.push(gemv(8, 4, 2), gemv(8, 1, 4));
  return withFallbackFirst(fallback, [...shapes, TILE]);
}

export function groupedCandidates(fallback: TunedShape, quick: boolean): TunedShape[] {
  return withFallbackFirst(fallback, quick ? [gemv(8, 1, 4), gemv(4, 1, 4), TILE] : [gemv(8, 1, 4), gemv(8, 1, 2), gemv(4, 1, 4), gemv(8, 4, 2), TILE]);
}
