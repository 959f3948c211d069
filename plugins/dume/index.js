// DUME (dynamic upcycling of domain experts): the router is not trained but fitted in closed
// form. With X̃ = [X, 1] the token states of domain e's data (its first `ctx` rows),
//   A = Σ_e X̃_eᵀ X̃_e,   B[:, e] = X̃_eᵀ 1,   W* = (A + λI)⁻¹ B,
// the bias row is split off and each expert's column normalized (w_e, b_e) /= ‖w_e‖. The stage
// `ridge(temp)` scores z_e = (w_e·x + b_e) / τ with those tensors (`r.weight`, `r.bias`);
// `fitRidge` computes them from per-domain samples (float64, Cholesky).
//
//   router r = ridge(temp = 0.1) |> topk(1) |> softmax
import { API_VERSION, definePlugin } from "@moec/plugin-api";

/**
 * Fits the DUME router. `domains[e]` holds domain e's samples row-major [n_e, D]; at most `ctx`
 * rows of each are used. Returns `weight` [E, D] (row e = expert e) and `bias` [E].
 */
export function fitRidge(domains, D, { lambda = 0.01, ctx = 512 } = {}) {
  const E = domains.length;
  const n = D + 1;
  const A = new Float64Array(n * n);
  const B = new Float64Array(n * E);
  const row = new Float64Array(n);
  domains.forEach((X, e) => {
    const rows = Math.min(ctx, Math.floor(X.length / D));
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < D; k++) row[k] = X[r * D + k];
      row[D] = 1;
      for (let i = 0; i < n; i++) {
        const ri = row[i];
        for (let j = 0; j <= i; j++) A[i * n + j] += ri * row[j];
        B[i * E + e] += ri;
      }
    }
  });
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) A[j * n + i] = A[i * n + j];
    A[i * n + i] += lambda;
  }
  // Cholesky A = L Lᵀ (A + λI is symmetric positive definite for λ > 0).
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(s) : s / L[j * n + j];
    }
  }
  const weight = new Float32Array(E * D);
  const bias = new Float32Array(E);
  const y = new Float64Array(n);
  const w = new Float64Array(n);
  for (let e = 0; e < E; e++) {
    for (let i = 0; i < n; i++) {
      let s = B[i * E + e];
      for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
      y[i] = s / L[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < n; k++) s -= L[k * n + i] * w[k];
      w[i] = s / L[i * n + i];
    }
    let norm = 0;
    for (let k = 0; k < D; k++) norm += w[k] * w[k];
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < D; k++) weight[e * D + k] = w[k] / norm;
    bias[e] = w[D] / norm;
  }
  return { weight, bias };
}

export default definePlugin({
  apiVersion: API_VERSION,
  name: "dume",
  version: "1.0.0",
  description: "DUME ridge-fitted router: z = (w_e·x + b_e)/τ with weights from fitRidge",
  stages: [
    {
      name: "ridge",
      kind: "score",
      doc: "Score z_e = (w_e·x + b_e) / τ with the closed-form ridge-regression gate of DUME; weights `weight [E, D]`, `bias [E]` (fitRidge).",
      params: [{ name: "temp", type: "number", default: 0.1, min: 0, minExclusive: true, positional: true, doc: "temperature τ" }],
      weights: (_a, E, D) => [
        { name: "weight", shape: [E, D], matmul: true },
        { name: "bias", shape: [E] },
      ],
      reference: {
        score(x, ctx) {
          const w = ctx.weight("weight");
          const b = ctx.weight("bias");
          const z = new Float64Array(ctx.E);
          for (let e = 0; e < ctx.E; e++) {
            let s = b[e];
            for (let k = 0; k < ctx.D; k++) s += w[e * ctx.D + k] * x[k];
            z[e] = s / ctx.args.temp;
          }
          return z;
        },
      },
      wgsl: { score: { gemm: "weight", expr: "(dot + weight_bias(e)) / temp" } },
      torch: { score: 'return F.linear(x, ctx.weight("weight"), ctx.weight("bias")) / ctx.args["temp"]' },
    },
  ],
});
