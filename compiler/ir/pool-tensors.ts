// The canonical tensors a pool descriptor implies (LANGUAGE.md §7), from its expert kind's own
// tensor list (stdlib/expert-kinds/, the one definition the runtime's binder also reads), so that
// the verifier can check the names and shapes a program lists for its pools.
import { expertKindOf, formOf } from "../../stdlib/expert-kinds/index.js";
import { layoutShape } from "../../stdlib/expert-kinds/kind-adapter.js";
import type { IrExpertSpec, IrPool } from "./ir.js";

export interface PoolTensor {
  name: string;
  shape: number[];
}

/** One expert's tensors as [name, shape] for width D (its kind must be std or carried). */
function expertTensors(e: IrPool | IrExpertSpec, D: number): [string, number[]][] {
  const form = formOf(e);
  return expertKindOf(e).tensors(form, D).map((t) => [t.name, layoutShape(t.layout, D, form.hidden)]);
}

/**
 * A homogeneous pool's tensors stacked over its N fine experts (`E.w_up` [N, I, D]); a
 * heterogeneous pool's per member (`E.2.a` [r, D]).
 */
export function poolTensors(pool: IrPool): PoolTensor[] {
  if (pool.kind === "mixed") {
    return (pool.members ?? []).flatMap((m, j) => expertTensors(m, pool.dim).map(([n, shape]) => ({ name: `${pool.key}.${j}.${n}`, shape })));
  }
  return expertTensors(pool, pool.dim).map(([n, shape]) => ({ name: `${pool.key}.${n}`, shape: [pool.count, ...shape] }));
}
