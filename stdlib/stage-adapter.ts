// A plugin-API StageSpec → the checker's StageDef. The standard library and every plugin go
// through this one function, so a plugin stage is checked, completed and counted exactly like
// a built-in one.
import type { Args, StageKind, StageSpec, StateSpec } from "@moec/plugin-api";
import type { ArgValues, StageDef, StageIssue, StageRole, TensorShape } from "./registry.js";

export function kindsOf(spec: StageSpec): StageKind[] {
  return (Array.isArray(spec.kind) ? [...spec.kind] : [spec.kind]) as StageKind[];
}

/** The stage's state vectors at these arguments (a list, or a function of them). */
export function stateSpecs(spec: StageSpec, args: Args, E: number): readonly StateSpec[] {
  const s = spec.state;
  if (!s) return [];
  return typeof s === "function" ? s(args, E) : s;
}

export function stateLength(st: StateSpec, args: Args, E: number): number {
  return st.length ? st.length(args, E) : E;
}

export function stageDefFromSpec(spec: StageSpec, source: string): StageDef {
  const def: StageDef = {
    name: spec.name,
    roles: kindsOf(spec) as StageRole[],
    params: (spec.params ?? []).map((p) => ({ ...p })),
    scope: spec.scope ?? "token",
    doc: spec.doc,
    source,
    spec,
  };
  if (spec.check) {
    const check = spec.check;
    def.check = (args: ArgValues, E: number): StageIssue[] =>
      check(args, E).map((i) => (typeof i === "string" ? { message: i } : { message: i.message, param: i.param, help: i.help }));
  }
  if (spec.weights || spec.state) {
    def.weights = (args: ArgValues, E: number, D: number): TensorShape[] => [
      ...(spec.weights?.(args, E, D) ?? []).map((w) => ({ name: w.name, shape: [...w.shape], matmul: w.matmul })),
      ...stateSpecs(spec, args, E).map((st) => ({
        name: st.name,
        shape: [stateLength(st, args, E)],
        state: true,
        init: st.init === 1 ? ("ones" as const) : ("zeros" as const),
      })),
    ];
  }
  if (spec.active) def.active = spec.active;
  if (spec.maxPerToken) def.maxPerToken = spec.maxPerToken;
  return def;
}
