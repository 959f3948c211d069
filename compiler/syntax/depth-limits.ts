// Nesting limits of the syntax, so that no input can exhaust the stack of the parser (recursive
// descent per bracket), the checker, the formatter or the language server (recursive walks of
// the tree). Both are measured without recursion: brackets over the token stream before parsing,
// tree depth by an explicit stack after it.
import type { IToken } from "chevrotain";
import type { Span } from "./ast.js";

/** `(`, `[` and `{` open at once; the parser itself manages about 250 (examples nest at most 6). */
export const MAX_BRACKET_NESTING = 100;
/** Nodes from a declaration down to its deepest leaf: `a + b + …` with 500 terms nests 500 deep (the formatter overflows near 800 nested negations). */
export const MAX_SYNTAX_DEPTH = 500;

/** The first opening bracket that exceeds MAX_BRACKET_NESTING, if any. */
export function tooDeepBracket(tokens: readonly IToken[]): IToken | undefined {
  let depth = 0;
  for (const t of tokens) {
    const img = t.image;
    if (img === "(" || img === "[" || img === "{") {
      if (++depth > MAX_BRACKET_NESTING) return t;
    } else if ((img === ")" || img === "]" || img === "}") && depth > 0) depth--;
  }
  return undefined;
}

/** The first node found deeper than MAX_SYNTAX_DEPTH below `root` (nodes are objects with a `kind`). */
export function tooDeepNode(root: object): { span: Span; depth: number } | undefined {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== "object") continue;
    const isNode = typeof (value as { kind?: unknown }).kind === "string";
    const d = isNode ? depth + 1 : depth;
    if (d > MAX_SYNTAX_DEPTH) return { span: (value as { span: Span }).span, depth: d };
    const children = Array.isArray(value) ? value : Object.values(value);
    for (const c of children) if (c !== null && typeof c === "object") stack.push([c, d]);
  }
  return undefined;
}
