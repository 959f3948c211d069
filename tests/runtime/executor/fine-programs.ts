// Hand-built IR programs over fine, null and mixed pools for the granularity tests, with weights
// from the runtime's canonical-layout generator (N(0, 1/fan_in) per tensor, every kind).

import type { ExpertAct, IrOp, IrPool, IrProgram, IrRouter, IrStage, IrValue } from "../../../compiler/ir/ir.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { stages } from "../../helpers/ir-programs.js";

export { stages };

export function finePool(o: { key?: string; kind: IrPool["kind"]; count: number; dim: number; hidden?: number; act?: ExpertAct; shared?: boolean }): IrPool {
  const hidden = o.kind === "lowrank" || o.kind === "ffn" ? o.hidden! : 1;
  const act = o.act ?? (o.kind === "atom" ? "silu" : o.kind === "ffn" ? "swiglu" : "identity");
  return { key: o.key ?? "E", kind: o.kind, count: o.count, dim: o.dim, hidden, act, bias: false, split: 1, shared: o.shared ?? false };
}

export function routerOf(key: string, E: number, D: number, st: IrStage[]): IrRouter {
  const sel = st.find((s) => s.role === "select")!;
  const maxPerToken =
    sel.name === "topk" ? (sel.params["k"] as number) : sel.name === "topp" || sel.name === "threshold" ? Math.min(E, (sel.params["max"] as number) ?? E) : E;
  return { key, numExperts: E, dim: D, stages: st, maxPerToken, scope: "token", report: [] };
}

/** y = moe(x, r, pool) (optionally + x). */
export function fineMoeProgram(pool: IrPool, st: IrStage[], opts: { residual?: boolean } = {}): IrProgram {
  const D = pool.dim;
  const values: IrValue[] = [
    { id: 0, width: D, dtype: "f32", name: "x" },
    { id: 1, width: D, dtype: "f32", name: "moe" },
  ];
  const ops: IrOp[] = [{ op: "moe", out: 1, x: 0, router: routerOf("r", pool.count, D, st), pool }];
  let out = 1;
  if (opts.residual) {
    values.push({ id: 2, width: D, dtype: "f32", name: "y" });
    ops.push({ op: "binary", out: 2, fn: "add", a: 0, b: 1 });
    out = 2;
  }
  return { entry: "fine", values, inputs: [{ name: "x", value: 0 }], outputs: [{ name: "y", value: out }], weights: [], ops };
}

/** y = S(x) for a shared pool. */
export function sharedProgram(pool: IrPool): IrProgram {
  const D = pool.dim;
  return {
    entry: "shared",
    values: [
      { id: 0, width: D, dtype: "f32", name: "x" },
      { id: 1, width: D, dtype: "f32", name: "S(x)" },
    ],
    inputs: [{ name: "x", value: 0 }],
    outputs: [{ name: "y", value: 1 }],
    weights: [],
    ops: [{ op: "shared", out: 1, x: 0, pool }],
  };
}

export const weightsFor = (p: IrProgram, seed: number): Map<string, Float32Array> => randomWeights(p, seed);
