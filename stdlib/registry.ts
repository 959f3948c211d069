// The registry the checker reads: expert kinds, router stages and their typed parameters.
// The standard library registers itself here through the same interface that plugins use, so a
// plugin stage is checked, completed and counted exactly like a built-in one.

import type { ExpertKindSpec, StageSpec } from "@moec/plugin-api";

export type ParamType = "int" | "number" | "bool" | "string" | "enum";

export interface ParamSpec {
  name: string;
  type: ParamType;
  /** Vocabulary of an enum parameter. */
  values?: readonly string[];
  default?: number | boolean | string;
  /** Lower bound; `minExclusive` makes it strict. */
  min?: number;
  minExclusive?: boolean;
  max?: number;
  /** Whether the argument may be given positionally (in declaration order). */
  positional?: boolean;
  /** May be left out although it has no default (the checker derives it, e.g. `max` = pool size). */
  optional?: boolean;
  doc: string;
}

export type ArgValues = Record<string, number | boolean | string>;

export interface TensorShape {
  /** Relative name under the owner (`w_gate`, `weight`, `0.weight`, `e_bias`). */
  name: string;
  shape: number[];
  state?: boolean;
  /** State only: the value of every element when no file has the tensor. */
  init?: "zeros" | "ones";
  /** Whether the tensor is a matrix used in products (counted in FLOPs). */
  matmul?: boolean;
}

export interface StageIssue {
  message: string;
  /** Name of the argument the issue is about; the checker points at it when it was written. */
  param?: string;
  help?: string;
}

export type StageRole = "score" | "transform" | "select" | "post";

export interface ActiveCount {
  count: number;
  /** How the count is to be read (LANGUAGE.md §9). */
  label: "exact" | "upper bound" | "expectation";
}

export interface StageDef {
  name: string;
  /** Roles the stage may play; `softmax` is a transform before the select and a post-select after it. */
  roles: readonly StageRole[];
  params: readonly ParamSpec[];
  /** `run`: the stage needs the whole batch (expert choice). */
  scope?: "token" | "run";
  doc: string;
  /** Checks against the pool size E; returns issues (empty when fine). */
  check?(args: ArgValues, experts: number): StageIssue[];
  /** Score stages: weights owned under the router's prefix, for D inputs and E experts. */
  weights?(args: ArgValues, experts: number, dim: number): TensorShape[];
  /** Select stages: how many experts a token gets (for §9 counting). */
  active?(args: ArgValues, experts: number): ActiveCount;
  /** Select stages: static bound on experts per token. */
  maxPerToken?(args: ArgValues, experts: number): number;
  /** Where it came from: `std` or a plugin's name@version. */
  source: string;
  /** The full stage (plugin API): reference, WGSL, state; what the runtime executes. */
  spec?: StageSpec;
}

export interface ExpertKindDef {
  name: string;
  params: readonly ParamSpec[];
  doc: string;
  /** Per-expert weights for input size D. */
  weights(args: ArgValues, dim: number): TensorShape[];
  /** Issues with the arguments (e.g. rank < 1). */
  check?(args: ArgValues): StageIssue[];
  /** Whether `split M` applies, and the parameter it divides. */
  splits?: string;
  source: string;
  /** The full kind (plugin API): IR form, tensors, GPU form, reference; what the runtime executes. */
  spec: ExpertKindSpec;
}

export class Registry {
  readonly stages = new Map<string, StageDef>();
  readonly expertKinds = new Map<string, ExpertKindDef>();

  addStage(def: StageDef): void {
    const prev = this.stages.get(def.name);
    if (prev) throw new RegistryError(`router stage \`${def.name}\` is registered twice: by ${prev.source} and by ${def.source}`);
    this.stages.set(def.name, def);
  }
  addExpertKind(def: ExpertKindDef): void {
    const prev = this.expertKinds.get(def.name);
    if (prev) throw new RegistryError(`expert kind \`${def.name}\` is registered twice: by ${prev.source} and by ${def.source}`);
    this.expertKinds.set(def.name, def);
  }
}

export class RegistryError extends Error {}

/** Names every file sees without importing them: built-in functions and blocks (LANGUAGE.md §3, §13). */
export const BUILTIN_FUNCTIONS = {
  elementwise: ["sigmoid", "silu", "gelu", "relu", "softmax"],
  weightOwning: ["linear", "embed", "rmsnorm", "layernorm", "attention", "mla", "lm_head"],
  special: ["moe", "parallel"],
} as const;

export const REPORT_NAMES = ["load", "importance", "active_k", "entropy", "maxvio", "drop_rate"] as const;
export const LOSS_NAMES = ["balance"] as const;
export const PER_UNITS_SUPPORTED = ["token", "sequence"] as const;
export const PER_UNITS_LATER = ["task", "batch"] as const;
export const GRAPH_COMBINERS = ["mean", "sum"] as const;
