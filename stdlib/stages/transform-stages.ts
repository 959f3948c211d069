// Transform stages (LANGUAGE.md §5): act on both streams, except `bias` (selection only).
// `softmax` and `exp` are also post-select stages (after the select stage).
import { type StdStageSpec, NATIVE, logSoftmax64, num, sigmoid64, softmax64 } from "./std-spec.js";

export const softmax: StdStageSpec = {
  name: "softmax",
  kind: ["transform", "post"],
  doc: "Softmax over the experts (before select); over the selected weights (after).",
  nonNegative: true,
  native: { transform: NATIVE.transform.softmax, post: NATIVE.post.softmax },
  torch: {
    transform: "return torch.softmax(z, dim=-1)",
    // Over the selected weights only; a token with none keeps all zeros.
    post: [
      "some = mask.any(dim=-1, keepdim=True)",
      'masked = torch.where(mask, w, torch.full_like(w, float("-inf")))',
      "p = torch.softmax(torch.where(some, masked, torch.zeros_like(w)), dim=-1)",
      "return torch.where(mask, p, torch.zeros_like(w))",
    ].join("\n"),
  },
  reference: { transform: (z) => softmax64(z), post: (w) => softmax64(w) },
};

export const logSoftmax: StdStageSpec = {
  name: "log_softmax",
  kind: "transform",
  doc: "Log-softmax over the experts on both streams.",
  nonNegative: false,
  native: { transform: NATIVE.transform.log_softmax },
  torch: { transform: "return torch.log_softmax(z, dim=-1)" },
  reference: { transform: (z) => logSoftmax64(z) },
};

export const sigmoid: StdStageSpec = {
  name: "sigmoid",
  kind: "transform",
  doc: "Elementwise sigmoid on both streams.",
  nonNegative: true,
  native: { transform: NATIVE.transform.sigmoid },
  torch: { transform: "return torch.sigmoid(z)" },
  reference: { transform: (z) => z.map(sigmoid64) },
};

export const exp: StdStageSpec = {
  name: "exp",
  kind: ["transform", "post"],
  doc: "Elementwise exp (on both streams before select; on the selected weights after).",
  nonNegative: true,
  native: { transform: NATIVE.transform.exp, post: NATIVE.post.exp },
  torch: { transform: "return torch.exp(z)", post: "return torch.where(mask, torch.exp(w), torch.zeros_like(w))" },
  reference: { transform: (z) => z.map(Math.exp), post: (w) => w.map(Math.exp) },
};

export const temp: StdStageSpec = {
  name: "temp",
  kind: "transform",
  doc: "Divides both streams by τ.",
  params: [{ name: "tau", type: "number", min: 0, minExclusive: true, positional: true, doc: "temperature τ" }],
  nonNegative: "preserve",
  native: { transform: NATIVE.transform.temp },
  torch: { transform: 'return z / ctx.args["tau"]' },
  reference: {
    transform(z, ctx) {
      const tau = num(ctx.args, "tau");
      return z.map((v) => v / tau);
    },
  },
};

export const bias: StdStageSpec = {
  name: "bias",
  kind: "transform",
  stream: "selection",
  doc: "Adds the state vector `e_bias [E]` to the selection stream only (DeepSeek-V3 aux-loss-free balancing).",
  params: [
    { name: "mode", type: "enum", values: ["aux_free"], positional: true, doc: "balancing scheme" },
    { name: "rate", type: "number", default: 0.001, min: 0, doc: "update rate γ" },
  ],
  state: [
    {
      name: "e_bias",
      init: 0,
      // e_bias ← e_bias + γ·sign(mean_load − load), after each run (LANGUAGE.md §5).
      update: {
        wgsl: "old + rate * sign(mean_load - load)",
        reference: (c) => c.old.map((b, e) => b + num(c.args, "rate", 0.001) * Math.sign(c.meanLoad - c.load[e]!)),
      },
    },
  ],
  stats: { state: ["e_bias"] },
  native: { transform: NATIVE.transform.bias },
  torch: { transform: 'return z + ctx.state("e_bias")' },
  reference: {
    transform(z, ctx) {
      const b = ctx.state("e_bias");
      return z.map((v, e) => v + b[e]!);
    },
  },
};

export const TRANSFORM_STAGES = [softmax, sigmoid, logSoftmax, exp, temp, bias];
