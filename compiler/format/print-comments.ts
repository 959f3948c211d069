// Printing comments the printers place themselves: dangling ones inside empty brackets and
// bodies, and the leading/trailing comments of chain operands and declarations, which print
// their own (see `willPrintOwnComments`).
import { doc, util, type AstPath, type Doc, type ParserOptions } from "prettier";
import { kindOf, type MoeComment, type MoeNode, type WithComments } from "./moe-nodes.js";
import { locEnd, locStart } from "./parse-moe.js";

const { group, indent, softline, hardline, join, breakParent, lineSuffix } = doc.builders;

/** Comment text as written; a line comment loses trailing blanks (Prettier trims line ends anyway). */
export function commentText(comment: MoeComment): string {
  return comment.block ? comment.text : comment.text.trimEnd();
}

export function printComment(path: AstPath<MoeNode>): Doc {
  return commentText(path.node as MoeComment);
}

/** Where a statement or declaration ends, counting the comments that trail it (for blank-line checks). */
export function endWithTrailingComments(node: MoeNode): number {
  let end = locEnd(node);
  for (const c of (node as WithComments<MoeNode>).comments ?? []) if (c.trailing) end = Math.max(end, locEnd(c));
  return end;
}

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
