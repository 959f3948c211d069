// The `moe-ast` Prettier printer: dispatch on node kind, comment hooks, visitor keys.
import type { AstPath, Doc, Printer } from "prettier";
import type { MoeNode } from "./moe-nodes.js";
import { kindOf, visitorKeys } from "./moe-nodes.js";
import { canAttachComment, handleComments, isBlockComment } from "./attach-comments.js";
import { appendUnplacedComments, printComment, willPrintOwnComments } from "./print-comments.js";
import { printArgOrField, printExpression } from "./print-expressions.js";
import { printStatement } from "./print-statements.js";
import { printDeclaration, printParam, printProgram } from "./print-declarations.js";
import type { PrintFn } from "./print-lists.js";

const STATEMENTS = new Set(["PoolDecl", "RouterDecl", "Let", "Assign", "Iterate", "Repeat", "Loss", "Report", "Return"]);
const DECLARATIONS = new Set(["Import", "Const", "Layer", "Model", "Graph"]);

export const moePrinter: Printer<MoeNode> = {
  print(path, options, print) {
    const printed = printNode(path, options, print as PrintFn);
    return appendUnplacedComments(path, printed);
  },
  getVisitorKeys: (node) => visitorKeys(node) as string[],
  canAttachComment,
  isBlockComment,
  printComment,
  handleComments,
  willPrintOwnComments,
};

function printNode(path: AstPath<MoeNode>, options: Parameters<Printer<MoeNode>["print"]>[1], print: PrintFn): Doc {
  const node = path.node;
  const kind = kindOf(node);
  if (kind === "Program") return printProgram(path, options, print);
  if (DECLARATIONS.has(kind)) return printDeclaration(path, options, print);
  if (STATEMENTS.has(kind)) return printStatement(path, options, print);
  if (kind === "TensorParam" || kind === "HyperParam") return printParam(path, print);
  if (kind === "ArgOrField") return printArgOrField(path, print);
  if (kind === "Ident") return (node as { name: string }).name;
  return printExpression(path, options, print);
}
