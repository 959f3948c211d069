// Programs and weights for benchmarks: a Mixtral-style routed layer, optionally with shared
// experts (DeepSeekMoE style), built directly as IR so the benchmark needs no front end.

import type { ExpertAct, IrProgram, IrWeight } from "../../compiler/ir/ir.js";

export interface MoeLayerShape {
  D: number;
  E: number;
  I: number;
  k: number;
  act?: ExpertAct;
  /** Shared experts of hidden I (DeepSeekMoE); 0 for none. */
  shared?: number;
}

export function moeLayerProgram(s: MoeLayerShape): IrProgram {
  const act = s.act ?? "swiglu";
  const gated = act === "swiglu" || act === "geglu";
  const poolWeights = (key: string, N: number): IrWeight[] => [
    ...(gated ? [{ name: `${key}.w_gate`, shape: [N, s.I, s.D], role: "param" as const }] : []),
    { name: `${key}.w_up`, shape: [N, s.I, s.D], role: "param" },
    { name: `${key}.w_down`, shape: [N, s.D, s.I], role: "param" },
  ];
  const pool = (key: string, N: number, shared: boolean) => ({ key, kind: "ffn" as const, count: N, dim: s.D, hidden: s.I, act, bias: false, split: 1, shared });
  const values = [
    { id: 0, width: s.D, dtype: "f32" as const, name: "x" },
    { id: 1, width: s.D, dtype: "f32" as const, name: "moe" },
  ];
  const ops: IrProgram["ops"] = [
    {
      op: "moe",
      out: 1,
      x: 0,
      router: {
        key: "r",
        numExperts: s.E,
        dim: s.D,
        stages: [
          { name: "linear", role: "score", params: {} },
          { name: "softmax", role: "transform", params: {} },
          { name: "topk", role: "select", params: { k: s.k } },
          { name: "renorm", role: "post", params: {} },
        ],
        maxPerToken: s.k,
        scope: "token",
        report: [],
      },
      pool: pool("E", s.E, false),
    },
  ];
  const weights: IrWeight[] = [{ name: "r.weight", shape: [s.E, s.D], role: "param" }, ...poolWeights("E", s.E)];
  let out = 1;
  if (s.shared) {
    values.push({ id: 2, width: s.D, dtype: "f32", name: "S(x)" }, { id: 3, width: s.D, dtype: "f32", name: "y" });
    ops.push({ op: "shared", out: 2, x: 0, pool: pool("S", s.shared, true) }, { op: "binary", out: 3, fn: "add", a: 2, b: 1 });
    weights.push(...poolWeights("S", s.shared));
    out = 3;
  }
  return { entry: "bench_moe", values, inputs: [{ name: "x", value: 0 }], outputs: [{ name: "y", value: out }], weights, ops };
}

/** Weights from N(0, 1/fan_in), seeded (mulberry32 + Box–Muller). */
export function benchWeights(program: IrProgram, seed = 7): Map<string, Float32Array> {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Map<string, Float32Array>();
  for (const w of program.weights) {
    const n = w.shape.reduce((x, y) => x * y, 1);
    const std = 1 / Math.sqrt(w.shape[w.shape.length - 1]!);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = std * Math.sqrt(-2 * Math.log(Math.max(uniform(), 1e-12))) * Math.cos(2 * Math.PI * uniform());
    out.set(w.name, data);
  }
  return out;
}

/**
 * `count` dense GEMMs in a chain, x [T, D] → [T, D] → …, all over one weight W [D, D]: moec's own
 * `linear` GEMM kernel doing a chosen amount of FLOPs (2·T·D²·count) with one weight in memory,
 * the yardstick of the model bench (model-bench.ts).
 */
export function gemmChainProgram(D: number, count: number): IrProgram {
  const values: IrProgram["values"] = [{ id: 0, width: D, dtype: "f32", name: "x" }];
  const ops: IrProgram["ops"] = [];
  for (let i = 1; i <= count; i++) {
    values.push({ id: i, width: D, dtype: "f32", name: `g${i}` });
    ops.push({ op: "linear", out: i, x: i - 1, weight: "W", outDim: D, bias: false });
  }
  return {
    entry: "dense_gemm",
    values,
    inputs: [{ name: "x", value: 0 }],
    outputs: [{ name: "y", value: count }],
    weights: [{ name: "W.weight", shape: [D, D], role: "param" }],
    ops,
  };
}
