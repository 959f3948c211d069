// The reverse of the binder: writes canonical weights in a chosen file form, so tests (and users
// converting checkpoints) can produce per-member, stacked, coarse and concatenated files.

import type { IrProgram } from "../../compiler/ir/ir.js";
import type { TensorData } from "../safetensors/writer.js";
import { canonicalLayout, fmtShape, groupingsFor, groupShape, type Grouping } from "./canonical-layout.js";
import { gatherGroup } from "./pool-slicing.js";

/**
 * - `stacked`: every pool tensor whole over its N fine experts (`E.w_up` [N, I, D]);
 * - `per-member`: one tensor per fine expert (`E.3.w_up` [I, D]);
 * - `coarse`: the Hugging Face shape: split pools per coarse expert (`E.1.w_up` [M·I, D]),
 *   shared pools concatenated (`S.w_up` [N·I, D]), other pools per member;
 * - `stacked-coarse`: split pools stacked coarse (`E.w_up` [C, M·I, D]), shared pools
 *   concatenated, other pools stacked.
 */
export type FileForm = "stacked" | "per-member" | "coarse" | "stacked-coarse";

export interface CanonicalToFileOptions {
  dtype?: "F32" | "F16" | "BF16";
  /** Include state tensors (e_bias, running statistics); default true. */
  state?: boolean;
}

export function canonicalToFile(program: IrProgram, weights: ReadonlyMap<string, Float32Array>, form: FileForm, opts: CanonicalToFileOptions = {}): Map<string, TensorData> {
  const dtype = opts.dtype ?? "F32";
  const layout = canonicalLayout(program);
  const out = new Map<string, TensorData>();
  const get = (name: string, shape: readonly number[]) => {
    const a = weights.get(name);
    const n = shape.reduce((x, d) => x * d, 1);
    if (!a) throw new Error(`canonicalToFile: no canonical tensor ${name} ${fmtShape(shape)} given.`);
    if (a.length !== n) throw new Error(`canonicalToFile: ${name} has ${a.length} values; its shape ${fmtShape(shape)} needs ${n}.`);
    return a;
  };
  for (const t of layout.tensors) {
    if (t.role === "state" && opts.state === false) continue;
    out.set(t.name, { dtype, shape: t.shape, data: get(t.name, t.shape) });
  }
  for (const t of layout.poolTensors) {
    const src = get(t.name, t.shape);
    const gs = groupingsFor(t.pool, t.param);
    const fine = gs[0]!;
    const coarsest = (): Grouping => gs.find((g) => g.kind === "concat") ?? gs.find((g) => g.kind === "coarse") ?? fine;
    const g = form === "stacked" || form === "per-member" ? fine : coarsest();
    const whole = form === "stacked" || (form === "stacked-coarse" && g.kind !== "concat") ? "stacked" : g.kind === "concat" ? "concat" : "members";
    const parts: Float32Array[] = [];
    for (let gi = 0; gi < g.groups; gi++) {
      const part = gatherGroup(t.param.layout, t.pool, g, gi, src);
      if (!(part instanceof Float32Array)) {
        throw new Error(`canonicalToFile: ${t.name} of expert ${part.unrepresentable} is not zero, so ${t.pool.key} cannot be written with one ${t.param.name} per ${g.kind === "concat" ? "pool" : "coarse expert"}.`);
      }
      parts.push(part);
    }
    const gshape = groupShape(t.pool, t.param, g);
    if (whole === "members") {
      parts.forEach((p, gi) => out.set(`${t.pool.key}.${gi}.${t.param.name}`, { dtype, shape: gshape, data: p }));
    } else if (whole === "concat") {
      out.set(t.name, { dtype, shape: gshape, data: parts[0]! });
    } else {
      const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      out.set(t.name, { dtype, shape: [g.groups, ...gshape], data: all });
    }
  }
  return out;
}
