// Expert kinds as the GPU runs them: every kind's `gpu` form (stdlib/expert-kinds/) says whether it
// is an FFN of some hidden units — and which of its tensors play the up, gate and down roles — or
// a null expert. So every FFN kernel (grouped GEMMs, the shared pool's dense GEMMs, the
// token-centric fine path, the unfused baseline) runs ffn, lowrank (= ffn(R, identity)), atoms
// (= ffn(1, act)) and plugin kinds unchanged; the stacked canonical layouts already coincide
// (a [D] vector is a [1, D] row or a [D, 1] column), so no weight is copied, only names differ.

import type { ExpertAct, IrPool } from "../../compiler/ir/ir.js";
import { expertKindOf, formOf } from "../../stdlib/expert-kinds/index.js";

export interface FfnTensorNames {
  up: string;
  gate: string;
  down: string;
  /** Bias tensors, when the pool has them. */
  bias?: { up: string; gate: string; down: string };
  /** Human-readable shapes for error messages. */
  what: { up: string; gate: string; down: string };
}

/** How the GPU runs a (non-mixed) pool: `ffn`, `identity` or `zero`. */
export function gpuForm(pool: IrPool): "ffn" | "identity" | "zero" {
  return expertKindOf(pool).gpu(formOf(pool)).as;
}

/** The pool's tensors under FFN roles, or undefined for kinds with no weights (identity, zero, mixed). */
export function ffnTensorNames(pool: IrPool): FfnTensorNames | undefined {
  if (pool.kind === "mixed") return undefined;
  const kind = expertKindOf(pool);
  const form = formOf(pool);
  const g = kind.gpu(form);
  if (g.as !== "ffn") return undefined;
  const layouts = new Map(kind.tensors(form, pool.dim).map((t) => [t.name, t.layout]));
  const shape = (name: string): string => {
    const l = layouts.get(name);
    return `${name} ${l === "rows" ? "[N, I, D]" : l === "cols" ? "[N, D, I]" : l === "hvec" ? "[N, I]" : "[N, D]"}`;
  };
  const k = pool.key;
  // Without a gate the gate role names the up tensor (never read: the kernels take it only when gated).
  const gate = g.gate ?? g.up;
  return {
    up: `${k}.${g.up}`,
    gate: `${k}.${gate}`,
    down: `${k}.${g.down}`,
    bias: g.bias ? { up: `${k}.${g.bias.up}`, gate: `${k}.${g.bias.gate ?? g.bias.up}`, down: `${k}.${g.bias.down}` } : undefined,
    what: { up: shape(g.up), gate: shape(gate), down: shape(g.down) },
  };
}

/** Kinds the FFN kernels run through ffnTensorNames. */
export const isFfnLike = (pool: IrPool): boolean => pool.kind !== "mixed" && gpuForm(pool) === "ffn";

/** The pool as the FFN kernels must see it: the activation of its GPU form (lowrank: identity). */
export function ffnView(pool: IrPool): IrPool {
  if (pool.kind === "mixed") return pool;
  const g = expertKindOf(pool).gpu(formOf(pool));
  const act: ExpertAct = g.as === "ffn" ? g.act : pool.act;
  return act === pool.act ? pool : { ...pool, act };
}

/** The schedule a routed pool takes under `auto`: its kind's (grouped GEMMs unless it says `token`). */
export function kindSchedule(pool: IrPool): "expert" | "token" {
  return pool.kind === "mixed" ? "expert" : (expertKindOf(pool).schedule ?? "expert");
}
