// float64 forward of one expert of a pool (LANGUAGE.md §4), reading the stacked tensors: each
// kind's own `reference` (stdlib/expert-kinds/) on this expert's slice of its tensors.

import type { IrPool } from "../../compiler/ir/ir.js";
import { expertKindOf, formOf } from "../../stdlib/expert-kinds/index.js";
import { layoutShape } from "../../stdlib/expert-kinds/kind-adapter.js";
import { mixedMemberPool } from "../weights/canonical-layout.js";

export type RefTensors = Map<string, Float32Array | Float64Array>;

export function tensor(weights: RefTensors, name: string, length: number): Float32Array | Float64Array {
  const t = weights.get(name);
  if (!t) throw new Error(`reference: missing weight '${name}'`);
  if (t.length !== length) throw new Error(`reference: weight '${name}' has ${t.length} values, expected ${length}`);
  return t;
}

/** Output [D] of expert e of `pool` applied to x [D]. */
export function expertForward(pool: IrPool, weights: RefTensors, e: number, x: ArrayLike<number>): Float64Array {
  if (pool.kind === "mixed") return expertForward(mixedMemberPool(pool, e), weights, 0, x);
  const kind = expertKindOf(pool);
  const form = formOf(pool);
  const D = pool.dim;
  const tensors = new Map(kind.tensors(form, D).map((t) => [t.name, t]));
  const y = kind.reference({
    form,
    dim: D,
    x,
    tensor(name) {
      const t = tensors.get(name);
      if (!t) throw new Error(`reference: expert kind '${kind.name}' has no tensor '${name}'`);
      const size = layoutShape(t.layout, D, form.hidden).reduce((a, b) => a * b, 1);
      return tensor(weights, `${pool.key}.${name}`, pool.count * size).subarray(e * size, (e + 1) * size);
    },
  });
  if (y.length !== D) throw new Error(`reference: expert kind '${kind.name}' returned ${y.length} values, expected ${D}`);
  return y instanceof Float64Array ? y : Float64Array.from(y);
}
