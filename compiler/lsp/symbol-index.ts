// Resolves every identifier of a unit's files to what it names — a declaration in some file, or a
// standard-library/plugin stage, expert kind or built-in — by the same positional rules as the
// checker (LANGUAGE.md §2). Editor features (definition, references, rename, hover, semantic
// tokens) read this index instead of re-walking the AST.
import type * as A from "../syntax/ast.js";
import type { Unit } from "../semantic/module-loader.js";
import type { Registry } from "../../stdlib/registry.js";
import { BUILTIN_FUNCTIONS } from "../../stdlib/registry.js";
import { BLOCKS } from "../semantic/blocks.js";

export type DefKind = "layer" | "model" | "graph" | "const" | "hyper" | "tensor" | "let" | "pool" | "shared" | "router" | "repeat";

export interface SymbolDef {
  name: string;
  kind: DefKind;
  file: string;
  /** The declaring identifier. */
  span: A.Span;
  /** The whole declaration. */
  declSpan: A.Span;
  /** Enclosing layer/model/graph name, for nested declarations. */
  container?: string;
  node: A.Decl | A.Stmt | A.Param;
}

export type BuiltinKind = "stage" | "expertKind" | "function" | "block" | "enum";

export interface SymbolRef {
  file: string;
  span: A.Span;
  def?: SymbolDef;
  builtin?: { kind: BuiltinKind; name: string };
  /** The defining occurrence itself. */
  isDef: boolean;
}

export interface SymbolIndex {
  defs: SymbolDef[];
  /** Per file, sorted by start offset. */
  refs: Map<string, SymbolRef[]>;
}

class LexScope {
  readonly names = new Map<string, SymbolDef>();
  constructor(readonly parent?: LexScope) {}
  get(n: string): SymbolDef | undefined {
    return this.names.get(n) ?? this.parent?.get(n);
  }
}

export function buildSymbolIndex(unit: Unit, registry: Registry): SymbolIndex {
  const index: SymbolIndex = { defs: [], refs: new Map() };
  const fileDefs = new Map<string, Map<string, SymbolDef>>();

  // Pass 1: top-level declarations of every file.
  for (const [file, sf] of unit.files) {
    const m = new Map<string, SymbolDef>();
    for (const d of sf.program.decls) {
      if (d.kind === "Import") continue;
      const kind: DefKind = d.kind === "Const" ? "const" : d.kind === "Graph" ? "graph" : d.kind === "Model" ? "model" : "layer";
      const def: SymbolDef = { name: d.name.name, kind, file, span: d.name.span, declSpan: d.span, node: d };
      if (!m.has(d.name.name)) m.set(d.name.name, def);
      index.defs.push(def);
    }
    fileDefs.set(file, m);
  }

  // Pass 2: references, file by file.
  for (const [file, sf] of unit.files) {
    const refs: SymbolRef[] = [];
    const add = (r: Omit<SymbolRef, "file">) => refs.push({ file, ...r });
    const top = new LexScope();
    for (const def of fileDefs.get(file)!.values()) {
      top.names.set(def.name, def);
      add({ span: def.span, def, isDef: true });
    }
    // Imported names point at their declaration in the other file.
    for (const d of sf.program.decls) {
      if (d.kind !== "Import") continue;
      for (const n of d.names) {
        if (d.from.value === "std") {
          add({ span: n.span, builtin: builtinOf(n.name, registry), isDef: false });
          continue;
        }
        const entry = unit.scopes.get(file)?.names.get(n.name);
        const target = entry ? fileDefs.get(entry.file)?.get(n.name) : undefined;
        if (target) {
          top.names.set(n.name, target);
          add({ span: n.span, def: target, isDef: false });
        }
      }
    }

    const local = (name: A.Ident, kind: DefKind, node: SymbolDef["node"], declSpan: A.Span, scope: LexScope, container: string) => {
      const def: SymbolDef = { name: name.name, kind, file, span: name.span, declSpan, container, node };
      index.defs.push(def);
      if (!scope.names.has(name.name)) scope.names.set(name.name, def);
      add({ span: name.span, def, isDef: true });
    };

    const expr = (e: A.Expr | undefined, scope: LexScope, pos: "value" | "kind" | "stage" | "agent" = "value"): void => {
      if (!e) return;
      switch (e.kind) {
        case "Call": {
          const n = e.callee.name;
          const local = scope.get(n);
          if (pos === "stage") add({ span: e.callee.span, builtin: registry.stages.has(n) ? { kind: "stage", name: n } : undefined, isDef: false });
          else if (pos === "kind") add({ span: e.callee.span, builtin: registry.expertKinds.has(n) ? { kind: "expertKind", name: n } : undefined, isDef: false });
          else if (local) add({ span: e.callee.span, def: local, isDef: false });
          else {
            const b = builtinOf(n, registry);
            if (b) add({ span: e.callee.span, builtin: b, isDef: false });
          }
          for (const a of e.args ?? []) {
            // A named argument's value may be an enum word (`act = swiglu`): only names in scope resolve.
            if (a.name && a.value.kind === "Call" && a.value.args === undefined && !scope.get(a.value.callee.name)) {
              add({ span: a.value.callee.span, builtin: { kind: "enum", name: a.value.callee.name }, isDef: false });
              continue;
            }
            if (!a.name && a.value.kind === "Call" && a.value.args === undefined && pos === "stage" && !scope.get(a.value.callee.name)) {
              add({ span: a.value.callee.span, builtin: { kind: "enum", name: a.value.callee.name }, isDef: false });
              continue;
            }
            expr(a.value, scope, pos === "agent" ? "value" : "value");
          }
          break;
        }
        case "Binary":
          if (pos === "stage" || pos === "agent") {
            expr(e.left, scope, pos);
            expr(e.right, scope, pos === "agent" && e.op === "|>" ? "value" : pos);
          } else {
            expr(e.left, scope, pos);
            expr(e.right, scope, pos);
          }
          break;
        case "Unary": expr(e.operand, scope, pos); break;
        case "List": e.items.forEach((i) => expr(i, scope, pos)); break;
        case "Record": e.fields.forEach((f) => expr(f.value, scope)); break;
      }
    };

    const body = (stmts: A.Stmt[], scope: LexScope, container: string): void => {
      for (const s of stmts) {
        switch (s.kind) {
          case "PoolDecl":
            expr(s.count, scope);
            expr(s.expert, scope, "kind");
            expr(s.split, scope);
            local(s.name, s.shared ? "shared" : "pool", s, s.span, scope, container);
            break;
          case "RouterDecl":
            expr(s.pipeline, scope, "stage");
            local(s.name, "router", s, s.span, scope, container);
            break;
          case "Let":
            expr(s.value, scope);
            local(s.name, "let", s, s.span, scope, container);
            break;
          case "Assign": {
            expr(s.value, scope);
            const d = scope.get(s.name.name);
            if (d) add({ span: s.name.span, def: d, isDef: false });
            break;
          }
          case "Iterate":
            expr(s.count, scope);
            body(s.body, new LexScope(scope), container);
            break;
          case "Repeat": {
            expr(s.count, scope);
            expr(s.from, scope);
            const inner = new LexScope(scope);
            local(s.as, "repeat", s, s.span, new LexScope(), container);
            body(s.body, inner, container);
            break;
          }
          case "Loss": break;
          case "Report": break;
          case "Return": expr(s.value, scope); break;
        }
      }
    };

    for (const d of sf.program.decls) {
      if (d.kind === "Const") expr(d.value, top);
      if (d.kind !== "Layer" && d.kind !== "Model" && d.kind !== "Graph") continue;
      const scope = new LexScope(top);
      for (const p of d.params) {
        if (p.kind === "HyperParam") {
          expr(p.default, scope);
          local(p.name, "hyper", p, p.span, scope, d.name.name);
        }
      }
      for (const p of d.params) {
        if (p.kind === "TensorParam") {
          for (const dim of p.dims) expr(dim, scope);
          local(p.name, "tensor", p, p.span, scope, d.name.name);
        }
      }
      if (d.kind === "Graph") expr(d.topology, scope, "agent");
      else body(d.body, scope, d.name.name);
    }
    refs.sort((a, b) => a.span.start - b.span.start);
    index.refs.set(file, refs);
  }
  return index;
}

function builtinOf(name: string, registry: Registry): SymbolRef["builtin"] {
  if ((BUILTIN_FUNCTIONS.elementwise as readonly string[]).includes(name) || name === "moe" || name === "parallel") return { kind: "function", name };
  if (BLOCKS[name]) return { kind: "block", name };
  if (registry.expertKinds.has(name)) return { kind: "expertKind", name };
  if (registry.stages.has(name)) return { kind: "stage", name };
  return undefined;
}

/** The reference under an offset (inclusive of the end, so a cursor right after a name counts). */
export function refAt(index: SymbolIndex, file: string, offset: number): SymbolRef | undefined {
  const refs = index.refs.get(file) ?? [];
  let best: SymbolRef | undefined;
  for (const r of refs) {
    if (r.span.start <= offset && offset <= r.span.end) best = r;
    if (r.span.start > offset) break;
  }
  return best;
}

/** Every occurrence (definition included) of the symbol a definition declares. */
export function occurrences(index: SymbolIndex, def: SymbolDef): SymbolRef[] {
  const out: SymbolRef[] = [];
  for (const refs of index.refs.values()) for (const r of refs) if (r.def === def) out.push(r);
  return out;
}
