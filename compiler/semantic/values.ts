// Compile-time values of the elaborator. A layer body is checked by evaluating it at concrete
// hyper-parameter bindings; tensors carry shapes (and an IR value when lowering).
import type * as A from "../syntax/ast.js";
import type { ValueId } from "../ir/ir.js";
import type { ActiveCount, ArgValues, ExpertKindDef, StageDef, TensorShape } from "../../stdlib/registry.js";

/** A dimension: a number, or a symbolic name (like `T`) that may size tensors but never weights. */
export type Dim = number | string;

export type Value =
  | { t: "int"; v: number }
  | { t: "float"; v: number }
  | { t: "bool"; v: boolean }
  | { t: "string"; v: string }
  /** A hyper-parameter with no value at this binding (checking a layer at its defaults). */
  | { t: "unknown" }
  | { t: "sym"; name: string }
  | { t: "tensor"; tokens: Dim; width: Dim | undefined; ir?: ValueId }
  | { t: "pool"; pool: PoolValue }
  | { t: "router"; router: RouterValue }
  | { t: "callable"; decl: A.LayerDecl | A.GraphDecl; file: string }
  /** Poison: an error was already reported; suppress follow-on errors. */
  | { t: "error" };

export interface ExpertSpec {
  kind: ExpertKindDef;
  args: ArgValues;
  span: A.Span;
}

/** A layer (or graph) listed as a member of a heterogeneous pool, named with hyper-parameters. */
export interface AgentMemberDecl {
  call: A.Call;
  decl: A.LayerDecl | A.GraphDecl;
  file: string;
}

export interface PoolValue {
  name: string;
  /** Full weight prefix (`E`, `m.E`, `layers.3.mlp.E`). */
  key: string;
  shared: boolean;
  /** Fine experts after split, or undefined when the count could not be evaluated. */
  count: number | undefined;
  /** One spec per member for heterogeneous pools; one for homogeneous ones. */
  experts: ExpertSpec[];
  heterogeneous: boolean;
  /** Agents as experts (§11.1): member j's layer or graph where the list names one (its `experts`
   *  entry is then a weightless placeholder); undefined for members that are expert kinds. */
  agents?: (AgentMemberDecl | undefined)[];
  split: number;
  decl: A.PoolDecl;
  /** Input size fixed by the first application. */
  dim?: number;
  owner?: Owner;
  uses: { active: ActiveCount; span: A.Span }[];
  /** Named by a `moe` call or applied, even where that use had errors (no "never used" warning). */
  referenced?: boolean;
  /** Declared again in the same scope (reported as a duplicate). */
  duplicate?: boolean;
}

export interface StageUse {
  def: StageDef;
  role: "score" | "transform" | "select" | "post";
  args: ArgValues;
  call: A.Call;
  /** Span of each written argument by parameter name, to point errors at them. */
  argSpans: Record<string, A.Span>;
}

export interface RouterValue {
  name: string;
  key: string;
  stages: StageUse[];
  decl: A.RouterDecl;
  usedBy?: A.Span;
  valid: boolean;
  /** The `iterate` pass it was declared in (`""` outside any). */
  iterSuffix: string;
  /** `per sequence` (§11.1): one decision per run from the mean of its input; absent: per token. */
  unit?: "sequence";
  /** Named by a `moe` call, even where that call had errors (no "unused" warning). */
  referenced?: boolean;
  /** Declared again in the same scope (reported as a duplicate). */
  duplicate?: boolean;
}

/** Something that owns weights under a prefix (relative to its instance). */
export interface Owner {
  prefix: string;
  category: OwnerCategory;
  /** Pools: members, each with its own (fine) tensors; others: one member. */
  members: TensorShape[][];
  /** Multiply-adds per token of one application of one member. */
  macs: number[];
  span: A.Span;
  file: string;
  /** Pools: how many members a token activates (filled after the body is elaborated). */
  active?: ActiveCount;
  /** Shared pool, dense block or linear: applications per token (FLOPs). */
  applications: number;
  /** Routed pools: experts computed per token by each `moe` call (FLOPs count every application). */
  uses?: ActiveCount[];
  /** What the owner is, for reports and drawings (`moec info`, `moec draw`). */
  info?: OwnerInfo;
}

export interface OwnerInfo {
  /** Block or expert kind (`attention`, `ffn`), `mixed` for a heterogeneous pool, or `router`. */
  kind: string;
  /** Evaluated arguments of the block or expert kind; one per member for a heterogeneous pool. */
  args: ArgValues[];
  /** A heterogeneous pool's member kinds, in order. */
  kinds?: string[];
  /** A pool's `split M`. */
  split?: number;
  /** A router's stages, in pipeline order. */
  stages?: StageUse[];
}

export type OwnerCategory =
  | "experts" | "shared" | "router" | "linear" | "dense_ffn"
  | "embedding" | "attention" | "norm" | "lm_head";

export function describeValue(v: Value): string {
  switch (v.t) {
    case "int": return `the integer ${v.v}`;
    case "float": return `the number ${v.v}`;
    case "bool": return `the boolean ${v.v}`;
    case "string": return `a string`;
    case "unknown": return "a hyper-parameter without a value";
    case "sym": return `the symbolic dimension ${v.name}`;
    case "tensor": return `a tensor ${shapeText(v)}`;
    case "pool": return v.pool.shared ? `the shared pool \`${v.pool.name}\`` : `the expert pool \`${v.pool.name}\``;
    case "router": return `the router \`${v.router.name}\``;
    case "callable": return `the ${v.decl.kind === "Graph" ? "graph" : v.decl.kind === "Model" ? "model" : "layer"} \`${v.decl.name.name}\``;
    case "error": return "an erroneous value";
  }
}

export function shapeText(v: { tokens: Dim; width: Dim | undefined }): string {
  return v.width === undefined ? `[${v.tokens}]` : `[${v.tokens}, ${v.width}]`;
}

export function product(shape: number[]): number {
  let p = 1;
  for (const s of shape) p *= s;
  return p;
}
