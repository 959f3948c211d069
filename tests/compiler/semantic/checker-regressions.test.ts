// Regressions for checker behaviour reported while writing the docs and the fuzz tests: each case
// must give exactly the diagnostics listed (code, line:col), with no cascaded follow-ons.
import { describe, it, expect } from "vitest";
import * as path from "node:path";
import { checkFiles, lowerEntry } from "../../../compiler/driver.js";
import type { SourceHost } from "../../../compiler/semantic/module-loader.js";

const FILE = path.resolve("/virtual/case.moe");
const hostOf = (text: string): SourceHost => ({ readFile: (f) => (path.resolve(f) === FILE ? text : undefined) });

function diagnostics(text: string): string[] {
  const c = checkFiles([FILE], { host: hostOf(text) });
  return c.diagnostics.map((d) => {
    const before = text.slice(0, d.span.start);
    const line = before.split("\n").length;
    const col = d.span.start - before.lastIndexOf("\n");
    return `${d.code} ${line}:${col}`;
  });
}

describe("checker regressions", () => {
  it("rejects `repeat` nested in `iterate` (the copies' weight names would collide)", () => {
    const src = `model m(tokens: [T], V = 4, D = 2) {
  let h = embed(tokens, vocab = V, dim = D)
  iterate 2 {
    repeat 2 as layers {
      let n = rmsnorm(h)
      h = h + n
    }
  }
  let o = lm_head(h, vocab = V)
  return o
}
`;
    expect(diagnostics(src)).toEqual(["E0251 4:5"]);
  });

  it("rejects lm_head with both vocab and tied, and reports a bad `tied` once", () => {
    const both = `model m(tokens: [T], V = 4, D = 2) {
  let h = embed(tokens, vocab = V, dim = D)
  let o = lm_head(h, vocab = 99, tied = h)
  return o
}
`;
    expect(diagnostics(both)).toEqual(["E0291 3:22"]);
    const bad = both.replace("vocab = 99, tied = h", "tied = o2").replace("let o = ", "let o2 = ").replace("return o", "return o2");
    expect(diagnostics(bad)).toEqual(["E0290 3:30"]);
  });

  it("reports a router declared outside `iterate` and used inside it", () => {
    const src = `layer a(x: [T, D], D = 8) {
  experts E[4] = ffn(hidden = 4)
  router r = linear |> topk(1)
  iterate 2 {
    x = x + moe(x, r, E)
  }
  return x
}
`;
    expect(diagnostics(src)).toEqual(["E0298 5:20"]);
  });

  it("gives no cascaded 'missing argument' or 'never used' after a misused argument, pool or router", () => {
    const src = `layer a(x: [T, D], D = 8) {
  experts E[4] = ffn(hidden = 4)
  router q = linear |> topp(max = 2, 0.5)
  return moe(x, q, E)
}
layer b(x: [T, D], D = 8) {
  experts E[4] = ffn(hidden = 4)
  return E(x)
}
layer c(x: [T, D], D = 8) {
  experts E[4] = ffn(hidden = 4)
  router r = linear |> topk(1)
  return moe(x, r)
}
`;
    expect(diagnostics(src)).toEqual(["E0301 3:38", "E0280 8:10", "W0002 11:11", "E0295 13:10"]); // c never names E: that warning is real
  });

  it("applies `loss balance` written inside a block to every router of the layer", () => {
    const src = `layer b(x: [T, D], D = 8) {
  experts E[4] = ffn(hidden = 4)
  iterate 1 {
    loss balance(coef = 0.5)
  }
  router r = linear |> topk(1)
  return moe(x, r, E)
}
`;
    const lowered = lowerEntry([FILE], { host: hostOf(src) });
    const moe = lowered.program!.ops.find((o) => o.op === "moe");
    expect(moe?.op === "moe" && moe.router.balanceCoef).toBe(0.5);
  });
});
