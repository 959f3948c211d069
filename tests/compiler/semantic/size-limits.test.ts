// Hostile sizes end in a located, named error within bounded time, never a crash or an
// out-of-memory: each case from issue 17 with the code and line:column it must give (positions
// counted by hand from the sources below), checked and run through `info`.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checkFiles, entryInfo } from "../../../compiler/driver.js";

const FILE = path.resolve("/virtual/limits.moe");
const host = (text: string) => ({ readFile: (f: string) => (path.resolve(f) === FILE ? text : undefined) });

function located(text: string): string[] {
  const c = checkFiles([FILE], { host: host(text) });
  return c.diagnostics.filter((d) => d.severity === "error").map((d) => {
    const before = text.slice(0, d.span.start);
    return `${d.code} ${before.split("\n").length}:${d.span.start - before.lastIndexOf("\n")}`;
  });
}

const pool = (decl: string, D = 16) => `layer l(x: [T, D], D = ${D}) {\n  ${decl}\n  router r = linear |> topk(2)\n  return moe(x, r, E)\n}\n`;

describe("size limits", () => {
  it.each([
    ["a 10^9-member pool", pool("experts E[1000000000] = ffn(hidden = 8)"), ["E0501 2:13"]],
    ["10^8 atoms", pool("experts E[100000000] = atom(act = gelu)"), ["E0501 2:13"]],
    ["2^31-1 experts", pool("experts E[2147483647] = ffn(hidden = 8)"), ["E0501 2:13"]],
    ["split past the pool limit", pool("experts E[8] = ffn(hidden = 1048576) split 1048576"), ["E0501 2:46"]],
    ["a tensor of 2^40 · 16 elements", pool("experts E[8] = ffn(hidden = 1099511627776)"), ["E0502 2:11"]],
    ["2^46 weights in one pool", pool("experts E[1048576] = ffn(hidden = 1048576)", 32), ["E0503 1:7"]],
    ["65536^5 (1.2e24)", "layer l(x: [T, D], D = 16, I = 65536*65536*65536*65536*65536) {\n  return x\n}\n", ["E0500 1:49"]],
    ["an integer literal beyond 2^53", "layer l(x: [T, D], D = 16, I = 99999999999999999999) {\n  return x\n}\n", ["E0500 1:32"]],
    ["scale(1e400)", "layer l(x: [T, D], D = 16) {\n  experts E[8] = ffn(hidden = 8)\n  router r = linear |> topk(2) |> scale(1e400)\n  return moe(x, r, E)\n}\n", ["E0500 3:41"]],
    ["iterate 1000000 with a router", "layer l(x: [T, D], D = 16) {\n  experts E[8] = ffn(hidden = 8)\n  iterate 1000000 {\n    router r = linear |> topk(2)\n    x = x + moe(x, r, E)\n  }\n  return x\n}\n", ["E0504 3:11"]],
    ["repeat 2147483647", "model m(tokens: [T], V = 100, D = 16) {\n  let h = embed(tokens, vocab = V, dim = D)\n  repeat 2147483647 as layers {\n    let n = rmsnorm(h)\n    h = h + n\n  }\n  let o = lm_head(h, vocab = V)\n  return o\n}\n", ["E0504 3:10"]],
  ])("%s", (_name, text, expected) => {
    const t0 = Date.now();
    expect(located(text)).toEqual(expected);
    const info = entryInfo([FILE], { host: host(text) });
    expect(info.info).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("a chain of 3,000 layer calls at new bindings stops at depth 200, reported once at that call", () => {
    let text = "layer l0(x: [T, D], D = 16, K = 0) {\n  return x\n}\n";
    for (let i = 1; i <= 201; i++) text += `layer l${i}(x: [T, D], D = 16, K = 0) {\n  let y = l${i - 1}(x, K = K + 1)\n  return y\n}\n`;
    const c = checkFiles([FILE], { host: host(text) });
    const deep = c.diagnostics.filter((d) => d.code === "E0505");
    expect(deep.length).toBeGreaterThanOrEqual(1);
    // l201 → l200 → … → l1 → l0 is 201 calls deep: the 201st call, `l0(x, …)` inside l1, is refused.
    expect(new Set(deep.map((d) => d.message))).toEqual(new Set(["layer and graph calls nest more than 200 deep here"]));
    const lineOf = (d: (typeof deep)[number]) => text.slice(0, d.span.start).split("\n").length;
    expect(deep.map(lineOf)).toContain(5); // `let y = l0(x, K = K + 1)` is line 5
  });

  it("20,000 constants each defined by the next: E0505, no stack overflow; 500 of them evaluate", () => {
    const chain = (n: number) => "layer l(x: [T, D], D = c0) {\n  return x\n}\n" + Array.from({ length: n }, (_, i) => `const c${i} = c${i + 1} + 1\n`).join("") + `const c${n} = 1\n`;
    const t0 = Date.now();
    expect(new Set(checkFiles([FILE], { host: host(chain(20_000)) }).diagnostics.map((d) => d.code))).toEqual(new Set(["E0505"]));
    expect(Date.now() - t0).toBeLessThan(20_000);
    // c499 = 1, so c0 = 1 + 499.
    expect(entryInfo([FILE], { host: host(chain(499)) }).info?.hyper).toEqual({ D: 500 });
  });

  it("PEER at the paper's size (1024² atoms) and DeepSeek-V3 at full size stay inside the limits", () => {
    const peer = pool("experts E[1048576] = atom(act = gelu)", 1024);
    expect(located(peer)).toEqual([]);
  });
});
