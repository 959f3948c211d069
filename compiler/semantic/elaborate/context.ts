// What every part of the walk shares: the Elaborator's caches (ElabContext), scopes and bindings,
// the per-declaration Frame, declaring names and weight owners, and the diagnostics sink.
import type * as A from "../../syntax/ast.js";
import type { Diagnostic, Label } from "../../diagnostics/diagnostic.js";
import type { Registry } from "../../../stdlib/registry.js";
import type { Unit } from "../module-loader.js";
import type { Value, Dim, PoolValue, RouterValue } from "../values.js";
import type { Instance } from "../instance.js";
import type { IrBuilder } from "../../ir/ir-builder.js";
import type { IrRouter } from "../../ir/ir.js";
import type { DecodingGraph } from "../../ir/decoding-graph.js";

interface Binding {
  value: Value;
  span: A.Span;
  kind: "hyper" | "tensor" | "let" | "pool" | "router";
  /** `let` names bound to an embedding, for `lm_head(tied = NAME)`. */
  embeddingOf?: string;
}

export class Scope {
  readonly vars = new Map<string, Binding>();
  constructor(readonly parent?: Scope) {}
  lookup(name: string): { binding: Binding; scope: Scope } | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const b = s.vars.get(name);
      if (b) return { binding: b, scope: s };
    }
    return undefined;
  }
}

export interface LayerOutput {
  /** Single output, or a record's outputs by key. */
  single?: Value;
  record?: { name: string; value: Value }[];
  /** A graph over token ids: its decoding graph (§11.2), checked. */
  decoding?: DecodingGraph;
}

export interface ElabResult {
  instance: Instance;
  output: LayerOutput;
  diagnostics: Diagnostic[];
  /** Tensor parameters as bound (for calls: to compare with the arguments). */
  tensorParams: { name: string; tokens: Dim; width: Dim | undefined; span: A.Span }[];
  /** Hyper-parameter values used. */
  hyper: Map<string, Value>;
}

/** What one Elaborator shares across every walk: the unit, the registry and the caches. */
export interface ElabContext {
  readonly unit: Unit;
  readonly registry: Registry;
  readonly constCache: Map<A.ConstDecl, Value | "pending">;
  readonly callCache: Map<string, ElabResult>;
  readonly defaultsCache: Map<A.LayerDecl | A.GraphDecl, ElabResult>;
  /** Declarations being elaborated, outermost first (to stop recursive layers and graphs). */
  readonly inProgress: (A.LayerDecl | A.GraphDecl)[];
  /** Pools and routers as first elaborated (at defaults when checking), for editor hovers. */
  readonly poolsByDecl: Map<A.PoolDecl, PoolValue>;
  readonly routersByDecl: Map<A.RouterDecl, RouterValue>;
}

/** Options of one elaboration; `emit` also lowers it to IR. */
export interface ElabOptions { defaults?: boolean; emit?: IrBuilder; irPath?: string; inputs?: Value[]; entry?: boolean; agentCounter?: { n: number } }

export interface Frame {
  ctx: ElabContext;
  file: string;
  decl: A.LayerDecl | A.GraphDecl;
  scope: Scope;
  instance: Instance;
  iterSuffix: string;
  irPath: string;
  emit?: IrBuilder;
  isModel: boolean;
  diags: Diagnostic[];
  ownerNames: Map<string, A.Span>;
  pools: PoolValue[];
  routers: RouterValue[];
  reports: string[];
  /** Shared by reference with inner blocks, so `loss` anywhere in the body reaches every router. */
  loss: { coef?: number };
  /** Routers of this layer as IR, so reports/losses declared anywhere in the body apply to all. */
  irRouters: IrRouter[];
  agentCounter: { n: number };
}

/** Declares a local name; false (after reporting) when it is already declared. */
export function declareLocal(name: A.Ident, binding: Binding, frame: Frame): boolean {
  const here = frame.scope.vars.get(name.name);
  const outer = frame.scope.parent?.lookup(name.name);
  const prev = here ?? outer?.binding;
  if (prev) {
    err(frame, "E0213", here ? `\`${name.name}\` is already declared in this scope` : `\`${name.name}\` is already declared in the enclosing ${frame.isModel ? "model" : "layer"}; a block may not re-declare it`, name.span, {
      label: "declared again here",
      secondary: [{ file: frame.file, span: prev.span, message: "first declared here" }],
      help: prev.kind === "let" || prev.kind === "tensor" ? `to give \`${name.name}\` a new value, write \`${name.name} = …\` without \`let\`` : undefined,
    });
    return false;
  }
  frame.scope.vars.set(name.name, binding);
  return true;
}

/** Claims the weight prefix NAME (plus the `iterate` pass) for one owner; two claims are an error. */
export function ownerName(name: string, frame: Frame, span: A.Span): string {
  const full = name + frame.iterSuffix;
  const prev = frame.ownerNames.get(full);
  if (prev && !frame.scope.vars.has(name)) {
    err(frame, "E0214", `two declarations would own weights named \`${full}.…\``, span, { label: "owns the same weight names", secondary: [{ file: frame.file, span: prev, message: "the other owner" }] });
  } else {
    frame.ownerNames.set(full, span);
  }
  return full;
}

// Diagnostics collect per frame: a call re-reports its callee's new errors at the call, and
// `iterate` keeps those of its first pass only.
export function err(frame: Frame, code: string, message: string, span: A.Span, extra: { label?: string; secondary?: Label[]; help?: string } = {}): void {
  frame.diags.push({ code, severity: "error", message, file: frame.file, span, label: extra.label, secondary: extra.secondary ?? [], help: extra.help });
}

export function warn(frame: Frame, code: string, message: string, span: A.Span, extra: { label?: string; secondary?: Label[]; help?: string } = {}): void {
  frame.diags.push({ code, severity: "warning", message, file: frame.file, span, label: extra.label, secondary: extra.secondary ?? [], help: extra.help });
}

/** The error sink `bindArgs` reports through. */
export function sink(frame: Frame) {
  return { error: (code: string, message: string, span: A.Span, extra?: { label?: string; help?: string }) => err(frame, code, message, span, extra) };
}

/** How a message names an expression that is out of place. */
export function exprWhat(e: A.Expr): string {
  switch (e.kind) {
    case "Number": return `the number ${e.text}`;
    case "String": return "a string";
    case "Bool": return `\`${e.value}\``;
    case "Call": return `\`${e.callee.name}\``;
    case "Binary": return `an expression with \`${e.op}\``;
    case "Unary": return "a negation";
    case "List": return "a list";
    case "Record": return "a record";
    case "ErrorExpr": return "an invalid expression";
  }
}
