// The file and its declarations (LANGUAGE.md §2): a blank line between declarations, except that
// runs of imports or of consts keep the user's grouping (at most one blank line).
import { doc, util, type AstPath, type Doc, type ParserOptions } from "prettier";
import type * as A from "../syntax/ast.js";
import type { MoeNode, MoeProgram } from "./moe-nodes.js";
import { printDangling } from "./attach-comments.js";
import { locEnd } from "./parse-moe.js";
import { printBracketedList, type PrintFn } from "./print-lists.js";
import { Prec, parenthesize } from "./print-expressions.js";
import { printBlock } from "./print-statements.js";

const { hardline } = doc.builders;

export function printProgram(path: AstPath<MoeNode>, options: ParserOptions<MoeNode>, print: PrintFn): Doc {
  const { decls } = path.node as MoeProgram;
  const parts: Doc[] = [];
  (path as AstPath<any>).each((p: AstPath, i: number) => {
    parts.push(print());
    const next = decls[i + 1];
    if (next === undefined) return;
    parts.push(hardline);
    const grouped = next.kind === decls[i]!.kind && (next.kind === "Import" || next.kind === "Const");
    if (!grouped || util.isNextLineEmpty(options.originalText, locEnd(p.node as MoeNode))) parts.push(hardline);
  }, "decls");
  // A file of comments only: they dangle on the root.
  const { docs, comments } = printDangling(path);
  docs.forEach((d, i) => {
    if (i > 0) parts.push(hardline, util.isNextLineEmpty(options.originalText, locEnd(comments[i - 1]!)) ? hardline : "");
    parts.push(d);
  });
  return parts.length === 0 ? "" : [...parts, hardline];
}

export function printDeclaration(path: AstPath<MoeNode>, options: ParserOptions<MoeNode>, print: PrintFn): Doc {
  const node = path.node as A.Decl;
  switch (node.kind) {
    case "Import":
      return ["import ", printBracketedList(path, print, "names", { open: "{", close: "}", spaced: true }), " from ", print("from")];
    case "Const":
      return ["const ", print("name"), " = ", print("value")];
    case "Layer":
    case "Model":
      return [node.kind === "Layer" ? "layer " : "model ", print("name"), printParams(path, print), " ", printBlock(path, options, print)];
    case "Graph":
      return ["graph ", print("name"), printParams(path, print), " = ", print("topology")];
  }
}

function printParams(path: AstPath<MoeNode>, print: PrintFn): Doc {
  return printBracketedList(path, print, "params", { open: "(", close: ")" });
}

export function printParam(path: AstPath<MoeNode>, print: PrintFn): Doc {
  const node = path.node as A.Param;
  if (node.kind === "TensorParam") return [print("name"), ": ", printBracketedList(path, print, "dims", { open: "[", close: "]", wrapItem: wrapDim })];
  return node.default ? [print("name"), " = ", print("default")] : print("name");
}

/** Shape dimensions are parsed at the additive level: a pipeline there needs parentheses. */
function wrapDim(item: unknown, printed: Doc): Doc {
  return parenthesize(item as A.Expr, printed, Prec.additive);
}
