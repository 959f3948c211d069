// `lowrank(rank)`: a rank-R expert `b · (a · x)` (FlexMoRE; rank = 1 for SMoRA/MoRA). On the GPU it
// is an FFN of R hidden units with no activation: a is the [R, D] up, b the [D, R] down.
import type { ExpertKindSpec } from "@moec/plugin-api";

export const LOWRANK: ExpertKindSpec = {
  name: "lowrank",
  doc: "Rank-R expert `b · (a · x)` (FlexMoRE; rank = 1 for SMoRA/MoRA).",
  params: [{ name: "rank", type: "int", min: 1, positional: true, doc: "rank R" }],
  // No activation, whatever an `act` argument would say: the IR records identity.
  form: (a) => ({ hidden: a.rank as number, act: "identity", bias: false }),
  tensors: (f, D) => [
    { name: "a", layout: "rows", fanIn: D, matmul: true },
    { name: "b", layout: "cols", fanIn: f.hidden, matmul: true },
  ],
  gpu: () => ({ as: "ffn", up: "a", down: "b", act: "identity" }),
  schedule: "token",
  reference({ form, dim: D, x, tensor }) {
    const R = form.hidden;
    const a = tensor("a");
    const b = tensor("b");
    const z = new Float64Array(R);
    for (let r = 0; r < R; r++) for (let d = 0; d < D; d++) z[r]! += a[r * D + d]! * x[d]!;
    return Float64Array.from({ length: D }, (_, d) => {
      let s = 0;
      for (let r = 0; r < R; r++) s += b[d * R + r]! * z[r]!;
      return s;
    });
  },
};
