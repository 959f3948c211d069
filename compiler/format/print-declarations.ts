// The file and its declarations (LANGUAGE.md §2): a blank line between declarations, except that
// runs of one-line imports, consts or graphs keep the user's grouping (at most one blank line).
import { doc, util, type AstPath, type Doc, type ParserOptions } from "prettier";
import type * as A from "../syntax/ast.js";
import type { MoeNode, MoeProgram } from "./moe-nodes.js";
import { endWithTrailingComments, printDangling, printOwnComments, type OwnComments } from "./print-comments.js";
import { locEnd } from "./parse-moe.js";
import { printBracketedList, type PrintFn } from "./print-lists.js";
import { Prec, parenthesize } from "./print-expressions.js";
import { printBlock } from "./print-statements.js";

const { hardline } = doc.builders;

/** Declarations that read as a list: a run of one-line ones keeps the user's blank lines (at most one). */
const GROUPABLE = new Set(["Import", "Const", "Graph"]);

export function printProgram(path: AstPath<MoeNode>, options: ParserOptions<MoeNode>, print: PrintFn): Doc {
  const { decls } = path.node as MoeProgram;
  // Declarations print their own comments, so that "one line" is judged without them.
  const printed = (path as AstPath<any>).map((p: AstPath) => ({ bare: print(), own: printOwnComments(p as AstPath<MoeNode>, options) }), "decls") as {
    bare: Doc;
    own: OwnComments;
  }[];
  const parts: Doc[] = [];
  printed.forEach(({ bare, own }, i) => {
    parts.push(own.above, own.inline, bare, own.trailing);
    const next = decls[i + 1];
    if (next === undefined) return;
    parts.push(hardline);
    const grouped =
      next.kind === decls[i]!.kind && GROUPABLE.has(next.kind) && fitsOnOneLine(bare, options) && fitsOnOneLine(printed[i + 1]!.bare, options);
    if (!grouped || util.isNextLineEmpty(options.originalText, endWithTrailingComments(decls[i]!))) parts.push(hardline);
  });
  // A file of comments only: they dangle on the root.
  const { docs: comments, comments: nodes } = printDangling(path);
  comments.forEach((c, i) => {
    if (i > 0) parts.push(hardline, util.isNextLineEmpty(options.originalText, locEnd(nodes[i - 1]!)) ? hardline : "");
    parts.push(c);
  });
  return parts.length === 0 ? "" : [...parts, hardline];
}

/** Whether a declaration prints as one line (then a run of them may stay without blank lines). */
function fitsOnOneLine(d: Doc, options: ParserOptions<MoeNode>): boolean {
  const flat = doc.printer.printDocToString(d, { ...options, printWidth: Number.MAX_SAFE_INTEGER }).formatted;
  return !flat.includes("\n") && util.getStringWidth(flat) <= options.printWidth;
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
