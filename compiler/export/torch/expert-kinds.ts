// Expert pools in PyTorch (LANGUAGE.md §4, §6): one method per pool, `experts_KEY(x, e)`, giving
// expert e's output on the rows x routed to it. Every kind — standard or a plugin's — is written
// from its `gpu` form (ExpertKindSpec.gpu: an FFN with named up/gate/down tensors and an
// activation, or a null expert), which is how the GPU runs it, so no kind is special-cased by
// name. `split` pools are already fine-grained and stacked in the IR; a heterogeneous pool's
// members are one-expert pools `KEY.j`, as the canonical layout names them.
import type { ExpertTensorLayout } from "@moec/plugin-api";
import type { IrPool } from "../../ir/ir.js";
import { expertKindOf, formOf } from "../../../stdlib/expert-kinds/index.js";
import { pyIdent, pyStr, type PyWriter } from "./python-source.js";

export function expertMethodName(pool: IrPool): string {
  return `experts_${pyIdent(pool.key)}`;
}

/** Member j of a mixed pool as the one-expert pool its tensors (`E.j.w_up`) describe. */
function memberPool(pool: IrPool, j: number): IrPool {
  const m = pool.members![j]!;
  return { key: `${pool.key}.${j}`, kind: m.kind, count: 1, dim: pool.dim, hidden: m.hidden, act: m.act, bias: m.bias, split: 1, shared: pool.shared, ...(m.pluginKind ? { pluginKind: m.pluginKind } : {}) };
}

/** Expert `e` of a homogeneous pool on rows `x`: `ffn(x, …)`'s arguments, or `x` / `None` (null experts). */
function expertExpr(pool: IrPool, e: string | undefined): string | string[] {
  const kind = expertKindOf(pool);
  const form = formOf(pool);
  const gpu = kind.gpu(form);
  if (gpu.as === "identity") return "x";
  if (gpu.as === "zero") return "None";
  const layouts = new Map(kind.tensors(form, pool.dim).map((t) => [t.name, t.layout]));
  // A `dvec` tensor (atoms) has no hidden axis: as an up/gate it is one row, as a down one column.
  const as = (name: string, role: "in" | "out" | "vec"): string => {
    const layout: ExpertTensorLayout | undefined = layouts.get(name);
    if (!layout) throw new Error(`internal: expert kind '${kind.name}' has no tensor '${name}'`);
    // A member's tensors are its own (`E.2.a` [r, D]); a pool's are stacked over its experts.
    const t = `self.tensor(${pyStr(`${pool.key}.${name}`)})${e === undefined ? "" : `[${e}]`}`;
    if (layout === "dvec" && role === "in") return `${t}[None, :]`;
    if (layout === "dvec" && role === "out") return `${t}[:, None]`;
    return t;
  };
  const args = [as(gpu.up, "in"), as(gpu.down, "out"), pyStr(gpu.act)];
  if (gpu.gate) args.push(`gate=${as(gpu.gate, "in")}`);
  if (gpu.bias && form.bias) {
    args.push(`b_up=${as(gpu.bias.up, "vec")}`);
    if (gpu.bias.gate && gpu.gate) args.push(`b_gate=${as(gpu.bias.gate, "vec")}`);
    args.push(`b_down=${as(gpu.bias.down, "vec")}`);
  }
  return ["x", ...args];
}

function emitReturn(w: PyWriter, expr: string | string[]): void {
  if (typeof expr === "string") w.line(`return ${expr}`);
  else w.call("return ffn", expr);
}

function poolText(p: { kind: string; count: number; hidden: number; act: string; bias: boolean }): string {
  return `${p.count} × ${p.kind}(${p.hidden ? `${p.hidden} hidden, ` : ""}${p.act}${p.bias ? ", bias" : ""})`;
}

/** `def experts_KEY(self, x, e)` for one pool. */
export function emitExpertMethod(w: PyWriter, pool: IrPool): void {
  w.line(`def ${expertMethodName(pool)}(self, x, e):`).indent();
  if (pool.kind !== "mixed") {
    const split = pool.split > 1 ? ` (split ${pool.split}: fine expert e is slice e % ${pool.split} of coarse e // ${pool.split})` : "";
    w.line(`"""Expert e of ${pool.shared ? "shared " : ""}pool ${pool.key}: ${poolText(pool)}${split}."""`);
    emitReturn(w, expertExpr(pool, "e"));
    return void w.dedent();
  }
  w.line(`"""Expert e of heterogeneous pool ${pool.key}: member e, each under ${pool.key}.e."""`);
  pool.members!.forEach((_, j) => {
    const m = memberPool(pool, j);
    w.line(`if e == ${j}:  # ${poolText(m)}`).indent();
    emitReturn(w, expertExpr(m, undefined));
    w.dedent();
  });
  w.line(`raise IndexError(f"pool ${pool.key} has ${pool.members!.length} members, not {e + 1}")`).dedent();
}
