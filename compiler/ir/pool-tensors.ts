// The canonical tensors a pool descriptor implies (LANGUAGE.md §7), derived from the IR alone so
// that the verifier can check the names and shapes a program lists for its pools. The runtime's
// binder has its own table (runtime/weights/canonical-layout.ts, which the IR may not import);
// tests/compiler/ir-verify.test.ts checks that the two agree on every golden program.
import type { IrPool } from "./ir.js";

export interface PoolTensor {
  name: string;
  shape: number[];
}

const GATED = new Set(["swiglu", "geglu"]);

/** One expert's tensors as [name, shape] for width D and h hidden units (rank for lowrank). */
function expertTensors(kind: IrPool["kind"], act: string, bias: boolean, D: number, h: number): [string, number[]][] {
  const gated = GATED.has(act);
  switch (kind) {
    case "ffn": {
      const ts: [string, number[]][] = [];
      if (gated) ts.push(["w_gate", [h, D]]);
      ts.push(["w_up", [h, D]], ["w_down", [D, h]]);
      if (bias) {
        if (gated) ts.push(["b_gate", [h]]);
        ts.push(["b_up", [h]], ["b_down", [D]]);
      }
      return ts;
    }
    case "lowrank": return [["a", [h, D]], ["b", [D, h]]];
    case "atom": return gated ? [["u_gate", [D]], ["u_up", [D]], ["v", [D]]] : [["u", [D]], ["v", [D]]];
    default: return []; // identity and zero have no weights; mixed pools are per member
  }
}

/**
 * A homogeneous pool's tensors stacked over its N fine experts (`E.w_up` [N, I, D]); a
 * heterogeneous pool's per member (`E.2.a` [r, D]).
 */
export function poolTensors(pool: IrPool): PoolTensor[] {
  if (pool.kind === "mixed") {
    return (pool.members ?? []).flatMap((m, j) =>
      expertTensors(m.kind, m.act, m.bias, pool.dim, m.hidden).map(([n, shape]) => ({ name: `${pool.key}.${j}.${n}`, shape })));
  }
  return expertTensors(pool.kind, pool.act, pool.bias, pool.dim, pool.hidden).map(([n, shape]) => ({ name: `${pool.key}.${n}`, shape: [pool.count, ...shape] }));
}
