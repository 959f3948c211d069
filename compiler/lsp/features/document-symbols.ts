// The outline: layers, models, graphs and constants, with their pools, routers and lets inside.
import type { DocumentSymbol } from "vscode-languageserver";
import { SymbolKind } from "vscode-languageserver";
import type { Analysis } from "../analysis.js";
import { toRange } from "../analysis.js";
import type * as A from "../../syntax/ast.js";

export function documentSymbols(a: Analysis): DocumentSymbol[] {
  const sf = a.compilation.unit.files.get(a.file);
  if (!sf) return [];
  const lines = a.lines(a.file);
  const sym = (name: string, detail: string, kind: SymbolKind, span: A.Span, sel: A.Span, children: DocumentSymbol[] = []): DocumentSymbol => ({
    name, detail, kind, range: toRange(lines, span), selectionRange: toRange(lines, sel), children,
  });
  const body = (stmts: A.Stmt[]): DocumentSymbol[] => {
    const out: DocumentSymbol[] = [];
    for (const s of stmts) {
      const text = sf.text.slice(s.span.start, s.span.end).split("\n")[0]!.trim();
      if (s.kind === "PoolDecl") out.push(sym(s.name.name, text, s.shared ? SymbolKind.Struct : SymbolKind.Array, s.span, s.name.span));
      else if (s.kind === "RouterDecl") out.push(sym(s.name.name, text, SymbolKind.Interface, s.span, s.name.span));
      else if (s.kind === "Let") out.push(sym(s.name.name, text, SymbolKind.Variable, s.span, s.name.span));
      else if (s.kind === "Iterate") out.push(...body(s.body));
      else if (s.kind === "Repeat") out.push(sym(s.as.name, `repeat as ${s.as.name}`, SymbolKind.Namespace, s.span, s.as.span, body(s.body)));
    }
    return out;
  };
  const out: DocumentSymbol[] = [];
  for (const d of sf.program.decls) {
    if (d.kind === "Import") continue;
    if (d.kind === "Const") out.push(sym(d.name.name, "const", SymbolKind.Constant, d.span, d.name.span));
    else if (d.kind === "Graph") out.push(sym(d.name.name, "graph", SymbolKind.Module, d.span, d.name.span));
    else out.push(sym(d.name.name, d.kind === "Model" ? "model" : "layer", d.kind === "Model" ? SymbolKind.Class : SymbolKind.Function, { start: d.span.start, end: d.endSpan.end }, d.name.span, body(d.body)));
  }
  return out;
}
