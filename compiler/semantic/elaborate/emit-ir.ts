// Lowering to IR: the one place that builds IR values, weights and ops while the walk checks.
import type { ExpertKindDef } from "../../../stdlib/registry.js";
import type { IrPool, ExpertAct, IrExpertSpec } from "../../ir/ir.js";

/** A heterogeneous pool: one member per listed expert, weights named per member (`E.j.PARAM`). */
export function irMixedPool(key: string, experts: { kind: ExpertKindDef; args: Record<string, unknown> }[], dim: number): IrPool {
  const members = experts.map((s) => {
    const p = irPool(key, s.kind, s.args, 1, dim, 1, false);
    return { kind: p.kind as IrExpertSpec["kind"], hidden: p.kind === "identity" || p.kind === "zero" ? 0 : p.hidden, act: p.act, bias: p.bias };
  });
  const hidden = Math.max(0, ...members.map((m) => m.hidden));
  return { key, kind: "mixed", count: members.length, dim, hidden, act: "identity", bias: false, split: 1, shared: false, members };
}

export function irPool(key: string, kind: ExpertKindDef, args: Record<string, unknown>, count: number, dim: number, split: number, shared: boolean): IrPool {
  const k = kind.name as IrPool["kind"];
  const hidden = k === "ffn" ? (args.hidden as number) : k === "lowrank" ? (args.rank as number) : 1;
  const act = ((args.act as string | undefined) ?? (k === "ffn" ? "swiglu" : "identity")) as ExpertAct;
  return { key, kind: k, count, dim, hidden, act, bias: args.bias === true, split, shared };
}
