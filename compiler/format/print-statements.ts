// Body statements (LANGUAGE.md §2 table) and `{ … }` blocks: one statement per line, keeping at
// most one blank line where the user had blank lines.
import { doc, util, type AstPath, type Doc, type ParserOptions } from "prettier";
import type * as A from "../syntax/ast.js";
import type { MoeNode } from "./moe-nodes.js";
import { endWithTrailingComments, printDangling } from "./print-comments.js";
import { Prec, printOperand } from "./print-expressions.js";
import type { PrintFn } from "./print-lists.js";

const { group, indent, line, softline, hardline, join } = doc.builders;

export function printStatement(path: AstPath<MoeNode>, options: ParserOptions<MoeNode>, print: PrintFn): Doc {
  const node = path.node as A.Stmt;
  switch (node.kind) {
    case "PoolDecl":
      return [
        node.shared ? "shared " : "experts ",
        print("name"),
        node.count ? group(["[", indent([softline, print("count")]), softline, "]"]) : "",
        " = ",
        print("expert"),
        // `split` takes a unary expression: anything looser needs parentheses.
        node.split ? [" split ", printOperand(path, print, "split", Prec.unary)] : "",
      ];
    case "RouterDecl":
      return ["router ", print("name"), " = ", print("pipeline"), node.per ? [" per ", print("per")] : ""];
    case "Let":
      return ["let ", print("name"), " = ", print("value")];
    case "Assign":
      return [print("name"), " = ", print("value")];
    case "Iterate":
      return ["iterate ", printOperand(path, print, "count", Prec.additive), " ", printBlock(path, options, print)];
    case "Repeat":
      return [
        "repeat ",
        printOperand(path, print, "count", Prec.additive),
        " as ",
        print("as"),
        node.from ? [" from ", printOperand(path, print, "from", Prec.additive)] : "",
        " ",
        printBlock(path, options, print),
      ];
    case "Loss":
      return ["loss ", print("call")];
    case "Report":
      return group(["report ", indent(join([",", line], (path as AstPath<any>).map(() => print(), "names") as Doc[]))]);
    case "Return":
      return ["return ", print("value")];
  }
}

/** The `body` of a layer, model, `iterate` or `repeat` as a braced block. */
export function printBlock(path: AstPath<MoeNode>, options: ParserOptions<MoeNode>, print: PrintFn): Doc {
  const body = (path.node as A.LayerDecl | A.IterateStmt | A.RepeatStmt).body;
  if (body.length === 0) {
    const { docs } = printDangling(path, "{");
    return docs.length === 0 ? "{}" : ["{", indent([hardline, join(hardline, docs)]), hardline, "}"];
  }
  const parts: Doc[] = [];
  (path as AstPath<any>).each((p: AstPath, i: number) => {
    parts.push(print());
    if (i < body.length - 1) {
      parts.push(hardline);
      if (util.isNextLineEmpty(options.originalText, endWithTrailingComments(p.node as MoeNode))) parts.push(hardline);
    }
  }, "body");
  return ["{", indent([hardline, ...parts]), hardline, "}"];
}
