// Host-side workgroup grids for T-dependent dispatches.

import { grid2D } from "../kernels/wgsl-common.js";

/** One thread per element, `wg` threads per workgroup, 2D when above the per-dimension limit. */
export function elementwiseGrid(elements: number, wg: number, maxDim: number): [number, number, number] | null {
  if (elements <= 0) return null;
  return grid2D(Math.ceil(elements / wg), maxDim);
}
