// formatMoe's contract beyond layout: refusal of broken files, options, line endings.
import { describe, expect, it } from "vitest";
import { formatMoe } from "../../../compiler/format/format-moe.js";
import { MoeSyntaxError } from "../../../compiler/format/parse-moe.js";

describe("formatMoe", () => {
  it("refuses a file with a syntax error, naming line:col and the parser's message", async () => {
    const broken = "layer a(x: [T]) {\n  let y = f(x\n}\n";
    const error = await formatMoe(broken).then(
      () => undefined,
      (e: unknown) => e as MoeSyntaxError,
    );
    expect(error).toBeInstanceOf(SyntaxError);
    expect(error!.message).toMatch(/^expected `\)`, found `\}` \[E0100\] \(3:1\)/);
    expect(error!.loc).toEqual({ start: { line: 3, column: 1 } });
  });

  it("reports the first error in the file and counts the others", async () => {
    await expect(formatMoe("layer a( {\n  return $\n}\n")).rejects.toThrow(/^expected .* \[E\d+\] \(and \d+ more syntax errors?\) \(1:10\)/);
  });

  it("formats an empty file to an empty file", async () => {
    expect(await formatMoe("")).toBe("");
    expect(await formatMoe("\n\n  \n")).toBe("");
  });

  it("breaks at the given printWidth (default 100)", async () => {
    const src = "layer a(x: [T, D]) {\n  router r = linear |> softmax |> topk(2) |> renorm\n  return x\n}\n";
    expect(await formatMoe(src)).toBe(src);
    expect(await formatMoe(src, { printWidth: 40 })).toBe(
      "layer a(x: [T, D]) {\n  router r = linear\n    |> softmax\n    |> topk(2)\n    |> renorm\n  return x\n}\n",
    );
  });

  it("honours tabWidth", async () => {
    expect(await formatMoe("layer a(x: [T, D]) { return x }", { tabWidth: 4 })).toBe("layer a(x: [T, D]) {\n    return x\n}\n");
  });

  it("turns CRLF into LF and keeps numbers and strings exactly as written", async () => {
    const src = 'import { a } from "./x.moe"\r\n\r\nconst A = 14_336\r\nconst B = 1e-6\r\nconst C = 1000000.0\r\n';
    expect(await formatMoe(src)).toBe('import { a } from "./x.moe"\n\nconst A = 14_336\nconst B = 1e-6\nconst C = 1000000.0\n');
  });

  it("prints `- -x` as `-(-x)` and keeps the parentheses precedence needs", async () => {
    expect(await formatMoe("const A = - - x\nconst B = ((a - (b - c)) * (d + e))\n")).toBe("const A = -(-x)\nconst B = (a - (b - c)) * (d + e)\n");
  });
});
