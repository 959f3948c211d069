// Nesting limits of the parser: deep brackets and deep trees are one located error each (not
// "E0002 … Maximum call stack size exceeded"), and what stays inside the limits parses, checks and
// formats.
import { describe, expect, it } from "vitest";
import { parseSource } from "../../../compiler/syntax/parse.js";
import { formatMoe } from "../../../compiler/format/format-moe.js";
import { checkFiles } from "../../../compiler/driver.js";
import { MAX_BRACKET_NESTING, MAX_SYNTAX_DEPTH } from "../../../compiler/syntax/depth-limits.js";

const layer = (expr: string) => `layer l(x: [T, D], D = 16) {\n  return ${expr}\n}\n`;
const codes = (text: string) => parseSource(text, "/v/a.moe").diagnostics.map((d) => d.code);

describe("depth limits", () => {
  it("290 nested parentheses: E0105 at the `(` that opens level 101 (the body's `{` is level 1)", () => {
    const text = layer("(".repeat(290) + "x" + ")".repeat(290));
    const ds = parseSource(text, "/v/a.moe").diagnostics;
    expect(ds.map((d) => d.code)).toEqual(["E0105"]);
    // line 2 starts after 29 characters; `  return ` is 9 more; the 100th `(` is 99 further.
    expect(ds[0]!.span.start).toBe(29 + 9 + 99);
  });

  it(`${MAX_BRACKET_NESTING} levels of brackets (the body and ${MAX_BRACKET_NESTING - 1} parentheses) parse, check and format`, async () => {
    const text = layer("(".repeat(MAX_BRACKET_NESTING - 1) + "x" + ")".repeat(MAX_BRACKET_NESTING - 1));
    expect(codes(text)).toEqual([]);
    expect(checkFiles(["/v/a.moe"], { host: { readFile: () => text } }).diagnostics).toEqual([]);
    expect(await formatMoe(text, {})).toBe(layer("x"));
  });

  it("a 250,000-term sum is one E0106, found without recursion", () => {
    const t0 = Date.now();
    expect(codes(layer(Array(250_000).fill("x").join(" + ")))).toEqual(["E0106"]);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it("a 20,000-stage graph pipeline is one E0106", () => {
    const text = "layer a(x: [T, D], D = 16) {\n  return x\n}\ngraph g(x: [T, D], D = 16) = " + Array(20_000).fill("a(D = D)").join(" -> ") + "\n";
    expect(codes(text)).toEqual(["E0106"]);
  });

  it(`${MAX_SYNTAX_DEPTH - 10} nested negations check and format; 900 are one E0106 (the formatter overflowed there)`, async () => {
    const negations = (n: number) => layer("-".repeat(n) + "x");
    expect(checkFiles(["/v/a.moe"], { host: { readFile: () => negations(MAX_SYNTAX_DEPTH - 10) } }).diagnostics).toEqual([]);
    const formatted = await formatMoe(negations(MAX_SYNTAX_DEPTH - 10), {});
    expect(formatted.split("-").length - 1).toBe(MAX_SYNTAX_DEPTH - 10);
    expect(codes(negations(900))).toEqual(["E0106"]);
  });

  it(`a sum of ${MAX_SYNTAX_DEPTH - 10} terms checks and formats`, async () => {
    const text = layer(Array(MAX_SYNTAX_DEPTH - 10).fill("x").join(" + "));
    expect(checkFiles(["/v/a.moe"], { host: { readFile: () => text } }).diagnostics.map((d) => d.code)).toEqual([]);
    const formatted = await formatMoe(text, {});
    expect(formatted.match(/\bx\b/g)!.length).toBe(MAX_SYNTAX_DEPTH - 10 + 1); // the terms and the parameter `x`
  });
});
