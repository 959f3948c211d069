// Control characters from a source or a message never reach the terminal raw: code frames and
// messages show them as escapes, and the underline stays under the escaped text.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checkFiles } from "../../../compiler/driver.js";
import { SourceCache, renderDiagnostics } from "../../../compiler/diagnostics/render.js";
import { escapeControl } from "../../../compiler/diagnostics/escape.js";

const FILE = path.resolve("/virtual/ctl.moe");

describe("escaping in rendered diagnostics", () => {
  it("escapes NUL, ESC, DEL, C1 and bidi overrides, keeps tabs", () => {
    expect(escapeControl("a\x00b\x1b[31mc\x7f\x9b\u202e\td\n")).toBe("a\\x00b\\x1b[31mc\\x7f\\x9b\\u{202e}\td\\n");
  });

  it("a source with ESC and NUL renders without raw control characters, underline under the escape", () => {
    const text = "layer l(x: [T, D], D = 16) {\n  return x\x1b[31m\x00\n}\n";
    const c = checkFiles([FILE], { host: { readFile: (f) => (f === FILE ? text : undefined) } });
    expect(c.diagnostics.map((d) => d.code)).toContain("E0001");
    const out = renderDiagnostics(c.diagnostics, new SourceCache((f) => (f === FILE ? text : undefined)));
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(out).toContain("unexpected character `\\x1b`");
    const lines = out.split("\n");
    const frame = lines.findIndex((l) => l.startsWith("2 |"));
    expect(lines[frame]).toBe("2 |   return x\\x1b[31m\\x00");
    // `  return x` is 10 characters: the caret sits under the 4-character escape `\x1b`.
    expect(lines[frame + 1]).toBe("  |           ^^^^ not part of the .moe language");
  });

  it("a very long line is shown as a window around the mark, the caret under the marked character", () => {
    const text = "layer l(x: [T, D], D = 16) {\n  return " + "x + ".repeat(500) + "$ + x\n}\n";
    const c = checkFiles([FILE], { host: { readFile: (f) => (f === FILE ? text : undefined) } });
    const d = c.diagnostics.find((x) => x.code === "E0001")!;
    expect(text[d.span.start]).toBe("$");
    const lines = renderDiagnostics([d], new SourceCache((f) => (f === FILE ? text : undefined))).split("\n");
    for (const l of lines) expect(l.length).toBeLessThan(200);
    const frame = lines.find((l) => l.startsWith("2 | "))!;
    const caret = lines.find((l) => l.includes("^"))!;
    expect(frame.startsWith("2 | …")).toBe(true);
    expect(frame.endsWith("…")).toBe(false); // the line ends within the window: `$ + x`
    expect(frame[caret.indexOf("^")]).toBe("$");
  });
});
