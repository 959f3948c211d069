// Every .moe program in the repository (examples and the LANGUAGE.md contract) survives
// formatting: same AST, every comment exactly once, and a second pass changes nothing.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatMoe } from "../../../compiler/format/format-moe.js";
import { astWithoutSpans, commentTexts, moeFilesUnder, occurrences, repoRoot } from "./format-helpers.js";

const files = [...moeFilesUnder("examples"), ...moeFilesUnder("tests/fixtures/contract")];

describe("formatting the example corpus", () => {
  it("covers the contract programs", () => {
    expect(files).toEqual(expect.arrayContaining(["tests/fixtures/contract/section12.moe", "tests/fixtures/contract/section13.moe"]));
  });

  describe.each(files)("%s", (file) => {
    const input = readFileSync(join(repoRoot, file), "utf8");

    it("is idempotent, keeps the AST and keeps every comment exactly once", async () => {
      const once = await formatMoe(input, { filepath: file });
      expect(await formatMoe(once, { filepath: file })).toBe(once);
      expect(astWithoutSpans(once)).toEqual(astWithoutSpans(input));
      expect(commentTexts(once)).toEqual(commentTexts(input));
      for (const text of new Set(commentTexts(input))) {
        expect(occurrences(once, text), text).toBe(occurrences(input, text));
      }
    });
  });
});
