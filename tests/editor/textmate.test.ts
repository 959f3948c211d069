// The TextMate grammar against the lexer: every keyword is in it, contextual keywords are
// keywords only where the parser treats them as such, and the contract programs tokenize.
// vscode-textmate/vscode-oniguruma are not installed, so the grammar's regexes run on JS RegExp
// (textmate-lite.ts); the grammar keeps to syntax both engines read the same way.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { contextualKeywordWords, keywordWords } from "../../compiler/syntax/tokens.js";
import { Grammar, scopesAtWord, type RawGrammar, type Token } from "./textmate-lite.js";
import { repoRoot } from "../compiler/format/format-helpers.js";

const raw = JSON.parse(readFileSync(join(repoRoot, "vscode-extension/syntaxes/moe.tmLanguage.json"), "utf8")) as RawGrammar;
const grammar = new Grammar(raw);
const line = (text: string): Token[] => grammar.tokenize(text)[0]!;
const isKeyword = (scopes: string[]): boolean => scopes.some((s) => /^(keyword|storage\.type|constant\.language)\./.test(s));

describe("moe.tmLanguage.json", () => {
  it("is the source.moe grammar", () => {
    expect(raw.scopeName).toBe("source.moe");
  });

  it("uses only regexes that JavaScript compiles (kept Oniguruma-compatible: no variable-length lookbehind)", () => {
    for (const src of Grammar.regexSources(raw)) {
      expect(() => new RegExp(src, "d"), src).not.toThrow();
      expect(src, "lookbehind must be fixed-length for Oniguruma").not.toMatch(/\(\?<[=!][^)]*[*+?]/);
    }
  });

  it("names every keyword and contextual keyword of the lexer", () => {
    // `\b` would otherwise glue a letter to the word.
    const sources = Grammar.regexSources(raw).join("\n").replace(/\\b/g, " ");
    for (const word of [...keywordWords, ...contextualKeywordWords]) {
      expect(sources, word).toMatch(new RegExp(`(?<![A-Za-z_])${word}(?![A-Za-z0-9_])`));
    }
  });

  // One line per word, with the word where the parser reads it as a keyword.
  const samples: Record<string, string> = {
    import: 'import { shared_block } from "./common.moe"',
    from: 'import { shared_block } from "./common.moe"',
    const: "const D = 4096",
    layer: "layer mixtral_moe(x: [T, D], D = 4096) {",
    model: "model mixtral_8x7b(tokens: [T], V = 32000) {",
    graph: "graph review(x: [T, D]) = a(D = D) -> b(D = D)",
    let: "  let g = linear(x, out = 1)",
    iterate: "  iterate 2 {",
    repeat: "  repeat 27 as layers from 1 {",
    return: "  return moe(x, r, E)",
    true: "  let a = linear(x, out = 4, bias = true)",
    false: "  let a = linear(x, out = 4, bias = false)",
    experts: "  experts E[N] = ffn(hidden = I) split 4",
    shared: "  shared S[2] = ffn(hidden = SI)",
    router: "  router r = linear |> softmax |> topk(2) per token",
    loss: "  loss balance(coef = 0.001)",
    report: "  report load, entropy",
    per: "  router r = linear |> softmax |> topk(2) per token",
    split: "  experts E[N] = ffn(hidden = I) split 4",
    as: "  repeat 27 as layers from 1 {",
  };

  it("has a sample line for every lexer keyword", () => {
    expect(Object.keys(samples).sort()).toEqual([...keywordWords, ...contextualKeywordWords].sort());
  });

  it.each(Object.entries(samples))("highlights `%s` as a keyword in its position", (word, text) => {
    expect(isKeyword(scopesAtWord(line(text), word))).toBe(true);
  });

  it("reads `experts experts[8] = …` as the keyword, then the pool's name", () => {
    const t = line("  experts experts[8] = ffn(hidden = 64)");
    expect(scopesAtWord(t, "experts", 0)).toContain("keyword.other.experts.moe");
    expect(scopesAtWord(t, "experts", 1)).toContain("variable.other.pool.moe");
    expect(isKeyword(scopesAtWord(t, "experts", 1))).toBe(false);
  });

  it("reads `router gate = …` as the keyword, then the router's name", () => {
    const t = line("  router gate = linear |> softmax |> topk(2)");
    expect(scopesAtWord(t, "router")).toContain("keyword.other.router.moe");
    expect(scopesAtWord(t, "gate")).toContain("variable.other.router.moe");
    expect(scopesAtWord(t, "|>", 0)).toContain("keyword.operator.pipeline.moe");
  });

  it("keeps contextual keywords names where they are names", () => {
    expect(isKeyword(scopesAtWord(line("  return moe(x, r, experts)"), "experts"))).toBe(false);
    expect(isKeyword(scopesAtWord(line("  experts = experts + 1"), "experts", 0))).toBe(false);
    expect(isKeyword(scopesAtWord(line("  let router = shared(x)"), "router"))).toBe(false);
    expect(isKeyword(scopesAtWord(line("  let router = shared(x)"), "shared"))).toBe(false);
    expect(isKeyword(scopesAtWord(line("  let y = f(per, split, as, loss, report)"), "per"))).toBe(false);
    expect(isKeyword(scopesAtWord(line("  let y = f(per, split, as, loss, report)"), "split"))).toBe(false);
    expect(isKeyword(scopesAtWord(line("  let y = f(per, split, as, loss, report)"), "as"))).toBe(false);
    expect(isKeyword(scopesAtWord(line("  report = loss"), "report"))).toBe(false);
  });

  it("names declarations", () => {
    expect(scopesAtWord(line("layer mixtral_moe(x: [T, D]) {"), "mixtral_moe")).toContain("entity.name.function.layer.moe");
    expect(scopesAtWord(line("model m(tokens: [T]) {"), "m")).toContain("entity.name.function.model.moe");
    expect(scopesAtWord(line("graph review(x: [T, D]) = a -> b"), "review")).toContain("entity.name.function.graph.moe");
    expect(scopesAtWord(line("const D = 4096"), "D")).toContain("variable.other.constant.moe");
    expect(scopesAtWord(line("graph review(x: [T, D]) = a -> b"), "->")).toContain("keyword.operator.arrow.moe");
  });

  it("reads numbers whole, with `_` separators, decimals and exponents", () => {
    const t = line("  let a = f(14_336, 0.4, 1e-6, 1000000.0, 2.5e+3, 7)");
    const number = (text: string): string[] => t.find((tok) => tok.text === text)?.scopes ?? [];
    expect(number("14_336")).toContain("constant.numeric.integer.moe");
    expect(number("7")).toContain("constant.numeric.integer.moe");
    for (const f of ["0.4", "1e-6", "1000000.0", "2.5e+3"]) expect(number(f), f).toContain("constant.numeric.float.moe");
  });

  it("reads comments and strings, including a block comment over lines", () => {
    const [first, second, third] = grammar.tokenize('  let x = y // note\n/* a |> b\n   experts E */ import { a } from "s\\"q"');
    expect(scopesAtWord(first!, "note")).toContain("comment.line.double-slash.moe");
    expect(scopesAtWord(second!, "|>")).toContain("comment.block.moe");
    expect(scopesAtWord(third!, "experts")).toContain("comment.block.moe");
    expect(scopesAtWord(third!, "import")).toContain("keyword.control.import.moe");
    expect(third!.filter((t) => t.scopes.includes("string.quoted.double.moe")).map((t) => t.text).join("")).toBe('"s\\"q"');
  });

  it("tokenizes every line of the contract programs, scoping each keyword occurrence the lexer sees", () => {
    for (const file of ["tests/fixtures/contract/section12.moe", "tests/fixtures/contract/section13.moe"]) {
      const lines = grammar.tokenize(readFileSync(join(repoRoot, file), "utf8"));
      for (const tokens of lines) {
        const text = tokens.map((t) => t.text).join("");
        if (/^\s*\/\//.test(text)) continue;
        for (const word of keywordWords) {
          const count = [...text.matchAll(new RegExp(`\\b${word}\\b`, "g"))].length;
          for (let i = 0; i < count; i++) expect(isKeyword(scopesAtWord(tokens, word, i)), `${word} in ${text}`).toBe(true);
        }
      }
    }
  });
});
