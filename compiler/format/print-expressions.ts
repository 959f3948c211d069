// Expressions. The AST keeps no parentheses, so they are re-derived from precedence (LANGUAGE.md
// §1, loosest first: `|>`/`->`, `+ -`, `* /`, unary `-`, calls). Same-level operator chains are
// flattened and break as a whole: first operand, then one `op operand` per indented line.
import { doc, type AstPath, type Doc, type ParserOptions } from "prettier";
import type * as A from "../syntax/ast.js";
import type { MoeNode, RecordField } from "./moe-nodes.js";
import { printBracketedList, type PrintFn } from "./print-lists.js";
import { printOwnComments } from "./print-comments.js";

const { group, indent, line, softline } = doc.builders;

export const Prec = { pipeline: 0, additive: 1, multiplicative: 2, unary: 3, primary: 4 } as const;

export function precedenceOf(node: A.Expr): number {
  if (node.kind === "Binary") {
    if (node.op === "|>" || node.op === "->") return Prec.pipeline;
    return node.op === "+" || node.op === "-" ? Prec.additive : Prec.multiplicative;
  }
  return node.kind === "Unary" ? Prec.unary : Prec.primary;
}

/** Prints the child at `key`, parenthesized when it binds looser than `minPrec`. */
export function printOperand(path: AstPath<MoeNode>, print: PrintFn, key: string, minPrec: number): Doc {
  const child = (path.node as unknown as Record<string, A.Expr>)[key]!;
  return parenthesize(child, print(key), minPrec);
}

/** Parentheses break like any bracket, so a line comment inside them never floats past `)`. */
export function parenthesize(node: A.Expr, printed: Doc, minPrec: number): Doc {
  return precedenceOf(node) < minPrec ? group(["(", indent([softline, printed]), softline, ")"]) : printed;
}

export function printExpression(path: AstPath<MoeNode>, options: ParserOptions<MoeNode>, print: PrintFn): Doc {
  const node = path.node as A.Expr;
  switch (node.kind) {
    case "Number":
      return node.text;
    case "String":
      return options.originalText.slice(node.span.start, node.span.end);
    case "Bool":
      return node.value ? "true" : "false";
    case "Call":
      return [print("callee"), node.args === undefined ? "" : printBracketedList(path, print, "args", { open: "(", close: ")" })];
    case "Binary":
      return printChain(path, options, print);
    case "Unary":
      // `-(-x)`, not `--x`, which reads as a decrement.
      return ["-", printOperand(path, print, "operand", node.operand.kind === "Unary" ? Prec.primary : Prec.unary)];
    case "List":
      return printBracketedList(path, print, "items", { open: "[", close: "]" });
    case "Record":
      return printBracketedList(path, print, "fields", { open: "{", close: "}", spaced: true });
    case "ErrorExpr":
      // Unreachable: files with syntax errors are refused before printing.
      throw new Error("cannot format a file with syntax errors");
  }
}

/** `name = value` in a call, `name: value` in a record. */
export function printArgOrField(path: AstPath<MoeNode>, print: PrintFn): Doc {
  const node = path.node as A.Arg | RecordField;
  const parent = path.parent as MoeNode;
  if ("kind" in parent && parent.kind === "Record") return [print("name"), ": ", print("value")];
  return node.name ? [print("name"), " = ", print("value")] : print("value");
}

function printChain(path: AstPath<MoeNode>, options: ParserOptions<MoeNode>, print: PrintFn): Doc {
  const level = precedenceOf(path.node as A.Binary);
  const first: Doc[] = [];
  const rest: Doc[] = [];
  // Left-associative: walk down the left spine while it stays at this level.
  const collect = (p: AstPath<MoeNode>): void => {
    const n = p.node as A.Expr;
    if (n.kind !== "Binary" || precedenceOf(n) !== level) {
      const own = printOwnComments(p, options);
      first.push(own.above, own.inline, parenthesize(n, print(), level));
      // Inside the indentation, so a comment on its own line after it lines up with the `|>` lines.
      rest.push(own.trailing);
      return;
    }
    p.call(collect, "left" as never);
    const operand = printOperand(p, print, "right", level + 1);
    const own = p.call((rp) => printOwnComments(rp, options), "right" as never);
    // A comment on its own line before `|> stage` goes above that line, not after the operator.
    rest.push([line, own.above, n.op, " ", own.inline, operand, own.trailing]);
  };
  collect(path);
  return group([first, indent(rest)]);
}
