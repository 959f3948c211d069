// Semantic tokens: keywords (contextual ones only where they act as keywords), numbers, strings,
// comments, operators, and names classified by what they resolve to.
import type { SemanticTokensLegend } from "vscode-languageserver";
import type { Analysis } from "../analysis.js";
import type { SymbolRef } from "../symbol-index.js";
import { moeLexer, keywordTokens, Identifier, IntegerLiteral, FloatLiteral, StringLiteral, PipeForward, Arrow, Plus, Minus, Star, Slash, Equals } from "../../syntax/tokens.js";
import type * as A from "../../syntax/ast.js";

export const TOKEN_TYPES = ["keyword", "number", "string", "comment", "operator", "class", "function", "type", "interface", "struct", "parameter", "variable", "enumMember", "namespace"] as const;
export const TOKEN_MODIFIERS = ["declaration", "readonly", "defaultLibrary"] as const;
export const legend: SemanticTokensLegend = { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] };

type TokType = (typeof TOKEN_TYPES)[number];
const T = (t: TokType) => TOKEN_TYPES.indexOf(t);
const MOD = { declaration: 1, readonly: 2, defaultLibrary: 4 };

function refType(r: SymbolRef): { type: TokType; mods: number } | undefined {
  const decl = r.isDef ? MOD.declaration : 0;
  if (r.def) {
    switch (r.def.kind) {
      case "layer": case "model": case "graph": return { type: "class", mods: decl };
      case "const": return { type: "variable", mods: decl | MOD.readonly };
      case "hyper": return { type: "parameter", mods: decl | MOD.readonly };
      case "tensor": return { type: "parameter", mods: decl };
      case "let": return { type: "variable", mods: decl };
      case "pool": case "shared": return { type: "struct", mods: decl };
      case "router": return { type: "interface", mods: decl };
      case "repeat": return { type: "namespace", mods: decl };
    }
  }
  if (r.builtin) {
    const lib = MOD.defaultLibrary;
    switch (r.builtin.kind) {
      case "stage": case "function": case "block": return { type: "function", mods: lib };
      case "expertKind": return { type: "type", mods: lib };
      case "enum": return { type: "enumMember", mods: lib };
    }
  }
  return undefined;
}

/** Encoded LSP semantic tokens (relative line/char deltas) for a file. */
export function semanticTokens(a: Analysis): number[] {
  const text = a.text(a.file);
  const lines = a.lines(a.file);
  const sf = a.compilation.unit.files.get(a.file);
  const entries: { start: number; length: number; type: number; mods: number }[] = [];
  const lexed = moeLexer.tokenize(text);
  // Contextual keywords act as keywords only at these spans (from the AST).
  const contextual = new Set<number>();
  const walk = (stmts: A.Stmt[]) => {
    for (const s of stmts) {
      if (s.kind === "PoolDecl" || s.kind === "RouterDecl") contextual.add(s.keywordSpan.start);
      if (s.kind === "Loss" || s.kind === "Report") contextual.add(s.span.start);
      if (s.kind === "Iterate") walk(s.body);
      if (s.kind === "Repeat") walk(s.body);
    }
  };
  for (const d of sf?.program.decls ?? []) if (d.kind === "Layer" || d.kind === "Model") walk(d.body);
  const refs = new Map((a.index.refs.get(a.file) ?? []).map((r) => [r.span.start, r]));
  for (const tok of lexed.tokens) {
    const start = tok.startOffset, length = tok.image.length;
    const tt = tok.tokenType;
    if (keywordTokens.includes(tt)) entries.push({ start, length, type: T("keyword"), mods: 0 });
    else if (tt === IntegerLiteral || tt === FloatLiteral) entries.push({ start, length, type: T("number"), mods: 0 });
    else if (tt === StringLiteral) entries.push({ start, length, type: T("string"), mods: 0 });
    else if ([PipeForward, Arrow, Plus, Minus, Star, Slash, Equals].includes(tt)) entries.push({ start, length, type: T("operator"), mods: 0 });
    else if (tt === Identifier || tt.CATEGORIES?.includes(Identifier)) {
      if (contextual.has(start) || (tt !== Identifier && isClauseKeyword(tok.image, text, start))) {
        entries.push({ start, length, type: T("keyword"), mods: 0 });
        continue;
      }
      const r = refs.get(start);
      const ty = r && refType(r);
      if (ty) entries.push({ start, length, type: T(ty.type), mods: ty.mods });
    }
  }
  for (const c of (lexed.groups.comments ?? [])) {
    // Multi-line comments are split per line (LSP tokens may not span lines).
    let off = c.startOffset;
    for (const part of c.image.split("\n")) {
      entries.push({ start: off, length: part.length, type: T("comment"), mods: 0 });
      off += part.length + 1;
    }
  }
  entries.sort((x, y) => x.start - y.start);
  const data: number[] = [];
  let prevLine = 0, prevChar = 0;
  for (const e of entries) {
    if (e.length === 0) continue;
    const p = lines.position(e.start);
    const line = p.line - 1, ch = p.column - 1;
    data.push(line - prevLine, line === prevLine ? ch - prevChar : ch, e.length, e.type, e.mods);
    prevLine = line;
    prevChar = ch;
  }
  return data;
}

/** `per`, `split`, `as` are keywords in their clauses (`… per token`, `… split 4`, `repeat N as x`). */
function isClauseKeyword(word: string, text: string, start: number): boolean {
  const after = text.slice(start + word.length, start + word.length + 40);
  if (word === "split") return /^\s+[\w(]/.test(after) && !/^\s*=/.test(after) && /=/.test(text.slice(text.lastIndexOf("\n", start), start));
  if (word === "per") return /^\s+[A-Za-z_]/.test(after) && /\|>|router/.test(text.slice(text.lastIndexOf("\n", start), start));
  if (word === "as") return /\brepeat\b/.test(text.slice(text.lastIndexOf("\n", start), start));
  return false;
}
