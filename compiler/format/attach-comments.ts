// Where comments go. Prettier's default attachment (a comment on its own line leads the
// following node; one at a line end trails the preceding node) misplaces comments around .moe's
// brackets, operator chains and keywords; `placeComment` lists the rules tried first.
import { util, type ParserOptions } from "prettier";
import type * as A from "../syntax/ast.js";
import { isComment, kindOf, type MoeComment, type MoeNode, type MoeProgram } from "./moe-nodes.js";
import { locEnd, locStart } from "./parse-moe.js";

/** Pipeline and arithmetic nodes take no comments: the printer flattens their chains, so a comment goes to the nearest operand. */
export function canAttachComment(node: MoeNode): boolean {
  if (isComment(node)) return false;
  if ("kind" in node && (node.kind === "Binary" || node.kind === "Program")) return false;
  return node.span !== undefined;
}

export function isBlockComment(node: MoeNode): boolean {
  return isComment(node) && node.block;
}

interface DecoratedComment extends MoeComment {
  precedingNode?: MoeNode;
  enclosingNode?: MoeNode;
  followingNode?: MoeNode;
}

/** The tokens lying in [from, to): no comments, and no grouping parentheses (see parse-moe.ts). */
function tokensBetween(ast: MoeProgram, from: number, to: number): string[] {
  const { tokens } = ast;
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.start < from) lo = mid + 1;
    else hi = mid;
  }
  const out: string[] = [];
  for (let i = lo; i < tokens.length && tokens[i]!.end <= to; i++) out.push(tokens[i]!.image);
  return out;
}

const OPENERS = new Set(["(", "[", "{"]);
const CLOSERS = new Set([")", "]", "}"]);
const PAIRS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
const OPERATORS = new Set(["|>", "->", "+", "-", "*", "/"]);
/** Tokens that a trailing line comment may float past without changing meaning or layout. */
const FLOATABLE = new Set([",", ...CLOSERS, ...OPERATORS]);
/** Nodes whose `{ … }` body would carry a comment trailing them far from where it was written. */
const HAS_BODY = new Set(["Layer", "Model", "Iterate", "Repeat"]);
const LIST_ITEMS = new Set(["Import", "Const", "Layer", "Model", "Graph", "PoolDecl", "RouterDecl", "Let", "Assign", "Iterate", "Repeat", "Loss", "Report", "Return"]);

function isListItem(node: MoeNode): boolean {
  return LIST_ITEMS.has(kindOf(node));
}

/** The comment ends its line (nothing after it, not even another comment) and the next line is blank. */
function blankLineAfter(text: string, end: number): boolean {
  let i = end;
  while (text[i] === " " || text[i] === "\t" || text[i] === "\r") i++;
  if (text[i] !== "\n") return false;
  i++;
  while (text[i] === " " || text[i] === "\t" || text[i] === "\r") i++;
  return i >= text.length || text[i] === "\n";
}

type Placement = "ownLine" | "endOfLine" | "remaining";

/**
 * Placement rules, tried before Prettier's defaults. Each is chosen so that formatting the output
 * places the comment the same way again (idempotence):
 * 1. right after `(`, `[` or `{`: lead the first thing inside, or dangle in the empty brackets;
 * 2. right before an opening bracket: lead the first thing inside it, or dangle there if empty;
 *    right before a closing one: trail the last item (the list breaks after that item);
 * 3. between two operands (around the operator): trail the left one, except that a comment on
 *    its own line leads a right operand (the chain printer hoists it above its `|>` line);
 * 4. among keywords, `=` or `:` (`router r = … // c` + `per token`): a line suffix would float
 *    past them, so a comment ending its line trails the enclosing statement, argument or field,
 *    and one on its own line leads it; in a header whose body follows, it leads the next node;
 * 5. (checked first) on its own line right under a statement or declaration and followed by a
 *    blank line: trail that statement (as it prints when it follows another trailing comment).
 */
function placeComment(comment: DecoratedComment, text: string, ast: MoeProgram, placement: Placement): boolean {
  const { precedingNode: prev, enclosingNode: encl, followingNode: next } = comment;
  const textEnd = ast.span.end;
  const before = tokensBetween(ast, prev ? locEnd(prev) : encl ? locStart(encl) : 0, locStart(comment));
  const after = tokensBetween(ast, locEnd(comment), next ? locStart(next) : encl ? locEnd(encl) : textEnd);
  // Rule 5.
  if (placement === "ownLine" && prev && next && isListItem(prev) && isListItem(next)) {
    const between = ast.allComments.filter((c) => c.span.start >= locEnd(prev) && c.span.start < locStart(comment));
    const rightUnder = !util.isPreviousLineEmpty(text, locStart(comment)) && between.every((c) => !util.hasNewlineInRange(text, locEnd(prev), c.span.start));
    if (rightUnder && blankLineAfter(text, locEnd(comment))) {
      return util.addTrailingComment(prev, comment);
    }
  }
  // Rules 1 and 2.
  const opener = before.at(-1);
  if (opener !== undefined && OPENERS.has(opener)) {
    if (next && !after.some((t) => CLOSERS.has(t))) util.addLeadingComment(next, comment);
    else util.addDanglingComment(encl ?? ast, comment, opener);
    return true;
  }
  if (next && after.length > 0 && after.every((t) => OPENERS.has(t))) return util.addLeadingComment(next, comment);
  if (after.length >= 2 && PAIRS[after[0]!] === after[1]) return util.addDanglingComment(encl ?? ast, comment, after[0]);
  // At the end of a node that only grouping parentheses extended past its last child.
  if (prev && !next && encl && before.length === 0 && after.length === 0 && !HAS_BODY.has(kindOf(encl))) {
    return util.addTrailingComment(encl, comment);
  }
  const closer = after.findIndex((t) => CLOSERS.has(t));
  if (prev && closer >= 0) return util.addTrailingComment(prev, comment);
  // Rule 3.
  const gap = [...before, ...after];
  if (prev && next && gap.length > 0 && gap.every((t) => OPERATORS.has(t))) {
    if (placement === "ownLine" && ast.rightOperands.has(next as A.Expr)) return util.addLeadingComment(next, comment);
    return util.addTrailingComment(prev, comment);
  }
  // Rule 4.
  const floatsPast = [...before, ...(closer < 0 ? after : after.slice(0, closer))];
  if (encl && floatsPast.some((t) => !FLOATABLE.has(t) && !OPENERS.has(t))) {
    if (HAS_BODY.has(kindOf(encl))) return next ? util.addLeadingComment(next, comment) : false;
    if (placement === "ownLine") return util.addLeadingComment(encl, comment);
    if (placement === "endOfLine") return util.addTrailingComment(encl, comment);
  }
  return false;
}

const handler =
  (placement: Placement) =>
  (comment: DecoratedComment, text: string, _options: ParserOptions<MoeNode>, ast: MoeNode): boolean =>
    placeComment(comment, text, ast as MoeProgram, placement);

export const handleComments = { ownLine: handler("ownLine"), endOfLine: handler("endOfLine"), remaining: handler("remaining") };
