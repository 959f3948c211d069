// The Prettier parser for .moe: the compiler's own parser, and a refusal to format a file that
// does not parse (formatting a recovered tree would silently rewrite the user's broken code).
import type { Parser } from "prettier";
import { parseSource } from "../syntax/parse.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { descendants, type MoeComment, type MoeNode, type MoeProgram, type SourceToken } from "./moe-nodes.js";

/** A 1-based line and column, as Prettier's error reporter and code frames expect. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** The error Prettier reports for a file that does not parse: `message (line:col)` plus `loc`. */
export class MoeSyntaxError extends SyntaxError {
  readonly loc: { start: { line: number; column: number } };
  readonly diagnostics: Diagnostic[];
  constructor(text: string, errors: Diagnostic[]) {
    const first = errors.reduce((a, b) => (b.span.start < a.span.start ? b : a));
    const at = lineColumn(text, first.span.start);
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more syntax error${errors.length > 2 ? "s" : ""})` : "";
    super(`${first.message} [${first.code}]${more} (${at.line}:${at.column})`);
    this.name = "SyntaxError";
    this.loc = { start: at };
    this.diagnostics = errors;
  }
}

export function parseMoe(text: string, file = "<input>"): MoeProgram {
  const { program, diagnostics, tokens } = parseSource(text, file);
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new MoeSyntaxError(text, errors);
  const comments: MoeComment[] = program.comments.map((c) => ({ ...c, value: c.text }));
  const all = tokens.map((t) => ({ image: t.image, start: t.startOffset, end: t.startOffset + t.image.length }));
  const root: MoeProgram = { ...program, comments, allComments: comments, tokens: all, rightOperands: new WeakSet() };
  // Parentheses that open an argument or parameter list follow a callee or declaration name.
  const listParenAfter = new Set<number>();
  for (const node of descendants(root)) {
    if (!("kind" in node)) continue;
    if (node.kind === "Binary") root.rightOperands.add(node.right);
    if (node.kind === "Call" && node.args !== undefined) listParenAfter.add(node.callee.span.end);
    if (node.kind === "Layer" || node.kind === "Model" || node.kind === "Graph") listParenAfter.add(node.name.span.end);
  }
  root.tokens = withoutGroupingParens(all, listParenAfter);
  return root;
}

export function locStart(node: MoeNode): number {
  return node.span.start;
}

export function locEnd(node: MoeNode): number {
  return node.span.end;
}

export const moeParser: Parser<MoeNode> = {
  parse: (text, options) => parseMoe(text, options.filepath),
  astFormat: "moe-ast",
  locStart,
  locEnd,
};

/**
 * Grouping parentheses are re-derived from precedence when printing (redundant ones vanish), so
 * comment placement must not depend on them: it sees the tokens without them.
 */
function withoutGroupingParens(tokens: SourceToken[], listParenAfter: Set<number>): SourceToken[] {
  const grouping = new Set<SourceToken>();
  const open: { token: SourceToken; grouping: boolean }[] = [];
  tokens.forEach((t, i) => {
    if (t.image === "(") {
      const prev = tokens[i - 1];
      open.push({ token: t, grouping: !(prev && listParenAfter.has(prev.end)) });
    } else if (t.image === ")") {
      const o = open.pop();
      if (o?.grouping) grouping.add(o.token).add(t);
    }
  });
  return tokens.filter((t) => !grouping.has(t));
}
