// What a tuning table entry chooses for a class: a `gemv` register-tile shape (gemv-loop.ts, vec4
// decided by the product's alignment when it is used) or the 16 × 64 workgroup-memory tile.

import { GEMV_MAX_ROWS, GEMV_WG, type GemvShape } from "../kernels/gemm/gemv-loop.js";

/** `layout: "kn"`: the register tile over [K, N] weights (kn-loop.ts; one lane, `cols` groups of 4
 *  columns), for a dense class's linear GEMMs whose weights are held transposed. */
export type TunedShape = { kind: "gemv"; rows: number; lanes: number; cols: number; layout?: "kn" } | { kind: "tile" };

export const TILE: TunedShape = { kind: "tile" };

/** `tile`, or `gemv 4r×16l×2c` (rows per workgroup × lanes per column × columns per thread; `[K,N]`
 *  after a shape over transposed weights, whose columns count groups of 4). */
export function shapeName(s: TunedShape): string {
  return s.kind === "tile" ? "tile 16×64" : `gemv ${s.rows}r×${s.lanes}l×${s.cols}c${s.layout === "kn" ? " [K,N]" : ""}`;
}

export const sameShape = (a: TunedShape, b: TunedShape): boolean => shapeName(a) === shapeName(b);

/** The tuned shape as gemm-shape.ts returns it (undefined: the tile). */
export function toGemvShape(s: TunedShape, vec4: boolean): GemvShape | undefined {
  return s.kind === "tile" ? undefined : { kind: "gemv", rows: s.rows, lanes: s.lanes, cols: s.cols, vec4, ...(s.layout ? { layout: s.layout } : {}) };
}

/** The weight layout a shape reads. */
export const layoutOf = (s: TunedShape): "kn" | "nk" => (s.kind === "gemv" && s.layout === "kn" ? "kn" : "nk");

export function fromGemvShape(s: GemvShape | undefined): TunedShape {
  return s ? { kind: "gemv", rows: s.rows, lanes: s.lanes, cols: s.cols, ...(s.layout ? { layout: s.layout } : {}) } : TILE;
}

/** Why `s` (read from a file) is not a shape the generator accepts, or undefined when it is. */
export function tunedShapeProblem(s: unknown): string | undefined {
  const o = s as Record<string, unknown> | null;
  if (typeof o !== "object" || o === null) return "not an object";
  if (o.kind === "tile") return undefined;
  if (o.kind !== "gemv") return `kind ${JSON.stringify(o.kind)} is neither "gemv" nor "tile"`;
  const { rows, lanes, cols } = o as Record<string, number>;
  // A power of two: a grouped GEMM runs 16 / rows workgroups per sorted tile of 16 slots.
  if (!Number.isInteger(rows) || rows < 1 || rows > GEMV_MAX_ROWS || (rows & (rows - 1)) !== 0) return `rows ${JSON.stringify(rows)} is not a power of two in 1…${GEMV_MAX_ROWS}`;
  if (!Number.isInteger(lanes) || lanes < 1 || GEMV_WG % lanes !== 0 || (lanes & (lanes - 1)) !== 0) return `lanes ${JSON.stringify(lanes)} is not a power of two dividing ${GEMV_WG}`;
  if (!Number.isInteger(cols) || cols < 1 || cols > 4) return `cols ${JSON.stringify(cols)} outside 1…4`;
  if (o.layout !== undefined && o.layout !== "kn") return `layout ${JSON.stringify(o.layout)} is not "kn"`;
  if (o.layout === "kn" && lanes !== 1) return `a [K, N] shape has one lane, not ${lanes}`;
  return undefined;
}
