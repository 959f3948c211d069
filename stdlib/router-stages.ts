// Standard router stages (LANGUAGE.md §5): declarations, parameter types and the checks against
// the pool. Kernels and float64 references are attached by the runtime.
import type { Registry, StageDef } from "./registry.js";

const std = "std";

const linear: StageDef = {
  name: "linear", roles: ["score"], source: std,
  doc: "Score `z = W x (+ b)`; weights `weight [E, D]` (`bias [E]`).",
  params: [{ name: "bias", type: "bool", default: false, doc: "adds a bias vector" }],
  weights: (a, E, D) => [{ name: "weight", shape: [E, D], matmul: true }, ...(a.bias === true ? [{ name: "bias", shape: [E] }] : [])],
};

const cosine: StageDef = {
  name: "cosine", roles: ["score"], source: std,
  doc: "Score `z_e = (x/‖x‖)·(w_e/‖w_e‖) / τ`; weights `weight [E, D]`.",
  params: [{ name: "temp", type: "number", default: 1.0, min: 0, minExclusive: true, positional: true, doc: "temperature τ" }],
  weights: (_a, E, D) => [{ name: "weight", shape: [E, D], matmul: true }],
};

const product: StageDef = {
  name: "product", roles: ["score"], source: std,
  doc: "Product-key score over `size^parts` experts: per part a linear map, log_softmax, summed.",
  params: [
    { name: "parts", type: "int", default: 2, min: 1, doc: "number of key parts" },
    { name: "size", type: "int", min: 1, doc: "keys per part n" },
    { name: "norm", type: "enum", values: ["none", "batch"], default: "none", doc: "`batch`: eval-mode BatchNorm on each part's logits" },
  ],
  check(a, E) {
    const parts = a.parts as number, size = a.size as number;
    const n = Math.pow(size, parts);
    return n === E ? [] : [{ message: `product keys address size^parts = ${size}^${parts} = ${n} experts, but the pool has ${E}`, param: "size" }];
  },
  weights(a, _E, D) {
    const out = [];
    for (let i = 0; i < (a.parts as number); i++) {
      out.push({ name: `${i}.weight`, shape: [a.size as number, D], matmul: true });
      if (a.norm === "batch") {
        out.push({ name: `${i}.running_mean`, shape: [a.size as number], state: true });
        out.push({ name: `${i}.running_var`, shape: [a.size as number], state: true });
      }
    }
    return out;
  },
};

function transform(name: string, doc: string, post = false): StageDef {
  return { name, roles: post ? ["transform", "post"] : ["transform"], params: [], doc, source: std };
}

const temp: StageDef = {
  name: "temp", roles: ["transform"], source: std, doc: "Divides both streams by τ.",
  params: [{ name: "tau", type: "number", min: 0, minExclusive: true, positional: true, doc: "temperature τ" }],
};

const bias: StageDef = {
  name: "bias", roles: ["transform"], source: std,
  doc: "Adds the state vector `e_bias [E]` to the selection stream only (DeepSeek-V3 aux-loss-free balancing).",
  params: [
    { name: "mode", type: "enum", values: ["aux_free"], positional: true, doc: "balancing scheme" },
    { name: "rate", type: "number", default: 0.001, min: 0, doc: "update rate γ" },
  ],
  weights: (_a, E) => [{ name: "e_bias", shape: [E], state: true }],
};

const topk: StageDef = {
  name: "topk", roles: ["select"], source: std, doc: "The k highest selection scores per token.",
  params: [{ name: "k", type: "int", min: 1, positional: true, doc: "experts per token" }],
  check: (a, E) => ((a.k as number) > E ? [{ message: `topk(${a.k}) selects more experts than the pool has (${E})`, param: "k" }] : []),
  active: (a) => ({ count: a.k as number, label: "exact" }),
  maxPerToken: (a) => a.k as number,
};

const topp: StageDef = {
  name: "topp", roles: ["select"], source: std,
  doc: "Experts by selection score, the shortest prefix whose weight sum exceeds p (at least 1, at most max).",
  params: [
    { name: "p", type: "number", min: 0, minExclusive: true, max: 1, positional: true, doc: "probability mass" },
    { name: "max", type: "int", min: 1, optional: true, doc: "most experts per token (clamped to E; default E)" },
  ],
  active: (a, E) => ({ count: Math.min(E, (a.max as number | undefined) ?? E), label: "upper bound" }),
  maxPerToken: (a, E) => Math.min(E, (a.max as number | undefined) ?? E),
};

const threshold: StageDef = {
  name: "threshold", roles: ["select"], source: std,
  doc: "Experts whose selection score ≥ δ, highest first, at most max; may be none.",
  params: [
    { name: "delta", type: "number", positional: true, doc: "score threshold δ" },
    { name: "max", type: "int", min: 1, optional: true, doc: "most experts per token (clamped to E; default E)" },
  ],
  active: (a, E) => ({ count: Math.min(E, (a.max as number | undefined) ?? E), label: "upper bound" }),
  maxPerToken: (a, E) => Math.min(E, (a.max as number | undefined) ?? E),
};

const groupTopk: StageDef = {
  name: "group_topk", roles: ["select"], source: std,
  doc: "Keep the `keep` groups (of `groups` contiguous ones) with the largest top-2 sums, then top-k among them.",
  params: [
    { name: "k", type: "int", min: 1, positional: true, doc: "experts per token" },
    { name: "groups", type: "int", min: 1, doc: "number of groups G" },
    { name: "keep", type: "int", min: 1, doc: "groups kept K" },
  ],
  check(a, E) {
    const k = a.k as number, G = a.groups as number, K = a.keep as number;
    const issues = [];
    if (k > E) issues.push({ message: `group_topk(${k}) selects more experts than the pool has (${E})`, param: "k" });
    if (E % G !== 0) issues.push({ message: `groups = ${G} does not divide the pool size ${E}`, param: "groups" });
    else if (K > G) issues.push({ message: `keep = ${K} is more than groups = ${G}`, param: "keep" });
    else if (k > (K * E) / G) issues.push({ message: `k = ${k} is more than the ${K * E / G} experts in the ${K} kept groups`, param: "k" });
    return issues;
  },
  active: (a) => ({ count: a.k as number, label: "exact" }),
  maxPerToken: (a) => a.k as number,
};

const choose: StageDef = {
  name: "choose", roles: ["select"], scope: "run", source: std,
  doc: "Expert choice: each expert takes its max(1, min(T, ⌊c·T/E⌋)) highest-scoring tokens of the run.",
  params: [{ name: "capacity", type: "number", min: 0, minExclusive: true, positional: true, doc: "capacity factor c" }],
  active: (a) => ({ count: a.capacity as number, label: "expectation" }),
  maxPerToken: (_a, E) => E,
};

const dense: StageDef = {
  name: "dense", roles: ["select"], source: std, doc: "Every expert, with its weight (a soft gate).",
  params: [],
  active: (_a, E) => ({ count: E, label: "exact" }),
  maxPerToken: (_a, E) => E,
};

const renorm: StageDef = { name: "renorm", roles: ["post"], params: [], source: std, doc: "Selected weights divided by their sum (all zero stays zero)." };
const scale: StageDef = {
  name: "scale", roles: ["post"], source: std, doc: "Multiplies the selected weights by s.",
  params: [{ name: "s", type: "number", positional: true, doc: "factor" }],
};

export function registerRouterStages(reg: Registry): void {
  for (const s of [
    linear, cosine, product,
    transform("softmax", "Softmax over the experts (before select); over the selected weights (after).", true),
    transform("sigmoid", "Elementwise sigmoid on both streams."),
    transform("log_softmax", "Log-softmax over the experts on both streams."),
    transform("exp", "Elementwise exp (on both streams before select; on the selected weights after).", true),
    temp, bias, topk, topp, threshold, groupTopk, choose, dense, renorm, scale,
  ]) reg.addStage(s);
}
