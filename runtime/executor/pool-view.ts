// Fine expert kinds seen as FFNs, so that every FFN kernel (grouped GEMMs, the shared pool's dense
// GEMMs, the unfused baseline) runs them unchanged:
//
//   lowrank(rank = R)  ≡ ffn(hidden = R, act = identity)   w_up = a [N, R, D], w_down = b [N, D, R]
//   atom(act)          ≡ ffn(hidden = 1, act)              w_up = u [N, D] = [N, 1, D], w_down = v [N, D] = [N, D, 1]
//   atom(swiglu/geglu) ≡ ffn(hidden = 1, swiglu/geglu)     w_gate = u_gate, w_up = u_up, w_down = v
//
// The stacked canonical layouts (runtime/weights/canonical-layout.ts) already coincide, so no
// weight is copied: only the tensor names differ.

import type { IrPool } from "../../compiler/ir/ir.js";

export interface FfnTensorNames {
  up: string;
  gate: string;
  down: string;
  /** Human-readable shapes for error messages. */
  what: { up: string; gate: string; down: string };
}

const GATED = new Set(["swiglu", "geglu"]);

/** The pool's tensors under FFN roles, or undefined for kinds with no weights (identity, zero, mixed). */
export function ffnTensorNames(pool: IrPool): FfnTensorNames | undefined {
  const k = pool.key;
  switch (pool.kind) {
    case "ffn":
      return { up: `${k}.w_up`, gate: `${k}.w_gate`, down: `${k}.w_down`, what: { up: "w_up [N, I, D]", gate: "w_gate [N, I, D]", down: "w_down [N, D, I]" } };
    case "lowrank":
      return { up: `${k}.a`, gate: `${k}.a`, down: `${k}.b`, what: { up: "a [N, R, D]", gate: "a [N, R, D]", down: "b [N, D, R]" } };
    case "atom":
      return GATED.has(pool.act)
        ? { up: `${k}.u_up`, gate: `${k}.u_gate`, down: `${k}.v`, what: { up: "u_up [N, D]", gate: "u_gate [N, D]", down: "v [N, D]" } }
        : { up: `${k}.u`, gate: `${k}.u`, down: `${k}.v`, what: { up: "u [N, D]", gate: "u [N, D]", down: "v [N, D]" } };
    default:
      return undefined;
  }
}

/** Kinds the FFN kernels run through ffnTensorNames. */
export const isFfnLike = (pool: IrPool): boolean => pool.kind === "ffn" || pool.kind === "atom" || pool.kind === "lowrank";

/** The pool as the FFN kernels must see it: a lowrank expert has no activation, whatever `act` says. */
export function ffnView(pool: IrPool): IrPool {
  return pool.kind === "lowrank" && pool.act !== "identity" ? { ...pool, act: "identity" } : pool;
}
