// Source text → AST + diagnostics. Never throws on any input ("parsing never fails").
import type { IRecognitionException, IToken, TokenType } from "chevrotain";
import { moeLexer } from "./tokens.js";
import * as T from "./tokens.js";
import { sharedParser } from "./parser.js";
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
  for (const err of lexed.errors) {
    const ch = text.slice(err.offset, err.offset + err.length);
    const shown = ch.length > 20 ? ch.slice(0, 20) + "…" : ch;
    const unterminated = ch.startsWith('"') ? " (a string must end on the line it starts)" : ch.startsWith("/*") ? " (a block comment must be closed with `*/`)" : "";
    bag.error("E0001", `unexpected character${err.length > 1 ? "s" : ""} \`${shown.replace(/\n/g, "\\n")}\`${unterminated}`, { start: err.offset, end: err.offset + Math.max(1, err.length) }, { label: "not part of the .moe language" });
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
  program.decls = (program.decls ?? []).filter((d) => d !== undefined);
  const comments: Comment[] = ((lexed.groups.comments ?? []) as IToken[]).map((t) => ({
    text: t.image,
    block: t.tokenType === T.BlockComment,
    span: { start: t.startOffset, end: (t.endOffset ?? t.startOffset) + 1 },
  }));
  program.comments = comments;
  for (const err of parser.errors) reportParseError(err, bag, text);
  return { program, diagnostics: bag.items, tokens: lexed.tokens };
}

function reportParseError(err: IRecognitionException, bag: DiagnosticBag, text: string): void {
  const tok = err.token;
  const span = spanOfToken(tok, text);
  const found = describeFound(tok);
  const rules = err.context?.ruleStack ?? [];
  const rule = rules[rules.length - 1] ?? "";
  if (err.name === "MismatchedTokenException") {
    const m = /-->\s*(\w+)\s*<--/.exec(err.message);
    const expectedName = m?.[1];
    const expectedType = T.allTokens.find((t) => t.name === expectedName);
    const expected = expectedType ? describeTokenType(expectedType) : expectedName ?? "something else";
    const help = closerHelp(expectedType, rules);
    bag.error("E0100", `expected ${expected}, found ${found}`, span, { label: `expected ${expected} here`, help });
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
