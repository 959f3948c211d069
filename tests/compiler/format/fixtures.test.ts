// Golden fixtures (prettier-java style): tests/fixtures/format/<case>/_input.moe formats to
// _output.moe, and _output.moe is already formatted.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatMoe } from "../../../compiler/format/format-moe.js";
import { astWithoutSpans, commentTexts, repoRoot } from "./format-helpers.js";

const dir = join(repoRoot, "tests/fixtures/format");
const cases = readdirSync(dir, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe("format fixtures", () => {
  it("has the fixture pairs the formatter promises to cover", () => {
    expect(cases).toEqual(
      expect.arrayContaining([
        "comments",
        "empty-and-dangling",
        "graphs",
        "imports-consts",
        "iterate-repeat",
        "long-arguments",
        "long-pipelines",
        "messy-spacing",
        "models",
        "parentheses",
        "records",
      ]),
    );
  });

  describe.each(cases)("%s", (name) => {
    const input = readFileSync(join(dir, name, "_input.moe"), "utf8");
    const expected = readFileSync(join(dir, name, "_output.moe"), "utf8");

    it("formats _input.moe to _output.moe", async () => {
      expect(await formatMoe(input)).toBe(expected);
    });
    it("leaves _output.moe unchanged", async () => {
      expect(await formatMoe(expected)).toBe(expected);
    });
    it("keeps the program and its comments", () => {
      expect(astWithoutSpans(expected)).toEqual(astWithoutSpans(input));
      expect(commentTexts(expected)).toEqual(commentTexts(input));
    });
  });
});
