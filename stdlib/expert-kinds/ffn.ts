// `ffn(hidden, act, bias)`: the feed-forward expert, `w_down · (act(w_gate·x) ⊙ (w_up·x))` for
// gated activations, `w_down · act(w_up·x)` otherwise (LANGUAGE.md §4). PyTorch [out, in] layout.
import type { ExpertAct, ExpertKindSpec } from "@moec/plugin-api";
import { ALL_ACTS, isGatedAct, unit64 } from "./acts.js";

export const FFN: ExpertKindSpec = {
  name: "ffn",
  doc: "Feed-forward expert: `w_down · (act(w_gate·x) ⊙ (w_up·x))` for gated acts, `w_down · act(w_up·x)` otherwise.",
  params: [
    { name: "hidden", type: "int", min: 1, positional: true, doc: "hidden units I" },
    { name: "act", type: "enum", values: ALL_ACTS, default: "swiglu", doc: "activation; swiglu/geglu are gated" },
    { name: "bias", type: "bool", default: false, doc: "adds b_up, b_down (and b_gate for gated acts)" },
  ],
  splits: "hidden",
  form: (a) => ({ hidden: a.hidden as number, act: (a.act ?? "swiglu") as ExpertAct, bias: a.bias === true }),
  tensors(f, D) {
    const gated = isGatedAct(f.act);
    const I = f.hidden;
    return [
      ...(gated ? [{ name: "w_gate", layout: "rows", fanIn: D, matmul: true } as const] : []),
      { name: "w_up", layout: "rows", fanIn: D, matmul: true },
      { name: "w_down", layout: "cols", fanIn: I, matmul: true },
      ...(f.bias
        ? [
            ...(gated ? [{ name: "b_gate", layout: "hvec", fanIn: D } as const] : []),
            { name: "b_up", layout: "hvec", fanIn: D } as const,
            { name: "b_down", layout: "ovec", fanIn: I } as const,
          ]
        : []),
    ];
  },
  gpu(f) {
    const gated = isGatedAct(f.act);
    return {
      as: "ffn",
      up: "w_up",
      gate: gated ? "w_gate" : undefined,
      down: "w_down",
      act: f.act,
      bias: f.bias ? { up: "b_up", gate: gated ? "b_gate" : undefined, down: "b_down" } : undefined,
    };
  },
  schedule: "expert",
  reference({ form, dim: D, x, tensor }) {
    const I = form.hidden;
    const up = tensor("w_up");
    const gate = isGatedAct(form.act) ? tensor("w_gate") : undefined;
    const down = tensor("w_down");
    const bUp = form.bias ? tensor("b_up") : undefined;
    const bGate = form.bias && gate ? tensor("b_gate") : undefined;
    const h = new Float64Array(I);
    for (let i = 0; i < I; i++) {
      let u = bUp ? bUp[i]! : 0;
      let g = bGate ? bGate[i]! : 0;
      for (let d = 0; d < D; d++) {
        u += up[i * D + d]! * x[d]!;
        if (gate) g += gate[i * D + d]! * x[d]!;
      }
      h[i] = unit64(form.act, u, g);
    }
    const bDown = form.bias ? tensor("b_down") : undefined;
    const y = new Float64Array(D);
    for (let d = 0; d < D; d++) {
      let s = bDown ? bDown[d]! : 0;
      for (let i = 0; i < I; i++) s += down[d * I + i]! * h[i]!;
      y[d] = s;
    }
    return y;
  },
};
