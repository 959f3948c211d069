// Source text → AST + diagnostics. Never throws on any input ("parsing never fails").
import type { IRecognitionException, ILexingError, IToken, TokenType } from "chevrotain";
import { createTokenInstance } from "chevrotain";
import { moeLexer } from "./tokens.js";
import * as T from "./tokens.js";
import { sharedParser } from "./parser.js";
import { MAX_BRACKET_NESTING, MAX_SYNTAX_DEPTH, tooDeepBracket, tooDeepNode } from "./depth-limits.js";
import type { Program, Comment, Span } from "./ast.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { DiagnosticBag } from "../diagnostics/diagnostic.js";

export interface ParseResult {
  program: Program;
  diagnostics: Diagnostic[];
  tokens: IToken[];
}

const TOKEN_TEXT = new Map<TokenType, string>([
  [T.LParen, "`(`"], [T.RParen, "`)`"], [T.LBracket, "`[`"], [T.RBracket, "`]`"],
  [T.LBrace, "`{`"], [T.RBrace, "`}`"], [T.Comma, "`,`"], [T.Colon, "`:`"], [T.Equals, "`=`"],
  [T.Dot, "`.`"], [T.Plus, "`+`"], [T.Minus, "`-`"], [T.Star, "`*`"], [T.Slash, "`/`"],
  [T.PipeForward, "`|>`"], [T.Arrow, "`->`"], [T.Identifier, "a name"],
  [T.IntegerLiteral, "an integer"], [T.FloatLiteral, "a number"], [T.StringLiteral, "a string"],
]);

function describeTokenType(tt: TokenType): string {
  const known = TOKEN_TEXT.get(tt);
  if (known) return known;
  const pat = tt.PATTERN;
  if (pat instanceof RegExp) return "`" + pat.source + "`";
  return tt.name;
}

function describeFound(t: IToken): string {
  if (t.tokenType.name === "EOF") return "the end of the file";
  return "`" + t.image + "`";
}

const RULE_WHAT: Record<string, string> = {
  declaration: "a declaration (`layer`, `model`, `graph`, `const` or `import`)",
  statement: "a statement",
  expression: "an expression",
  additive: "an expression",
  multiplicative: "an expression",
  unary: "an expression",
  primary: "an expression",
  argument: "an argument",
  param: "a parameter",
  returnStmt: "a value to return",
  layerDecl: "`layer` or `model`",
};

function spanOfToken(t: IToken, text: string): Span {
  if (t.tokenType.name === "EOF" || !Number.isFinite(t.startOffset)) {
    return { start: text.length, end: text.length };
  }
  return { start: t.startOffset, end: (t.endOffset ?? t.startOffset) + 1 };
}

export function parseSource(text: string, file: string): ParseResult {
  const bag = new DiagnosticBag(file);
  const lexed = moeLexer.tokenize(text);
  const extraComments: Comment[] = [];
  const errors = recoverUnterminated(text, lexed.tokens, lexed.errors, bag, extraComments);
  for (const err of errors) {
    const ch = text.slice(err.offset, err.offset + err.length);
    const shown = ch.length > 20 ? ch.slice(0, 20) + "…" : ch;
    bag.error("E0001", `unexpected character${err.length > 1 ? "s" : ""} \`${shown.replace(/\n/g, "\\n")}\``, { start: err.offset, end: err.offset + Math.max(1, err.length) }, {
      label: "not part of the .moe language",
      help: ch === "|" ? "the pipeline operator is `|>`" : undefined,
    });
  }
  // A character the lexer skipped usually stood for something: a syntax error at the very next
  // token is a consequence of it, not a second mistake, so it is not reported.
  const afterBadChar = new Set<number>();
  for (const err of errors) {
    const next = lexed.tokens.find((t) => t.startOffset >= err.offset + err.length);
    afterBadChar.add(next ? next.startOffset : text.length);
  }
  const unmatched = unmatchedClosers(lexed.tokens);
  const deepBracket = tooDeepBracket(lexed.tokens);
  if (deepBracket) {
    // Not parsed at all: recursive descent that deep would exhaust the stack.
    bag.error("E0105", `brackets nest more than ${MAX_BRACKET_NESTING} levels deep`, spanOfToken(deepBracket, text), {
      label: `level ${MAX_BRACKET_NESTING + 1} opens here`,
      help: "split the expression with `let` names; the file is not checked further until it nests less deeply",
    });
    const program: Program = { kind: "Program", decls: [], comments: [], span: { start: 0, end: text.length } };
    return { program, diagnostics: bag.items, tokens: lexed.tokens };
  }
  const parser = sharedParser();
  parser.input = lexed.tokens;
  let program: Program;
  try {
    program = parser.program();
  } catch (e) {
    // Chevrotain recovery should make this unreachable; keep the promise of never throwing.
    bag.error("E0002", `the parser could not recover here: ${(e as Error).message}`, { start: 0, end: 0 });
    program = { kind: "Program", decls: [], comments: [], span: { start: 0, end: text.length } };
  }
  program ??= { kind: "Program", decls: [], comments: [], span: { start: 0, end: text.length } };
  program.span = { start: 0, end: text.length };
  program.decls = (program.decls ?? []).filter((d) => d !== undefined).filter((d) => {
    const deep = tooDeepNode(d);
    if (!deep) return true;
    // Dropped, so that no later stage walks a tree this deep.
    bag.error("E0106", `this declaration nests more than ${MAX_SYNTAX_DEPTH} levels deep (a chain of more than ${MAX_SYNTAX_DEPTH} operators, or calls nested that deep)`, { start: deep.span.start, end: Math.min(deep.span.end, deep.span.start + 1) }, {
      label: `level ${MAX_SYNTAX_DEPTH + 1} starts here`,
      help: "split it with `let` names (e.g. sum parts into `let` values), or a `repeat` block",
    });
    return false;
  });
  const comments: Comment[] = ((lexed.groups.comments ?? []) as IToken[]).map((t) => ({
    text: t.image,
    block: t.tokenType === T.BlockComment,
    span: { start: t.startOffset, end: (t.endOffset ?? t.startOffset) + 1 },
  }));
  program.comments = [...comments, ...extraComments];
  for (const err of parser.errors) {
    if (afterBadChar.has(spanOfToken(err.token, text).start)) continue;
    reportParseError(err, bag, text, unmatched);
  }
  return { program, diagnostics: bag.items, tokens: lexed.tokens };
}

/**
 * An unterminated string or block comment lexes as a stray `"` or as `/` `*` followed by the text
 * as tokens, which would bury the one real mistake under follow-on errors. Report each once and
 * treat the rest of the line (string) or of the file (comment) as its content. Edits `tokens` in
 * place; returns the lexing errors that remain.
 */
function recoverUnterminated(text: string, tokens: IToken[], lexErrors: ILexingError[], bag: DiagnosticBag, comments: Comment[]): ILexingError[] {
  let errors = [...lexErrors];
  for (const err of lexErrors) {
    if (text[err.offset] !== '"' || !errors.includes(err)) continue;
    let eol = text.indexOf("\n", err.offset);
    if (eol < 0) eol = text.length;
    if (text[eol - 1] === "\r") eol--;
    const body = text.slice(err.offset, eol);
    bag.error("E0005", "unterminated string", { start: err.offset, end: Math.max(eol, err.offset + 1) }, {
      label: "this string is not closed on its line",
      help: "a string must end with `\"` on the line it starts",
    });
    errors = errors.filter((e) => e.offset < err.offset || e.offset >= eol);
    const first = tokens.findIndex((t) => t.startOffset > err.offset);
    const count = tokens.slice(first < 0 ? tokens.length : first).filter((t) => t.startOffset < eol).length;
    const image = body.replace(/\\$/, "") + '"';
    const line = text.slice(0, err.offset).split("\n").length;
    const column = err.offset - text.lastIndexOf("\n", err.offset - 1);
    const tok = createTokenInstance(T.StringLiteral, image, err.offset, Math.max(err.offset, eol - 1), line, line, column, column + body.length - 1);
    tokens.splice(first < 0 ? tokens.length : first, count, tok);
  }
  for (let i = 0; i + 1 < tokens.length; i++) {
    const a = tokens[i]!, b = tokens[i + 1]!;
    if (a.tokenType !== T.Slash || b.tokenType !== T.Star || b.startOffset !== a.startOffset + 1) continue;
    // `/*` that the BlockComment pattern did not match: no `*/` follows anywhere.
    bag.error("E0006", "unterminated block comment", { start: a.startOffset, end: a.startOffset + 2 }, {
      label: "this comment is never closed",
      help: "close it with `*/`; everything after `/*` is part of the comment",
    });
    comments.push({ text: text.slice(a.startOffset), block: true, span: { start: a.startOffset, end: text.length } });
    errors = errors.filter((e) => e.offset < a.startOffset);
    tokens.splice(i);
    break;
  }
  return errors;
}

const OPENER: Record<string, string> = { ")": "(", "]": "[", "}": "{" };

/** Start offsets of `)`, `]` and `}` that close no open bracket (a stray closer). */
function unmatchedClosers(tokens: IToken[]): Set<number> {
  const out = new Set<number>();
  const stack: string[] = [];
  for (const t of tokens) {
    const img = t.image;
    if (img === "(" || img === "[" || img === "{") stack.push(img);
    else if (img === ")" || img === "]" || img === "}") {
      const at = stack.lastIndexOf(OPENER[img]!);
      if (at < 0) out.add(t.startOffset);
      else stack.length = at;
    }
  }
  return out;
}

function reportParseError(err: IRecognitionException, bag: DiagnosticBag, text: string, unmatched: Set<number>): void {
  const tok = err.token;
  const span = spanOfToken(tok, text);
  const found = describeFound(tok);
  const rules = err.context?.ruleStack ?? [];
  const rule = rules[rules.length - 1] ?? "";
  if (unmatched.has(tok.startOffset) && Number.isFinite(tok.startOffset)) {
    bag.error("E0104", `unexpected ${found}: it closes nothing`, span, {
      label: `no matching \`${OPENER[tok.image]}\``,
      help: `remove it, or add the \`${OPENER[tok.image]}\` it was meant to close`,
    });
    return;
  }
  if (err.name === "MismatchedTokenException") {
    const m = /-->\s*(\w+)\s*<--/.exec(err.message);
    const expectedName = m?.[1];
    const closesBlock = tok.tokenType.name === "EOF" || [T.Layer, T.Model, T.Graph, T.Const, T.Import].includes(tok.tokenType);
    if (expectedName === "RBrace" && rule === "block" && !closesBlock) {
      // Recovery skipped tokens between statements: they do not start a statement.
      bag.error("E0101", `expected a statement, found ${found}`, span, {
        label: `unexpected ${found}`,
        help: "a statement starts with `experts`, `shared`, `router`, `let`, `iterate`, `repeat`, `loss`, `report`, `return` or `NAME =`",
      });
      return;
    }
    if (expectedName === "EOF") {
      // Chevrotain's recovery between declarations: the token cannot start a declaration.
      bag.error("E0101", `expected ${RULE_WHAT.declaration}, found ${found}`, span, {
        label: `unexpected ${found}`,
        help: "top-level code must be inside a `layer`, `model` or `graph` declaration",
      });
      return;
    }
    const expectedType = T.allTokens.find((t) => t.name === expectedName);
    const expected = expectedType ? describeTokenType(expectedType) : expectedName ?? "something else";
    const help = closerHelp(expectedType, rules);
    // When the found token is on a later line, also point just after the last token read: that is
    // where the closer was forgotten (`ffn(hidden = 32` ⏎ `router …`).
    const prev = (err as IRecognitionException & { previousToken?: IToken }).previousToken;
    const secondary = prev && Number.isFinite(prev.startOffset) && tok.tokenType.name !== "EOF" && (prev.endLine ?? 0) < (tok.startLine ?? 0)
      ? [{ file: bag.file, span: { start: (prev.endOffset ?? prev.startOffset) + 1, end: (prev.endOffset ?? prev.startOffset) + 1 }, message: `${expected} missing after this` }]
      : [];
    bag.error("E0100", `expected ${expected}, found ${found}`, span, { label: `expected ${expected} here`, help, secondary });
    return;
  }
  if (err.name === "NoViableAltException" || err.name === "EarlyExitException") {
    const what = RULE_WHAT[rule] ?? "something else";
    let help: string | undefined;
    if (rule === "statement") help = "a statement starts with `experts`, `shared`, `router`, `let`, `iterate`, `repeat`, `loss`, `report`, `return` or `NAME =`";
    if (rule === "declaration") help = "top-level code must be inside a `layer`, `model` or `graph` declaration";
    bag.error("E0101", `expected ${what}, found ${found}`, span, { label: `unexpected ${found}`, help });
    return;
  }
  if (err.name === "NotAllInputParsedException") {
    bag.error("E0102", `unexpected ${found} after the last declaration`, span, {
      label: "not expected here",
      help: tok.image === "}" ? "this `}` has no matching `{`" : "top-level code must be inside a `layer`, `model` or `graph` declaration",
    });
    return;
  }
  bag.error("E0103", `syntax error at ${found}`, span);
}

function closerHelp(expected: TokenType | undefined, rules: string[]): string | undefined {
  if (expected === T.RParen) return "an argument list or parenthesized expression is not closed";
  if (expected === T.RBracket) return "a `[` is not closed";
  if (expected === T.RBrace) return rules.includes("block") ? "the block is not closed with `}`" : undefined;
  return undefined;
}
