// float64 forward of one expert of a pool (LANGUAGE.md §4), reading the stacked tensors.

import type { ExpertAct, IrPool } from "../../compiler/ir/ir.js";
import { dot, gelu, matVec, relu, silu } from "./ref-math.js";
import { mixedMemberPool } from "../weights/canonical-layout.js";

export type RefTensors = Map<string, Float32Array | Float64Array>;

export function tensor(weights: RefTensors, name: string, length: number): Float32Array | Float64Array {
  const t = weights.get(name);
  if (!t) throw new Error(`reference: missing weight '${name}'`);
  if (t.length !== length) throw new Error(`reference: weight '${name}' has ${t.length} values, expected ${length}`);
  return t;
}

function act1(act: ExpertAct, v: number): number {
  switch (act) {
    case "relu":
      return relu(v);
    case "gelu":
    case "geglu":
      return gelu(v);
    case "silu":
    case "swiglu":
      return silu(v);
    case "identity":
      return v;
  }
}

const gated = (a: ExpertAct): boolean => a === "swiglu" || a === "geglu";

/** Output [D] of expert e of `pool` applied to x [D]. */
export function expertForward(pool: IrPool, weights: RefTensors, e: number, x: ArrayLike<number>): Float64Array {
  const { key, count: N, dim: D, hidden: I } = pool;
  switch (pool.kind) {
    case "mixed":
      return expertForward(mixedMemberPool(pool, e), weights, 0, x);
    case "identity":
      return Float64Array.from(x);
    case "zero":
      return new Float64Array(D);
    case "ffn": {
      const up = tensor(weights, `${key}.w_up`, N * I * D);
      const down = tensor(weights, `${key}.w_down`, N * D * I);
      const bUp = pool.bias ? tensor(weights, `${key}.b_up`, N * I) : undefined;
      const bDown = pool.bias ? tensor(weights, `${key}.b_down`, N * D) : undefined;
      const u = matVec(up, e * I * D, I, D, x, bUp, e * I);
      const h = new Float64Array(I);
      if (gated(pool.act)) {
        const gate = tensor(weights, `${key}.w_gate`, N * I * D);
        const bGate = pool.bias ? tensor(weights, `${key}.b_gate`, N * I) : undefined;
        const g = matVec(gate, e * I * D, I, D, x, bGate, e * I);
        for (let i = 0; i < I; i++) h[i] = act1(pool.act, g[i]!) * u[i]!;
      } else {
        for (let i = 0; i < I; i++) h[i] = act1(pool.act, u[i]!);
      }
      return matVec(down, e * D * I, D, I, h, bDown, e * D);
    }
    case "atom": {
      const v = tensor(weights, `${key}.v`, N * D);
      let s: number;
      if (gated(pool.act)) {
        const ug = tensor(weights, `${key}.u_gate`, N * D);
        const uu = tensor(weights, `${key}.u_up`, N * D);
        const g = dot(x, ug, e * D);
        s = (pool.act === "swiglu" ? silu(g) : gelu(g)) * dot(x, uu, e * D);
      } else {
        s = act1(pool.act, dot(x, tensor(weights, `${key}.u`, N * D), e * D));
      }
      return Float64Array.from({ length: D }, (_, d) => s * v[e * D + d]!);
    }
    case "lowrank": {
      const R = I;
      const a = tensor(weights, `${key}.a`, N * R * D);
      const b = tensor(weights, `${key}.b`, N * D * R);
      return matVec(b, e * D * R, D, R, matVec(a, e * R * D, R, D, x));
    }
  }
}
