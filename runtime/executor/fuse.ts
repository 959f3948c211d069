// Which ops a decoder layer's lowerings absorb into their neighbours (the residual adds), decided
// once per program from the IR's uses:
//
//   attention/mla → add   `h = h + attn`: the output projection adds h in its epilogue and writes
//                         the sum, when the attention's value is read only by that add;
//   add → norm            `h = h + moe; rmsnorm(h)`: one kernel writes the sum and its norm, when the
//                         norm's input is a plain add of two equal-width values.
//
// The absorbed op records no dispatch of its own. Values keep their buffers, so an absorbed value
// that is never materialized is one no op reads (checked here, not assumed).

import type { IrOp, IrProgram, ValueId } from "../../compiler/ir/ir.js";

export interface Fusions {
  /** Attention op index → the add it writes (its out) and the residual operand. */
  residual: Map<number, { add: number; out: ValueId; residual: ValueId }>;
  /** Add op index → the norm op it also computes. */
  addNorm: Map<number, number>;
  /** Ops whose work another op's lowering does. */
  absorbed: Set<number>;
}

function reads(op: IrOp): ValueId[] {
  switch (op.op) {
    case "binary": return [op.a, op.b];
    case "embed": return [op.ids];
    case "peer_attention": return [op.x, ...op.peers];
    default: return [op.x];
  }
}

export function planFusions(p: IrProgram): Fusions {
  const uses = new Map<ValueId, number[]>();
  p.ops.forEach((op, i) => { for (const v of reads(op)) uses.set(v, [...(uses.get(v) ?? []), i]); });
  const isOutput = new Set(p.outputs.map((o) => o.value));
  const definer = new Map<ValueId, number>();
  p.ops.forEach((op, i) => definer.set(op.out, i));
  const width = (v: ValueId) => p.values[v]!.width;
  const f: Fusions = { residual: new Map(), addNorm: new Map(), absorbed: new Set() };

  p.ops.forEach((op, i) => {
    if (op.op !== "attention" && op.op !== "mla") return;
    const u = uses.get(op.out) ?? [];
    if (u.length !== 1 || isOutput.has(op.out)) return;
    const j = u[0]!;
    const add = p.ops[j]!;
    if (add.op !== "binary" || add.fn !== "add" || add.a === add.b) return;
    const other = add.a === op.out ? add.b : add.a;
    // The residual must exist when the attention runs, with the same width.
    const d = definer.get(other);
    if ((d !== undefined && d >= i) || width(other) !== width(op.out)) return;
    f.residual.set(i, { add: j, out: add.out, residual: other });
    f.absorbed.add(j);
  });
  p.ops.forEach((op, j) => {
    if (op.op !== "norm") return;
    const i = definer.get(op.x);
    if (i === undefined || f.absorbed.has(i)) return;
    const add = p.ops[i]!;
    if (add.op !== "binary" || add.fn !== "add" || width(add.a) !== width(add.b)) return;
    f.addNorm.set(i, j);
    f.absorbed.add(j);
  });
  return f;
}
