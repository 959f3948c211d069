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
  const out = new Map<string, TensorData>();
  const get = (name: string, shape: readonly number[]) => {
    const a = weights.get(name);
    const n = shape.reduce((x, d) => x * d, 1);
    if (!a) throw new Error(`canonicalToFile: no canonical tensor ${name} ${fmtShape(shape)} given.`);
    if (a.length !== n) throw new Error(`canonicalToFile: ${name} has ${a.length} values; its shape ${fmtShape(shape)} needs ${n}.`);
    return a;
  };
  for (const p of fileFormParts(program, form, opts)) out.set(p.name, { dtype, shape: p.shape, data: p.make(get(p.source, p.sourceShape)) });
  return out;
}

/** One tensor of a file form: the canonical tensor it is made from, and how. */
export interface FileFormPart {
  name: string;
  shape: number[];
  source: string;
  sourceShape: number[];
  /** The part's values from the source's (the source itself when the part is all of it). */
  make(source: Float32Array): Float32Array;
}

/** The tensors of a file form, each from one canonical tensor, so they can be made one at a time. */
export function fileFormParts(program: IrProgram, form: FileForm, opts: Pick<CanonicalToFileOptions, "state"> = {}): FileFormPart[] {
  const layout = canonicalLayout(program);
  const out: FileFormPart[] = [];
  for (const t of layout.tensors) {
    if (t.role === "state" && opts.state === false) continue;
    out.push({ name: t.name, shape: t.shape, source: t.name, sourceShape: t.shape, make: (src) => src });
  }
  for (const t of layout.poolTensors) {
    const gs = groupingsFor(t.pool, t.param);
    const fine = gs[0]!;
    const coarsest = (): Grouping => gs.find((g) => g.kind === "concat") ?? gs.find((g) => g.kind === "coarse") ?? fine;
    const g = form === "stacked" || form === "per-member" ? fine : coarsest();
    const whole = form === "stacked" || (form === "stacked-coarse" && g.kind !== "concat") ? "stacked" : g.kind === "concat" ? "concat" : "members";
    const part = (src: Float32Array, gi: number): Float32Array => {
      const p = gatherGroup(t.param.layout, t.pool, g, gi, src);
      if (!(p instanceof Float32Array)) {
        throw new Error(`canonicalToFile: ${t.name} of expert ${p.unrepresentable} is not zero, so ${t.pool.key} cannot be written with one ${t.param.name} per ${g.kind === "concat" ? "pool" : "coarse expert"}.`);
      }
      return p;
    };
    const gshape = groupShape(t.pool, t.param, g);
    const from = { source: t.name, sourceShape: t.shape };
    if (whole === "members") {
      for (let gi = 0; gi < g.groups; gi++) out.push({ name: `${t.pool.key}.${gi}.${t.param.name}`, shape: gshape, ...from, make: (src) => part(src, gi) });
    } else if (whole === "concat") {
      out.push({ name: t.name, shape: gshape, ...from, make: (src) => part(src, 0) });
    } else {
      out.push({
        name: t.name,
        shape: [g.groups, ...gshape],
        ...from,
        make(src) {
          const parts = Array.from({ length: g.groups }, (_, gi) => part(src, gi));
          const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
          let at = 0;
          for (const p of parts) {
            all.set(p, at);
            at += p.length;
          }
          return all;
        },
      });
    }
  }
  return out;
}
