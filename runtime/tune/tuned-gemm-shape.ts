// The tuning table's answer for one product, as gemm-shape.ts asks it: the class's measured shape
// where the table has one and the product has vec4 alignment (every candidate was measured with
// vec4 loads; a scalar product keeps the fallback), else nothing.

import type { GemvShape } from "../kernels/gemm/gemv-loop.js";
import type { ShapeClass } from "./shape-class.js";
import { toGemvShape } from "./tuned-shape.js";
import { tunedShapeFor, type TuningTable } from "./tuning-table.js";

/** `{ shape }` (undefined shape: the tile) when the table decides, undefined when it does not. */
export function tunedGemmShape(table: TuningTable | undefined, cls: ShapeClass, vec4: boolean, layout: "kn" | "nk" = "nk"): { shape: GemvShape | undefined } | undefined {
  if (!table || !vec4) return undefined;
  const s = tunedShapeFor(table, cls, layout);
  return s ? { shape: toGemvShape(s, true) } : undefined;
}
