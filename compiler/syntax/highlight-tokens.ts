// Token classes for syntax highlighting, from the project's own lexer: an editor (the
// playground's CodeMirror mode) colours exactly what the parser sees. Contextual keywords
// (`experts`, `router`, …) are keywords here wherever they appear; the language server's
// semantic tokens tell the cases apart.
import type { TokenType } from "chevrotain";
import * as T from "./tokens.js";

export type HighlightKind = "keyword" | "name" | "number" | "string" | "comment" | "operator" | "punctuation" | "invalid";

export interface HighlightToken {
  start: number;
  /** Exclusive. */
  end: number;
  kind: HighlightKind;
}

const KEYWORDS = new Set<TokenType>([...T.keywordTokens, ...T.contextualKeywordTokens]);
const OPERATORS = new Set<TokenType>([T.PipeForward, T.Arrow, T.Plus, T.Minus, T.Star, T.Slash, T.Equals]);

function kindOf(type: TokenType): HighlightKind {
  if (KEYWORDS.has(type)) return "keyword";
  if (type === T.Identifier) return "name";
  if (type === T.IntegerLiteral || type === T.FloatLiteral) return "number";
  if (type === T.StringLiteral) return "string";
  if (type === T.LineComment || type === T.BlockComment) return "comment";
  if (OPERATORS.has(type)) return "operator";
  return "punctuation";
}

/** Every token of `text` in order (comments included), and the spans the lexer rejected as `invalid`. */
export function highlightTokens(text: string): HighlightToken[] {
  const lexed = T.moeLexer.tokenize(text);
  const out: HighlightToken[] = [];
  for (const t of [...lexed.tokens, ...((lexed.groups.comments as typeof lexed.tokens | undefined) ?? [])]) {
    out.push({ start: t.startOffset, end: t.startOffset + t.image.length, kind: kindOf(t.tokenType) });
  }
  for (const e of lexed.errors) out.push({ start: e.offset, end: e.offset + e.length, kind: "invalid" });
  return out.sort((a, b) => a.start - b.start);
}
