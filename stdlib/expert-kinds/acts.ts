// The activations of expert hidden units, in one place: which are gated, and their float64 form.
import type { ExpertAct } from "@moec/plugin-api";
import { gelu, relu, silu } from "../math64.js";

export const GATED_ACTS = ["swiglu", "geglu"] as const;
export const PLAIN_ACTS = ["relu", "gelu", "silu", "identity"] as const;
export const ALL_ACTS: readonly ExpertAct[] = [...GATED_ACTS, ...PLAIN_ACTS];

/** swiglu and geglu multiply act(gate·x) by up·x; the others apply act to up·x. */
export function isGatedAct(act: unknown): boolean {
  return act === "swiglu" || act === "geglu";
}

/** The function applied elementwise (to the gate, for gated activations), in float64. */
export function act64(act: ExpertAct, v: number): number {
  switch (act) {
    case "relu":
      return relu(v);
    case "gelu":
    case "geglu":
      return gelu(v);
    case "silu":
    case "swiglu":
      return silu(v);
    case "identity":
      return v;
  }
}

/** One hidden unit of a gated or plain FFN: act(g)·u, or act(u). */
export const unit64 = (act: ExpertAct, u: number, g: number): number => (isGatedAct(act) ? act64(act, g) * u : act64(act, u));
