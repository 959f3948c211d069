// Where comments go, and how the ones no node owns are printed. Prettier's default attachment
// (leading the following node, trailing the preceding one) needs four .moe-specific exceptions,
// listed at `placeComment`.
import { doc, util, type AstPath, type Doc, type ParserOptions } from "prettier";
import type * as A from "../syntax/ast.js";
import { isComment, kindOf, type MoeComment, type MoeNode, type MoeProgram, type WithComments } from "./moe-nodes.js";
import { locEnd, locStart } from "./parse-moe.js";

const { group, indent, softline, hardline, join, breakParent, lineSuffix } = doc.builders;

/** Pipeline and arithmetic nodes take no comments: the printer flattens their chains, so a comment goes to the nearest operand. */
export function canAttachComment(node: MoeNode): boolean {
  if (isComment(node)) return false;
  if ("kind" in node && (node.kind === "Binary" || node.kind === "Program")) return false;
  return node.span !== undefined;
}

export function isBlockComment(node: MoeNode): boolean {
  return isComment(node) && node.block;
}

/** Comment text as written; a line comment loses trailing blanks (Prettier trims line ends anyway). */
export function commentText(comment: MoeComment): string {
  return comment.block ? comment.text : comment.text.trimEnd();
}

export function printComment(path: AstPath<MoeNode>): Doc {
  return commentText(path.node as MoeComment);
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

/** Where a statement or declaration ends, counting the comments that trail it (for blank-line checks). */
export function endWithTrailingComments(node: MoeNode): number {
  let end = locEnd(node);
  for (const c of (node as WithComments<MoeNode>).comments ?? []) if (c.trailing) end = Math.max(end, locEnd(c));
  return end;
}

type Placement = "ownLine" | "endOfLine" | "remaining";

/**
 * Placement rules, tried before Prettier's defaults (a comment on its own line leads the
 * following node; one at a line end trails the preceding node). Each is chosen so that
 * formatting the output places the comment the same way again (idempotence):
 * 1. right after `(`, `[` or `{`: lead the first thing inside, or dangle in the empty brackets;
 * 2. right before an opening bracket: lead the first thing inside it, or dangle there if empty;
 *    right before a closing one: trail the last item (the list breaks after that item);
 * 3. between two operands (around the operator): trail the left one, except that a comment on its own line leads a
 *    right operand (the chain printer hoists it above that operand's `|>` line);
 * 4. among keywords, `=` or `:` (`router r = … // c` + `per token`): a line suffix would float
 *    past them, so a comment ending its line trails the enclosing statement, argument or field,
 *    and one on its own line leads it; in a header whose body follows, it leads the next node;
 * 5. on its own line right under a statement or declaration and followed by a blank line: trail
 *    that statement (as it prints when it follows another trailing comment there).
 */
function placeComment(comment: DecoratedComment, text: string, ast: MoeProgram, placement: Placement): boolean {
  const { precedingNode: prev, enclosingNode: encl, followingNode: next } = comment;
  const textEnd = ast.span.end;
  const before = tokensBetween(ast, prev ? locEnd(prev) : encl ? locStart(encl) : 0, locStart(comment));
  const after = tokensBetween(ast, locEnd(comment), next ? locStart(next) : encl ? locEnd(encl) : textEnd);
  // 5 (checked first). A comment right under a statement or declaration, with a blank line after it, belongs to the one above.
  if (placement === "ownLine" && prev && next && isListItem(prev) && isListItem(next)) {
    const between = ast.allComments.filter((c) => c.span.start >= locEnd(prev) && c.span.start < locStart(comment));
    const rightUnder = !util.isPreviousLineEmpty(text, locStart(comment)) && between.every((c) => !util.hasNewlineInRange(text, locEnd(prev), c.span.start));
    if (rightUnder && blankLineAfter(text, locEnd(comment))) {
      return util.addTrailingComment(prev, comment);
    }
  }
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
  const gap = [...before, ...after];
  if (prev && next && gap.length > 0 && gap.every((t) => OPERATORS.has(t))) {
    if (placement === "ownLine" && ast.rightOperands.has(next as A.Expr)) return util.addLeadingComment(next, comment);
    return util.addTrailingComment(prev, comment);
  }
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

export interface PrintedDangling {
  docs: Doc[];
  comments: MoeComment[];
  hasLineComment: boolean;
}

/** Prints the node's not-yet-printed dangling comments (only those with `marker`, when given). */
export function printDangling(path: AstPath<MoeNode>, marker?: string): PrintedDangling {
  const out: PrintedDangling = { docs: [], comments: [], hasLineComment: false };
  const node = path.node as WithComments<MoeNode>;
  if (!node.comments?.length) return out;
  (path as AstPath<WithComments<MoeNode>>).each((p) => {
    const c = p.node as unknown as MoeComment;
    if (c.leading || c.trailing || c.printed) return;
    if (marker !== undefined && c.marker !== marker) return;
    c.printed = true;
    out.docs.push(commentText(c));
    out.comments.push(c);
    if (!c.block) out.hasLineComment = true;
  }, "comments");
  return out;
}

/** `open close`, or the dangling comments of an empty bracket pair between them. */
export function printEmptyBrackets(path: AstPath<MoeNode>, open: string, close: string): Doc {
  const { docs, hasLineComment } = printDangling(path, open);
  if (docs.length === 0) return [open, close];
  return group([
    open,
    indent([softline, join(hasLineComment ? hardline : " ", docs)]),
    softline,
    close,
    hasLineComment ? breakParent : "",
  ]);
}

/** A last resort so no comment is ever dropped: append what no printer placed, line comments as line suffixes. */
export function appendUnplacedComments(path: AstPath<MoeNode>, printed: Doc): Doc {
  const node = path.node as WithComments<MoeNode>;
  if (!node.comments?.some((c) => !c.leading && !c.trailing && !c.printed)) return printed;
  const parts: Doc[] = [printed];
  (path as AstPath<WithComments<MoeNode>>).each((p) => {
    const c = p.node as unknown as MoeComment;
    if (c.leading || c.trailing || c.printed) return;
    c.printed = true;
    parts.push(c.block ? [" ", commentText(c)] : [lineSuffix([" ", commentText(c)]), breakParent]);
  }, "comments");
  return parts;
}

/**
 * Operands of a chain print their own comments: the chain printer puts a right operand's leading
 * comments above its operator line, and the first operand's trailing ones inside the indentation.
 * Declarations do too, so that the program printer can measure them without their comments.
 */
export function willPrintOwnComments(path: AstPath<MoeNode>): boolean {
  const parent = path.parent as MoeNode | null;
  if (parent === null) return false;
  if (kindOf(parent) === "Program") return true;
  return (path.key === "right" || path.key === "left") && kindOf(parent) === "Binary";
}

export interface OwnComments {
  /** Leading comments that end their line (each doc ends with its line break). */
  above: Doc[];
  /** Leading block comments on the operand's own line. */
  inline: Doc[];
  trailing: Doc[];
}

/** Prettier's leading/trailing comment layout, for a node that prints its own comments. */
export function printOwnComments(path: AstPath<MoeNode>, options: ParserOptions<MoeNode>): OwnComments {
  const out: OwnComments = { above: [], inline: [], trailing: [] };
  const node = path.node as WithComments<MoeNode>;
  if (!node.comments?.length) return out;
  const text = options.originalText;
  let lineSuffixBefore: { block: boolean } | undefined;
  (path as AstPath<WithComments<MoeNode>>).each((p) => {
    const c = p.node as unknown as MoeComment;
    if (c.printed || (!c.leading && !c.trailing)) return;
    c.printed = true;
    const printed = commentText(c);
    if (c.leading) {
      if (c.block && c.placement !== "ownLine" && !util.hasNewline(text, locEnd(c))) out.inline.push([printed, " "]);
      else out.above.push([printed, hardline, util.isNextLineEmpty(text, locEnd(c)) ? hardline : ""]);
      return;
    }
    if ((lineSuffixBefore && !lineSuffixBefore.block) || util.hasNewline(text, locStart(c), { backwards: true })) {
      const blankBefore = util.isPreviousLineEmpty(text, locStart(c));
      out.trailing.push(lineSuffix([hardline, blankBefore ? hardline : "", printed]));
      lineSuffixBefore = { block: c.block };
    } else if (!c.block || lineSuffixBefore) {
      out.trailing.push([lineSuffix([" ", printed]), breakParent]);
      lineSuffixBefore = { block: c.block };
    } else {
      out.trailing.push([" ", printed]);
    }
  }, "comments");
  return out;
}
