// The playground's small parsers, against hand-written answers: the Set field's NAME=VALUE words,
// an example header's suggested run size, and the hover markdown's HTML (escaped, never raw).
import { describe, expect, it } from "vitest";
import { parseSetText } from "../../../browser/playground/source-input.js";
import { suggestedRun } from "../../../browser/playground/run-hint.js";
import { markdownToHtml } from "../../../browser/playground/hover-markdown.js";

describe("Set field", () => {
  it("takes NAME=VALUE words separated by spaces or commas", () => {
    expect(parseSetText("")).toEqual({ set: {} });
    expect(parseSetText(" D=64  I=96,N=8 ")).toEqual({ set: { D: "64", I: "96", N: "8" } });
  });
  it("names the word that is not NAME=VALUE", () => {
    expect(parseSetText("D=64 I")).toEqual({ error: "Set takes NAME=VALUE words, found `I`" });
    expect(parseSetText("=3")).toEqual({ error: "Set takes NAME=VALUE words, found `=3`" });
  });
});

describe("an example's suggested run", () => {
  it("reads --tokens and --set of the first `moec run` line of the header", () => {
    const src = "// A layer.\n// Runs small: moec run examples/mixtral.moe --random-weights --tokens 16 --set D=64 I=96\nlayer l() {}\n";
    expect(suggestedRun(src)).toEqual({ tokens: 16, set: "D=64 I=96" });
    expect(suggestedRun("//   moec run examples/x.moe --random-weights --tokens 7 --set D=32 I=48 --stats s.json\n")).toEqual({ tokens: 7, set: "D=32 I=48" });
  });
  it("ignores other commands and lines after the header", () => {
    expect(suggestedRun("//   moec generate examples/v.moe --random-weights --input-ids 1,2,3\n")).toEqual({});
    expect(suggestedRun("layer l() {}\n// moec run x.moe --tokens 4\n")).toEqual({});
  });
});

describe("hover markdown", () => {
  it("code blocks, inline code, bold and italics; everything else escaped", () => {
    const md = "```moe\nrouter r = linear |> topk(2)\n```\n\npipeline: `linear` *score* → **k = 2**\n<script>x</script>";
    expect(markdownToHtml(md)).toBe(
      "<pre>router r = linear |&gt; topk(2)</pre>" +
        "<p>pipeline: <code>linear</code> <i>score</i> → <b>k = 2</b><br>&lt;script&gt;x&lt;/script&gt;</p>",
    );
  });
});
