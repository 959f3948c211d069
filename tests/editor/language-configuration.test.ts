// The editor behaviour the language configuration promises for .moe files.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../compiler/format/format-helpers.js";

const config = JSON.parse(readFileSync(join(repoRoot, "vscode-extension/language-configuration.json"), "utf8"));

describe("language-configuration.json", () => {
  it("declares the .moe comment syntax and bracket pairs", () => {
    expect(config.comments).toEqual({ lineComment: "//", blockComment: ["/*", "*/"] });
    expect(config.brackets).toEqual([["{", "}"], ["[", "]"], ["(", ")"]]);
  });

  it("auto-closes brackets and quotes (not inside strings or comments) and surrounds selections with them", () => {
    const pairs = config.autoClosingPairs.map((p: { open: string; close: string }) => p.open + p.close);
    expect(pairs).toEqual(expect.arrayContaining(["{}", "[]", "()", '""']));
    expect(config.autoClosingPairs.find((p: { open: string }) => p.open === '"').notIn).toEqual(["string", "comment"]);
    expect(config.surroundingPairs).toEqual(expect.arrayContaining([["(", ")"], ['"', '"']]));
  });

  it("indents after an opening `{` and outdents a line starting with `}`", () => {
    const increase = new RegExp(config.indentationRules.increaseIndentPattern);
    const decrease = new RegExp(config.indentationRules.decreaseIndentPattern);
    expect(increase.test("layer mixtral_moe(x: [T, D], D = 4096) {")).toBe(true);
    expect(increase.test("  repeat 27 as layers from 1 {")).toBe(true);
    expect(increase.test("  return { click: moe(x, g, E) }")).toBe(false);
    expect(increase.test("  let y = f(x)")).toBe(false);
    expect(decrease.test("  }")).toBe(true);
    expect(decrease.test("  let y = f(x)")).toBe(false);
  });

  it("selects whole names and numbers as words", () => {
    const word = new RegExp(`^(?:${config.wordPattern})$`);
    for (const w of ["shared_expert", "E", "14_336", "1e-6", "0.4"]) expect(word.test(w), w).toBe(true);
    expect(word.test("a|>b")).toBe(false);
  });
});
