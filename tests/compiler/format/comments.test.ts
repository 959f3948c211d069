// Comment placement: hand-written expectations for the positions where Prettier's defaults
// would misplace a comment, and a sweep that puts a comment at every token boundary.
import { describe, expect, it } from "vitest";
import { formatMoe } from "../../../compiler/format/format-moe.js";
import { parseSource } from "../../../compiler/syntax/parse.js";
import { astWithoutSpans, commentTexts } from "./format-helpers.js";

const lines = (...l: string[]): string => l.join("\n") + "\n";

describe("comment placement", () => {
  it("moves a comment after `(` onto the first parameter's line, inside the list", async () => {
    const out = await formatMoe(lines("layer a(// why these", "  x: [T, D]) {", "  return x", "}"));
    expect(out).toBe(lines("layer a(", "  // why these", "  x: [T, D],", ") {", "  return x", "}"));
  });

  it("keeps stage comments on their stages and puts an own-line comment above its `|>` line", async () => {
    const out = await formatMoe(
      lines("layer a(x: [T, D]) {", "  router r = linear // score", "    // then pick two", "    |> topk(2) // pick", "  return x", "}"),
    );
    expect(out).toBe(
      lines("layer a(x: [T, D]) {", "  router r = linear // score", "    // then pick two", "    |> topk(2) // pick", "  return x", "}"),
    );
  });

  it("does not let a line comment float past `per`: it ends the statement's line", async () => {
    const out = await formatMoe(lines("layer a(x: [T, D]) {", "  router s = linear |> topk(2) // before per", "    per token", "  return x", "}"));
    expect(out).toBe(lines("layer a(x: [T, D]) {", "  router s = linear |> topk(2) per token // before per", "  return x", "}"));
  });

  it("keeps comments inside empty brackets and empty bodies", async () => {
    const out = await formatMoe(lines("layer b(/* no params */) { // nothing yet", "}", "const C = f(  // why empty", ")"));
    expect(out).toBe(lines("layer b(/* no params */) {", "  // nothing yet", "}", "", "const C = f(", "  // why empty", ")"));
  });

  it("keeps a comment under the last statement, and drops the blank line before `}`", async () => {
    const out = await formatMoe(lines("layer a(x: [T, D]) {", "  return x", "  // about x", "", "}"));
    expect(out).toBe(lines("layer a(x: [T, D]) {", "  return x", "  // about x", "}"));
  });

  it("keeps a comment written inside redundant parentheses after they are removed", async () => {
    expect(await formatMoe(lines("const C = (1 + 2 // three", ")"))).toBe(lines("const C = 1 + 2 // three"));
  });

  it("keeps header comments and the blank line after them", async () => {
    const out = await formatMoe(lines("// header", "", "/* block", "   kept as written */", "const A = 1"));
    expect(out).toBe(lines("// header", "", "/* block", "   kept as written */", "const A = 1"));
  });

  it("formats a file of comments only", async () => {
    expect(await formatMoe("// one\n\n\n/* two */  \n")).toBe("// one\n\n/* two */\n");
  });
});

// Small, but with every construct: each token boundary gets a comment of each kind in turn.
const PROGRAM = lines(
  'import { a, b } from "std"',
  "const D = 1",
  "layer l(x: [T, D], D = 4, N) {",
  "  experts E[N] = ffn(hidden = 4, act = relu) split 2",
  "  router r = linear |> softmax |> topk(2) per token",
  "  iterate 2 {",
  "    x = -x + (x - 1) * 2",
  "  }",
  "  report load, entropy",
  "  return { a: moe(x, r, E), b: [x, x] }",
  "}",
  "model m(tokens: [T]) {",
  "  repeat 2 as layers from 1 {",
  "    let h = f()",
  "  }",
  "  return h",
  "}",
  "graph g(x: [T, D]) = a(D = D) -> b |> mean",
);

describe("a comment at every token boundary", () => {
  const { tokens } = parseSource(PROGRAM, "sweep.moe");
  const kinds = {
    "line comment": (i: number) => `// c${i}\n`,
    "own-line comment": (i: number) => `\n// c${i}\n`,
    "block comment": (i: number) => `/* c${i} */ `,
  };

  it.each(Object.entries(kinds))("%s: formats, keeps the AST and the comment, and is idempotent", async (_kind, make) => {
    const offsets = [...tokens.map((t) => t.startOffset), PROGRAM.length];
    // A comment changes neither the AST nor, after formatting, anything but its own place.
    const ast = JSON.stringify(astWithoutSpans(PROGRAM));
    const failures: string[] = [];
    for (const [i, at] of offsets.entries()) {
      const input = PROGRAM.slice(0, at) + make(i) + PROGRAM.slice(at);
      const once = await formatMoe(input);
      const twice = await formatMoe(once);
      const same = JSON.stringify(astWithoutSpans(once)) === ast;
      const kept = JSON.stringify(commentTexts(once)) === JSON.stringify([make(i).trim()]);
      if (once !== twice || !same || !kept) failures.push(`before token ${i}: ${JSON.stringify(input.slice(Math.max(0, at - 20), at + 20))}`);
    }
    expect(failures).toEqual([]);
  });
});
