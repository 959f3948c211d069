// MoRA ("Little by Little"): rank-1 experts activate themselves. The score of rank i is its own
// key's activation A_i·x (a `linear` score whose weights are the keys), normalized over the
// ranks, s_i = A_i·x / sqrt(Σ_j (A_j·x)²); the weights are a tempered softmax w = softmax(s/τ);
// only the top-k by s are kept, and of those only the ones with s_i ≥ δ (w ← m ⊙ w, no
// renormalization). Two stages do it with the language's two streams:
//
//   router r = linear |> l2norm |> mora_gate(temp = 0.5) |> threshold(0.1, max = 8)
//
//   l2norm     (transform, both streams)   s = z / ‖z‖₂
//   mora_gate  (transform, weight stream)  w = softmax(s / τ); the selection stream keeps s,
//              so `threshold(δ, max = k)` keeps the top-k ranks with s ≥ δ.
import { API_VERSION, definePlugin } from "@moec/plugin-api";

export default definePlugin({
  apiVersion: API_VERSION,
  name: "mora",
  version: "1.0.0",
  description: "MoRA self-activated rank routing: l2norm and a weight-only tempered softmax",
  stages: [
    {
      name: "l2norm",
      kind: "transform",
      doc: "Divides both streams by their L2 norm over the experts (all-zero stays zero).",
      nonNegative: "preserve",
      reference: {
        transform(z) {
          let s = 0;
          for (const v of z) s += v * v;
          const n = Math.sqrt(Math.max(s, 1e-30));
          return z.map((v) => v / n);
        },
      },
      wgsl: { transform: { reduce: ["sumsq"], expr: "z / sqrt(max(u_sumsq, 1e-30))" } },
      torch: { transform: "return z / torch.sqrt(torch.clamp((z * z).sum(-1, keepdim=True), min=1e-30))" },
    },
    {
      name: "mora_gate",
      kind: "transform",
      stream: "weight",
      doc: "Weight stream only: softmax(w / τ) over the experts; the selection stream is unchanged.",
      params: [{ name: "temp", type: "number", default: 1.0, min: 0, minExclusive: true, positional: true, doc: "temperature τ" }],
      nonNegative: true,
      reference: {
        transform(z, ctx) {
          const u = z.map((v) => v / ctx.args.temp);
          let m = -Infinity;
          for (const v of u) m = Math.max(m, v);
          let s = 0;
          for (const v of u) s += Math.exp(v - m);
          return u.map((v) => Math.exp(v - m) / s);
        },
      },
      wgsl: { transform: { pre: "z / temp", reduce: ["max", "sumexp"], expr: "exp(u - u_max) / u_sumexp" } },
      torch: { transform: 'return torch.softmax(z / ctx.args["temp"], dim=-1)' },
    },
  ],
});
