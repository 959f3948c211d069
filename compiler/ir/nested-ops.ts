// The ops of a program including those inside agents-pool members (`moe_agents`, §11.1), each
// with the value table its ids index: what consumers that look at every pool, router or weight
// read (the canonical layout, weight binding), so a member's pools bind like top-level ones.
import type { IrOp, IrProgram, IrValue } from "./ir.js";

export interface ScopedOp {
  op: IrOp;
  values: IrValue[];
}

/** Depth first, in program order: an agents op comes before its members' ops. */
export function opsWithValues(p: Pick<IrProgram, "ops" | "values">): ScopedOp[] {
  const out: ScopedOp[] = [];
  const walk = (ops: IrOp[], values: IrValue[]) => {
    for (const op of ops) {
      out.push({ op, values });
      if (op.op === "moe_agents") for (const m of op.members) walk(m.ops, m.values);
    }
  };
  walk(p.ops, p.values);
  return out;
}
