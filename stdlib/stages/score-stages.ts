// Score stages (LANGUAGE.md §5): x [D] → z [E].
import { type StdStageSpec, NATIVE, logSoftmax64, num } from "./std-spec.js";

export const linear: StdStageSpec = {
  name: "linear",
  kind: "score",
  doc: "Score `z = W x (+ b)`; weights `weight [E, D]` (`bias [E]`).",
  params: [{ name: "bias", type: "bool", default: false, doc: "adds a bias vector" }],
  weights: (a, E, D) => [{ name: "weight", shape: [E, D], matmul: true }, ...(a.bias === true ? [{ name: "bias", shape: [E] }] : [])],
  native: { score: NATIVE.score.linear },
  torch: { score: 'return F.linear(x, ctx.weight("weight"), ctx.weight("bias") if ctx.args.get("bias") else None)' },
  reference: {
    score(x, ctx) {
      const w = ctx.weight("weight");
      const b = ctx.args.bias === true ? ctx.weight("bias") : undefined;
      const z = new Float64Array(ctx.E);
      for (let e = 0; e < ctx.E; e++) {
        let s = b ? b[e]! : 0;
        for (let k = 0; k < ctx.D; k++) s += w[e * ctx.D + k]! * x[k]!;
        z[e] = s;
      }
      return z;
    },
  },
};

export const cosine: StdStageSpec = {
  name: "cosine",
  kind: "score",
  doc: "Score `z_e = (x/‖x‖)·(w_e/‖w_e‖) / τ`; weights `weight [E, D]`.",
  params: [{ name: "temp", type: "number", default: 1.0, min: 0, minExclusive: true, positional: true, doc: "temperature τ" }],
  weights: (_a, E, D) => [{ name: "weight", shape: [E, D], matmul: true }],
  native: { score: NATIVE.score.cosine },
  torch: {
    // A zero vector has no direction: its cosine is 0, as in the reference.
    score: [
      'w = ctx.weight("weight")',
      "den = x.norm(dim=-1, keepdim=True) * w.norm(dim=-1)[None, :]",
      "safe = torch.where(den > 0, den, torch.ones_like(den))",
      'z = F.linear(x, w) / safe / ctx.args.get("temp", 1.0)',
      "return torch.where(den > 0, z, torch.zeros_like(z))",
    ].join("\n"),
  },
  reference: {
    score(x, ctx) {
      const tau = num(ctx.args, "temp", 1);
      const w = ctx.weight("weight");
      let nx = 0;
      for (let k = 0; k < ctx.D; k++) nx += x[k]! * x[k]!;
      nx = Math.sqrt(nx);
      const z = new Float64Array(ctx.E);
      for (let e = 0; e < ctx.E; e++) {
        let d = 0;
        let nw = 0;
        for (let k = 0; k < ctx.D; k++) {
          const v = w[e * ctx.D + k]!;
          d += v * x[k]!;
          nw += v * v;
        }
        // A zero vector has no direction: its cosine is taken as 0 (the kernel does the same).
        const den = nx * Math.sqrt(nw);
        z[e] = den > 0 ? d / den / tau : 0;
      }
      return z;
    },
  },
};

export const product: StdStageSpec = {
  name: "product",
  kind: "score",
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
    return Array.from({ length: a.parts as number }, (_, i) => ({ name: `${i}.weight`, shape: [a.size as number, D], matmul: true }));
  },
  // Eval-mode BatchNorm statistics: state (read from files, never updated by a run).
  state: (a) =>
    a.norm === "batch"
      ? Array.from({ length: a.parts as number }, (_, i) => [
          { name: `${i}.running_mean`, length: () => a.size as number, init: 0 as const },
          { name: `${i}.running_var`, length: () => a.size as number, init: 1 as const },
        ]).flat()
      : [],
  native: { score: NATIVE.score.product },
  torch: {
    // Part 0 most significant: the running [T, n^i] sum grows by one key axis per part.
    score: [
      "total = None",
      'for i in range(ctx.args.get("parts", 2)):',
      '    z = F.linear(x, ctx.weight(f"{i}.weight"))',
      '    if ctx.args.get("norm") == "batch":',
      '        mean, var = ctx.state(f"{i}.running_mean"), ctx.state(f"{i}.running_var")',
      "        z = (z - mean) / torch.sqrt(var + 1e-5)",
      "    part = torch.log_softmax(z, dim=-1)",
      "    total = part if total is None else (total[:, :, None] + part[:, None, :]).flatten(1)",
      "return total",
    ].join("\n"),
  },
  reference: {
    score(x, ctx) {
      const parts = num(ctx.args, "parts", 2);
      const n = num(ctx.args, "size");
      const perPart: Float64Array[] = [];
      for (let i = 0; i < parts; i++) {
        const w = ctx.weight(`${i}.weight`);
        let z = new Float64Array(n);
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let k = 0; k < ctx.D; k++) s += w[j * ctx.D + k]! * x[k]!;
          z[j] = s;
        }
        if (ctx.args.norm === "batch") {
          const mean = ctx.state(`${i}.running_mean`);
          const vari = ctx.state(`${i}.running_var`);
          z = z.map((v, j) => (v - mean[j]!) / Math.sqrt(vari[j]! + 1e-5));
        }
        perPart.push(logSoftmax64(z));
      }
      // Expert index i₀·n^(parts−1) + … + i_last (part 0 most significant).
      const out = new Float64Array(ctx.E);
      for (let e = 0; e < ctx.E; e++) {
        let rest = e;
        let sum = 0;
        for (let i = parts - 1; i >= 0; i--) {
          sum += perPart[i]![rest % n]!;
          rest = Math.floor(rest / n);
        }
        out[e] = sum;
      }
      return out;
    },
  },
};

export const SCORE_STAGES = [linear, cosine, product];
