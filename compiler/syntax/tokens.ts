// The .moe lexicon (LANGUAGE.md §1). One list, exported so that the TextMate grammar test and the
// editor tooling can check themselves against the real lexer rather than a copy.
import { createToken, Lexer, type TokenType } from "chevrotain";

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f\uFEFF]+/, group: Lexer.SKIPPED, line_breaks: true });
export const LineComment = createToken({ name: "LineComment", pattern: /\/\/[^\n\r]*/, group: "comments" });
export const BlockComment = createToken({ name: "BlockComment", pattern: /\/\*[\s\S]*?\*\//, group: "comments", line_breaks: true });

export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

function keyword(word: string, name: string): TokenType {
  return createToken({ name, pattern: new RegExp(word), longer_alt: Identifier });
}
// Contextual keywords are a category of Identifier: they lex as their own type (so the parser can
// look for them at a statement start) but match wherever an Identifier is expected.
function contextual(word: string, name: string): TokenType {
  return createToken({ name, pattern: new RegExp(word), longer_alt: Identifier, categories: [Identifier] });
}

export const Import = keyword("import", "Import");
export const From = keyword("from", "From");
export const Const = keyword("const", "Const");
export const Layer = keyword("layer", "Layer");
export const Model = keyword("model", "Model");
export const Graph = keyword("graph", "Graph");
export const Let = keyword("let", "Let");
export const Iterate = keyword("iterate", "Iterate");
export const Repeat = keyword("repeat", "Repeat");
export const Return = keyword("return", "Return");
export const True = keyword("true", "True");
export const False = keyword("false", "False");

export const Experts = contextual("experts", "Experts");
export const Shared = contextual("shared", "Shared");
export const Router = contextual("router", "Router");
export const Loss = contextual("loss", "Loss");
export const Report = contextual("report", "Report");
export const Per = contextual("per", "Per");
export const Split = contextual("split", "Split");
export const As = contextual("as", "As");

// Floats before integers; `_` only between digits.
export const FloatLiteral = createToken({
  name: "FloatLiteral",
  pattern: /(?:\d(?:_?\d)*\.\d(?:_?\d)*(?:[eE][+-]?\d+)?|\d(?:_?\d)*[eE][+-]?\d+)/,
});
export const IntegerLiteral = createToken({ name: "IntegerLiteral", pattern: /\d(?:_?\d)*/});
export const StringLiteral = createToken({ name: "StringLiteral", pattern: /"(?:[^"\\\n\r]|\\.)*"/ });

export const PipeForward = createToken({ name: "PipeForward", pattern: /\|>/ });
export const Arrow = createToken({ name: "Arrow", pattern: /->/ });
export const LParen = createToken({ name: "LParen", pattern: /\(/ });
export const RParen = createToken({ name: "RParen", pattern: /\)/ });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/ });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/ });
export const LBrace = createToken({ name: "LBrace", pattern: /\{/ });
export const RBrace = createToken({ name: "RBrace", pattern: /\}/ });
export const Comma = createToken({ name: "Comma", pattern: /,/ });
export const Colon = createToken({ name: "Colon", pattern: /:/ });
export const Equals = createToken({ name: "Equals", pattern: /=/ });
export const Dot = createToken({ name: "Dot", pattern: /\./ });
export const Plus = createToken({ name: "Plus", pattern: /\+/ });
export const Minus = createToken({ name: "Minus", pattern: /-/ });
export const Star = createToken({ name: "Star", pattern: /\*/ });
export const Slash = createToken({ name: "Slash", pattern: /\// });

export const keywordTokens = [Import, From, Const, Layer, Model, Graph, Let, Iterate, Repeat, Return, True, False];
export const contextualKeywordTokens = [Experts, Shared, Router, Loss, Report, Per, Split, As];

export const allTokens: TokenType[] = [
  WhiteSpace, LineComment, BlockComment,
  FloatLiteral, IntegerLiteral, StringLiteral,
  PipeForward, Arrow,
  ...keywordTokens, ...contextualKeywordTokens,
  Identifier,
  LParen, RParen, LBracket, RBracket, LBrace, RBrace, Comma, Colon, Equals, Dot, Plus, Minus, Star, Slash,
];

/** The words the language reserves or treats as keywords at a statement start (for editors). */
export const keywordWords = keywordTokens.map((t) => String(t.PATTERN).slice(1, -1));
export const contextualKeywordWords = contextualKeywordTokens.map((t) => String(t.PATTERN).slice(1, -1));

export const moeLexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false });
