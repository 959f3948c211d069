// `router r = … per sequence` (LANGUAGE.md §11.1) in the front end: the IR router carries
// unit "sequence" (printed and read back), `per token` stays the default, and `choose … per
// sequence` is E0320 at the `per` clause with the select stage as a secondary label.
import { describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { printIr } from "../../../compiler/ir/print.js";
import { parseIr } from "../../../compiler/ir/parse.js";
import { verifyIr } from "../../../compiler/ir/verify.js";

const layer = (router: string) => `layer l(x: [T, D], D = 16) {
  experts E[4] = ffn(hidden = 8)
  router r = ${router}
  return moe(x, r, E)
}`;

function routerOf(source: string) {
  const c = compile({ source });
  expect(c.formatDiagnostics()).toBe("");
  const op = c.program!.ops.find((o) => o.op === "moe");
  if (op?.op !== "moe") throw new Error("no moe op");
  return { program: c.program!, router: op.router };
}

describe("per sequence routing in the front end", () => {
  it("marks the IR router, prints `per=sequence` and reads it back", () => {
    const { program, router } = routerOf(layer("linear |> softmax |> topk(2) |> renorm per sequence"));
    expect(router.unit).toBe("sequence");
    expect(router.scope).toBe("token");
    const text = printIr(program);
    expect(text).toContain("scope=token per=sequence");
    expect(parseIr(text)).toEqual(program);
    expect(verifyIr(program)).toEqual([]);
  });

  it("per token is the default and is not printed", () => {
    for (const r of ["linear |> topk(2)", "linear |> topk(2) per token"]) {
      const { program, router } = routerOf(layer(r));
      expect(router.unit).toBeUndefined();
      expect(printIr(program)).not.toContain("per=");
    }
  });

  it("choose … per sequence is E0320 at the per clause, naming the select stage", () => {
    const src = layer("linear |> softmax |> choose(capacity = 2.0) per sequence");
    const c = compile({ source: src });
    const d = c.diagnostics.find((x) => x.code === "E0320");
    expect(d, c.formatDiagnostics()).toBeDefined();
    expect(src.slice(d!.span.start, d!.span.end)).toBe("sequence");
    expect(d!.message).toContain("`choose`");
    expect(d!.secondary?.map((s) => src.slice(s.span.start, s.span.end))).toEqual(["choose"]);
    expect(c.ok).toBe(false);
  });

  it("other units stay E0249", () => {
    const c = compile({ source: layer("linear |> topk(2) per task") });
    expect(c.diagnostics.map((d) => d.code)).toContain("E0249");
  });

  it("the verifier refuses a per-sequence router over the run (scope run)", () => {
    const { program } = routerOf(layer("linear |> softmax |> topk(2) per sequence"));
    const op = program.ops.find((o) => o.op === "moe")!;
    if (op.op === "moe") op.router.scope = "run";
    expect(verifyIr(program).join("\n")).toContain("routes per sequence");
  });
});
