// The standard expert kinds (LANGUAGE.md §4), each one ExpertKindSpec (plugin API) read by every
// consumer: the checker (through kind-adapter.ts), the IR lowering (`form`), the weight layout
// and binder (`tensors`), the GPU lowerings (`gpu`, `schedule`) and the float64 reference
// (`reference`). Plugin kinds are the same objects; they travel with the pools that use them
// (IrPool.pluginKind), so the runtime needs no process-wide table.
import type { ExpertForm, ExpertKindSpec } from "@moec/plugin-api";
import { ATOM } from "./atom.js";
import { FFN } from "./ffn.js";
import { LOWRANK } from "./lowrank.js";
import { IDENTITY, ZERO } from "./null-experts.js";

export { ALL_ACTS, GATED_ACTS, PLAIN_ACTS, act64, isGatedAct, unit64 } from "./acts.js";

export const STD_EXPERT_KINDS: readonly ExpertKindSpec[] = [FFN, ATOM, LOWRANK, IDENTITY, ZERO];

const std = new Map(STD_EXPERT_KINDS.map((k) => [k.name, k]));

export const isStdExpertKind = (name: string): boolean => std.has(name);

/** A plugin's expert kind as a pool carries it: the spec and where it came from (`name@version`). */
export interface PluginKind {
  spec: ExpertKindSpec;
  source: string;
}

/** The spec of a pool's (or member's) kind: the standard library's, else the plugin kind it carries. */
export function expertKindOf(p: { kind: string; pluginKind?: PluginKind }): ExpertKindSpec {
  const k = std.get(p.kind) ?? (p.pluginKind?.spec.name === p.kind ? p.pluginKind.spec : undefined);
  if (!k) throw new Error(`no implementation of expert kind '${p.kind}' is loaded (is its plugin loaded?)`);
  return k;
}

/** The IR form of a pool or member (its hidden units, activation and bias). */
export const formOf = (p: { hidden: number; act: ExpertForm["act"]; bias: boolean }): ExpertForm => ({ hidden: p.hidden, act: p.act, bias: p.bias });
