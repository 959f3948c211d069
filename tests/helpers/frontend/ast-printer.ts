// A compact, readable print of the AST for golden files: one node per line, indented by depth,
// with its kind, name/operator/value and its half-open span as `[line:col-line:col)` (1-based,
// UTF-16 columns, the end just past the last character). Fields that hold a node are printed as
// `field: Node …` so that the role of each child is visible without reading the AST types.
import type * as A from "../../../compiler/syntax/ast.js";
import { LineIndex } from "../../../compiler/diagnostics/line-index.js";

export function printAst(program: A.Program, text: string): string {
  const ix = new LineIndex(text);
  const out: string[] = [];
  const span = (s: A.Span): string => {
    const a = ix.position(s.start);
    const b = ix.position(s.end);
    return `[${a.line}:${a.column}-${b.line}:${b.column})`;
  };
  const line = (depth: number, s: string) => out.push("  ".repeat(depth) + s);

  const expr = (e: A.Expr, depth: number, role = ""): void => {
    const r = role ? role + ": " : "";
    switch (e.kind) {
      case "Number":
        line(depth, `${r}Number ${e.text}${e.isFloat ? " (float)" : ""} = ${e.value} ${span(e.span)}`);
        return;
      case "String":
        line(depth, `${r}String ${JSON.stringify(e.value)} ${span(e.span)}`);
        return;
      case "Bool":
        line(depth, `${r}Bool ${e.value} ${span(e.span)}`);
        return;
      case "ErrorExpr":
        line(depth, `${r}ErrorExpr ${span(e.span)}`);
        return;
      case "Call":
        if (e.args === undefined) {
          line(depth, `${r}Name ${e.callee.name} ${span(e.span)}`);
          return;
        }
        line(depth, `${r}Call ${e.callee.name}(${e.args.length} arg${e.args.length === 1 ? "" : "s"}) ${span(e.span)} callee ${span(e.callee.span)}`);
        for (const a of e.args) {
          if (a.name) {
            line(depth + 1, `Arg ${a.name.name} ${span(a.span)}`);
            expr(a.value, depth + 2);
          } else expr(a.value, depth + 1, "arg");
        }
        return;
      case "Binary":
        line(depth, `${r}Binary ${e.op} ${span(e.span)} op ${span(e.opSpan)}`);
        expr(e.left, depth + 1);
        expr(e.right, depth + 1);
        return;
      case "Unary":
        line(depth, `${r}Unary ${e.op} ${span(e.span)}`);
        expr(e.operand, depth + 1);
        return;
      case "List":
        line(depth, `${r}List(${e.items.length}) ${span(e.span)}`);
        for (const it of e.items) expr(it, depth + 1);
        return;
      case "Record":
        line(depth, `${r}Record(${e.fields.length}) ${span(e.span)}`);
        for (const f of e.fields) {
          line(depth + 1, `Field ${f.name.name} ${span(f.span)}`);
          expr(f.value, depth + 2);
        }
        return;
    }
  };

  const stmt = (s: A.Stmt, depth: number): void => {
    switch (s.kind) {
      case "PoolDecl":
        line(depth, `${s.shared ? "Shared" : "Experts"} ${s.name.name} ${span(s.span)} keyword ${span(s.keywordSpan)}`);
        if (s.count) expr(s.count, depth + 1, "count");
        expr(s.expert, depth + 1, "expert");
        if (s.split) expr(s.split, depth + 1, "split");
        return;
      case "RouterDecl":
        line(depth, `Router ${s.name.name}${s.per ? ` per ${s.per.name}` : ""} ${span(s.span)}`);
        expr(s.pipeline, depth + 1, "pipeline");
        return;
      case "Let":
        line(depth, `Let ${s.name.name} ${span(s.span)}`);
        expr(s.value, depth + 1);
        return;
      case "Assign":
        line(depth, `Assign ${s.name.name} ${span(s.span)}`);
        expr(s.value, depth + 1);
        return;
      case "Iterate":
        line(depth, `Iterate ${span(s.span)}`);
        expr(s.count, depth + 1, "count");
        for (const b of s.body) stmt(b, depth + 1);
        return;
      case "Repeat":
        line(depth, `Repeat as ${s.as.name} ${span(s.span)}`);
        expr(s.count, depth + 1, "count");
        if (s.from) expr(s.from, depth + 1, "from");
        for (const b of s.body) stmt(b, depth + 1);
        return;
      case "Loss":
        line(depth, `Loss ${span(s.span)}`);
        expr(s.call, depth + 1);
        return;
      case "Report":
        line(depth, `Report ${s.names.map((n) => `${n.name} ${span(n.span)}`).join(", ")} ${span(s.span)}`);
        return;
      case "Return":
        line(depth, `Return ${span(s.span)}`);
        expr(s.value, depth + 1);
        return;
    }
  };

  const params = (ps: A.Param[], depth: number): void => {
    for (const p of ps) {
      if (p.kind === "TensorParam") {
        line(depth, `TensorParam ${p.name.name} ${span(p.span)}`);
        for (const d of p.dims) expr(d, depth + 1, "dim");
      } else {
        line(depth, `HyperParam ${p.name.name}${p.default ? "" : " (no default)"} ${span(p.span)}`);
        if (p.default) expr(p.default, depth + 1, "default");
      }
    }
  };

  line(0, `Program ${span(program.span)}`);
  for (const d of program.decls) {
    switch (d.kind) {
      case "Import":
        line(1, `Import {${d.names.map((n) => " " + n.name).join(",")} } from ${JSON.stringify(d.from.value)} ${span(d.span)}`);
        for (const n of d.names) line(2, `name ${n.name} ${span(n.span)}`);
        line(2, `from ${span(d.from.span)}`);
        break;
      case "Const":
        line(1, `Const ${d.name.name} ${span(d.span)}`);
        expr(d.value, 2);
        break;
      case "Layer":
      case "Model":
        line(1, `${d.kind} ${d.name.name} ${span(d.span)} name ${span(d.name.span)} end ${span(d.endSpan)}`);
        params(d.params, 2);
        for (const s of d.body) stmt(s, 2);
        break;
      case "Graph":
        line(1, `Graph ${d.name.name} ${span(d.span)}`);
        params(d.params, 2);
        expr(d.topology, 2, "topology");
        break;
    }
  }
  for (const c of program.comments) line(1, `Comment ${c.block ? "block" : "line"} ${span(c.span)} ${JSON.stringify(c.text.length > 40 ? c.text.slice(0, 40) + "…" : c.text)}`);
  return out.join("\n");
}
