// Builds small IrPrograms by hand for runtime tests (no front end involved).

import type { ExpertAct, IrOp, IrPool, IrProgram, IrRouter, IrStage, IrValue, IrWeight, ValueId } from "../../compiler/ir/ir.js";

export type StageSpec = string | [string, Record<string, number | string | boolean>];

const ROLES: Record<string, IrStage["role"]> = {
  linear: "score",
  cosine: "score",
  product: "score",
  sigmoid: "transform",
  log_softmax: "transform",
  temp: "transform",
  bias: "transform",
  topk: "select",
  topp: "select",
  threshold: "select",
  group_topk: "select",
  choose: "select",
  dense: "select",
  renorm: "post",
  scale: "post",
};

/** Stage list from shorthands: "softmax" before the select stage is a transform, after it a post stage. */
export function stages(...specs: StageSpec[]): IrStage[] {
  let afterSelect = false;
  return specs.map((s) => {
    const [name, params] = typeof s === "string" ? [s, {}] : s;
    let role = ROLES[name];
    if (name === "softmax" || name === "exp") role = afterSelect ? "post" : "transform";
    if (!role) throw new Error(`unknown stage ${name}`);
    if (role === "select") afterSelect = true;
    return { name, role, params };
  });
}

export function pool(o: { key?: string; count: number; dim: number; hidden: number; act?: ExpertAct; bias?: boolean; shared?: boolean; kind?: IrPool["kind"] }): IrPool {
  return {
    key: o.key ?? (o.shared ? "S" : "E"),
    kind: o.kind ?? "ffn",
    count: o.count,
    dim: o.dim,
    hidden: o.hidden,
    act: o.act ?? "swiglu",
    bias: o.bias ?? false,
    split: 1,
    shared: o.shared ?? false,
  };
}

export function router(o: { key?: string; numExperts: number; dim: number; stages: IrStage[] }): IrRouter {
  const sel = o.stages.find((s) => s.role === "select");
  if (!sel) throw new Error("router needs a select stage");
  const E = o.numExperts;
  const maxPerToken =
    sel.name === "topk" || sel.name === "group_topk"
      ? (sel.params["k"] as number)
      : sel.name === "topp" || sel.name === "threshold"
        ? Math.min(E, (sel.params["max"] as number | undefined) ?? E)
        : E;
  return { key: o.key ?? "r", numExperts: E, dim: o.dim, stages: o.stages, maxPerToken, scope: sel.name === "choose" ? "run" : "token", report: [] };
}

export class ProgramBuilder {
  private readonly values: IrValue[] = [];
  private readonly ops: IrOp[] = [];
  private readonly inputs: IrProgram["inputs"] = [];
  private readonly outputs: IrProgram["outputs"] = [];
  private readonly weights: IrWeight[] = [];

  private value(width: number, name: string, dtype: "f32" | "i32" = "f32"): ValueId {
    const id = this.values.length;
    this.values.push({ id, width, dtype, name });
    return id;
  }

  width(id: ValueId): number {
    return this.values[id]!.width;
  }

  input(name: string, width: number): ValueId {
    const id = this.value(width, name);
    this.inputs.push({ name, value: id });
    return id;
  }

  linear(x: ValueId, weight: string, outDim: number, bias = false): ValueId {
    const out = this.value(outDim, weight);
    this.ops.push({ op: "linear", out, x, weight, outDim, bias });
    this.weights.push({ name: `${weight}.weight`, shape: [outDim, this.width(x)], role: "param" });
    if (bias) this.weights.push({ name: `${weight}.bias`, shape: [outDim], role: "param" });
    return out;
  }

  unary(fn: Extract<IrOp, { op: "unary" }>["fn"], x: ValueId): ValueId {
    const out = this.value(this.width(x), `${fn}#${this.ops.length}`);
    this.ops.push({ op: "unary", out, fn, x });
    return out;
  }

  binary(fn: Extract<IrOp, { op: "binary" }>["fn"], a: ValueId, b: ValueId): ValueId {
    const out = this.value(Math.max(this.width(a), this.width(b)), `${fn}#${this.ops.length}`);
    this.ops.push({ op: "binary", out, fn, a, b });
    return out;
  }

  scalar(fn: Extract<IrOp, { op: "scalar" }>["fn"], x: ValueId, value: number, scalarFirst = false): ValueId {
    const out = this.value(this.width(x), `${fn}c#${this.ops.length}`);
    this.ops.push({ op: "scalar", out, fn, x, value, scalarFirst });
    return out;
  }

  private poolWeights(p: IrPool): void {
    const { key, count: N, hidden: I, dim: D } = p;
    const gated = p.act === "swiglu" || p.act === "geglu";
    const w = (name: string, shape: number[]): void => void this.weights.push({ name: `${key}.${name}`, shape, role: "param" });
    if (this.weights.some((x) => x.name === `${key}.w_up`)) return;
    if (gated) w("w_gate", [N, I, D]);
    w("w_up", [N, I, D]);
    w("w_down", [N, D, I]);
    if (p.bias) {
      if (gated) w("b_gate", [N, I]);
      w("b_up", [N, I]);
      w("b_down", [N, D]);
    }
  }

  shared(x: ValueId, p: IrPool): ValueId {
    const out = this.value(p.dim, `${p.key}(x)`);
    this.ops.push({ op: "shared", out, x, pool: p });
    this.poolWeights(p);
    return out;
  }

  moe(x: ValueId, r: IrRouter, p: IrPool): ValueId {
    const out = this.value(p.dim, `moe#${this.ops.length}`);
    this.ops.push({ op: "moe", out, x, router: r, pool: p });
    this.poolWeights(p);
    this.weights.push({ name: `${r.key}.weight`, shape: [r.numExperts, r.dim], role: "param" });
    if (r.stages[0]!.params["bias"] === true) this.weights.push({ name: `${r.key}.bias`, shape: [r.numExperts], role: "param" });
    if (r.stages.some((s) => s.name === "bias")) this.weights.push({ name: `${r.key}.e_bias`, shape: [r.numExperts], role: "state", init: "zeros" });
    return out;
  }

  output(name: string, v: ValueId): this {
    this.outputs.push({ name, value: v });
    return this;
  }

  build(entry = "test"): IrProgram {
    return { entry, values: this.values, inputs: this.inputs, outputs: this.outputs, weights: this.weights, ops: this.ops };
  }
}

/** The common one-layer program: y = moe(x, r, E) over a `count`-expert ffn pool. */
export function moeProgram(o: {
  D: number;
  E: number;
  I: number;
  act?: ExpertAct;
  bias?: boolean;
  stages: IrStage[];
}): IrProgram {
  const b = new ProgramBuilder();
  const x = b.input("x", o.D);
  const y = b.moe(x, router({ numExperts: o.E, dim: o.D, stages: o.stages }), pool({ count: o.E, dim: o.D, hidden: o.I, act: o.act, bias: o.bias }));
  return b.output("y", y).build();
}
