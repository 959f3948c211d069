// Elastic MoE (EMoE): experts trained to collaborate in varying combinations let inference use
// top-k' for k' ≠ the training k. Here k is chosen PER RUN: `elastic_topk(k, max)` selects the
// `k_run` best experts, where k_run is the router's state `elastic_k` when it is ≥ 1 (read from
// `moec run --state FILE`, or set through the library), else the compiled k — a uniform of the
// kernel, so changing it recompiles nothing; `max` bounds it and sizes the buffers.
//
//   router r = linear |> softmax |> elastic_topk(2, max = 8) |> renorm
//   moec run layer.moe --state k6.safetensors …    // r.elastic_k = [6]: six experts this run
import { API_VERSION, definePlugin } from "@moec/plugin-api";

/** The k of this run: the state when set (clamped to 1..max), else the compiled k. */
export function runK(args, state) {
  const s = state[0];
  return s >= 1 ? Math.min(Math.floor(s), args.max) : args.k;
}

export default definePlugin({
  apiVersion: API_VERSION,
  name: "elastic-k",
  version: "1.0.0",
  description: "EMoE elastic top-k: k chosen per run from router state, bounded by max",
  stages: [
    {
      name: "elastic_topk",
      kind: "select",
      doc: "The k_run highest selection scores per token; k_run = state elastic_k when ≥ 1 (at most max), else k.",
      params: [
        { name: "k", type: "int", min: 1, positional: true, doc: "experts per token when no run value is set" },
        { name: "max", type: "int", min: 1, doc: "most experts per token any run may ask for" },
      ],
      check(a, E) {
        const out = [];
        if (a.max > E) out.push({ message: `max = ${a.max} is more than the pool's ${E} experts`, param: "max" });
        if (a.k > a.max) out.push({ message: `k = ${a.k} is more than max = ${a.max}`, param: "k", help: "raise max: it bounds every run's k" });
        return out;
      },
      maxPerToken: (a) => a.max,
      active: (a) => ({ count: a.max, label: "upper bound" }),
      state: [{ name: "elastic_k", length: () => 1, init: 0 }],
      stats: { state: ["elastic_k"] },
      reference: {
        select(sel, _w, ctx) {
          const k = runK(ctx.args, ctx.state("elastic_k"));
          return Array.from(sel.keys())
            .sort((a, b) => (sel[b] !== sel[a] ? sel[b] - sel[a] : a - b))
            .slice(0, k);
        },
      },
      // k_run from the state as runK computes it; then the k_run best, ties to the lower index.
      torch: {
        select: [
          'k_run = float(ctx.state("elastic_k")[0])',
          'k = min(math.floor(k_run), ctx.args["max"]) if k_run >= 1 else ctx.args["k"]',
          "return unrank(ranked(sel), slots(sel) < k)",
        ].join("\n"),
      },
      wgsl: {
        select: {
          limit: "select(u32(k), min(u32(state_elastic_k(0u)), u32(max)), state_elastic_k(0u) >= 1.0)",
        },
      },
    },
  ],
});
