// `atom(act)`: a single-neuron expert (PEER, OmniMoE), `act(u·x) · v`; gated:
// `act(u_gate·x) · (u_up·x) · v`. On the GPU it is an FFN of one hidden unit: its [D] vectors are
// the [1, D] up (and gate) rows and the [D, 1] down column.
import type { ExpertAct, ExpertKindSpec } from "@moec/plugin-api";
import { ALL_ACTS, isGatedAct, unit64 } from "./acts.js";

const dot = (a: ArrayLike<number>, x: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * x[i]!;
  return s;
};

export const ATOM: ExpertKindSpec = {
  name: "atom",
  doc: "Single-neuron expert (PEER, OmniMoE): `act(u·x) · v`; gated: `silu(u_gate·x) · (u_up·x) · v`.",
  params: [{ name: "act", type: "enum", values: ALL_ACTS, default: "silu", positional: true, doc: "activation" }],
  form: (a) => ({ hidden: 1, act: (a.act ?? "silu") as ExpertAct, bias: false }),
  tensors: (f, D) =>
    isGatedAct(f.act)
      ? [
          { name: "u_gate", layout: "dvec", fanIn: D, matmul: true },
          { name: "u_up", layout: "dvec", fanIn: D, matmul: true },
          { name: "v", layout: "dvec", fanIn: 1, matmul: true },
        ]
      : [
          { name: "u", layout: "dvec", fanIn: D, matmul: true },
          { name: "v", layout: "dvec", fanIn: 1, matmul: true },
        ],
  gpu: (f) => (isGatedAct(f.act) ? { as: "ffn", up: "u_up", gate: "u_gate", down: "v", act: f.act } : { as: "ffn", up: "u", down: "v", act: f.act }),
  schedule: "token",
  reference({ form, dim: D, x, tensor }) {
    const gated = isGatedAct(form.act);
    const s = unit64(form.act, dot(tensor(gated ? "u_up" : "u"), x), gated ? dot(tensor("u_gate"), x) : 0);
    const v = tensor("v");
    return Float64Array.from({ length: D }, (_, d) => s * v[d]!);
  },
};
