// A plugin-API ExpertKindSpec → the checker's ExpertKindDef. The standard library and every plugin
// go through this one function (like stage-adapter.ts for stages), so a plugin kind is checked,
// counted and listed exactly like a built-in one.
import type { ExpertKindSpec, ExpertTensorLayout } from "@moec/plugin-api";
import type { ArgValues, ExpertKindDef, StageIssue, TensorShape } from "../registry.js";

/** Shape of a tensor of `layout` for an expert (or a group of experts) of h hidden units over D inputs. */
export function layoutShape(layout: ExpertTensorLayout, D: number, h: number): number[] {
  switch (layout) {
    case "rows":
      return [h, D];
    case "cols":
      return [D, h];
    case "hvec":
      return [h];
    case "ovec":
    case "dvec":
      return [D];
  }
}

export function expertKindDefFromSpec(spec: ExpertKindSpec, source: string): ExpertKindDef {
  const def: ExpertKindDef = {
    name: spec.name,
    params: (spec.params ?? []).map((p) => ({ ...p })),
    doc: spec.doc,
    weights(args: ArgValues, dim: number): TensorShape[] {
      const f = spec.form(args);
      return spec.tensors(f, dim).map((t) => ({ name: t.name, shape: layoutShape(t.layout, dim, f.hidden), ...(t.matmul ? { matmul: true } : {}) }));
    },
    splits: spec.splits,
    source,
    spec,
  };
  if (spec.check) {
    const check = spec.check;
    def.check = (args: ArgValues): StageIssue[] => check(args).map((i) => (typeof i === "string" ? { message: i } : { message: i.message, param: i.param, help: i.help }));
  }
  return def;
}
