// The front end of decoding graphs (LANGUAGE.md §11.2; compiler/semantic/elaborate/decoding-graph.ts):
// each form elaborates to the DecodingGraph the runtime reads — agents numbered in reading order
// with `route`'s router first, each compiled alone under its own names, sep as ids or a string,
// after / rounds / confidence / the combiner as written; `moec info` counts every agent's weights
// under `i.`; and every bad graph gives its code at the place it names.
import { describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { DecodingForm } from "../../../compiler/ir/decoding-graph.js";

const MODELS = `
model tiny(tokens: [T], V = 32, D = 16) {
  let h = embed(tokens, vocab = V, dim = D)
  let logits = lm_head(h, vocab = V)
  return logits
}
model picker(tokens: [T], V = 32, D = 8, A = 2) {
  let h = embed(tokens, vocab = V, dim = D)
  let logits = lm_head(h, vocab = A)
  return logits
}
`;

function formOf(graph: string): { form: DecodingForm; models: string[]; dims: number[] } {
  const c = compile({ source: MODELS + `graph g(tokens: [T]) = ${graph}`, entry: "g" });
  expect(c.formatDiagnostics()).toBe("");
  const g = c.decodingGraph!;
  g.agents.forEach((a, i) => expect(a.index).toBe(i));
  return { form: g.form, models: g.agents.map((a) => a.model), dims: g.agents.map((a) => a.program.values[a.program.outputs[0]!.value]!.width) };
}

describe("decoding graphs elaborate to their forms", () => {
  it("each form, with its arguments and agent numbers", () => {
    expect(formOf("tiny()").form).toEqual({ kind: "model", agent: 0 });
    expect(formOf("tiny() -> tiny() -> tiny()").form).toEqual({ kind: "chain", agents: [0, 1, 2], sep: { ids: [] } });
    expect(formOf("chain(tiny(), tiny(), sep = [7, 8])").form).toEqual({ kind: "chain", agents: [0, 1], sep: { ids: [7, 8] } });
    expect(formOf('chain(tiny(), tiny(), sep = "\\n\\n")').form).toEqual({ kind: "chain", agents: [0, 1], sep: { text: "\n\n" } });
    expect(formOf("parallel(tiny(), tiny(D = 8)) |> mean").form).toEqual({ kind: "mean", agents: [0, 1] });
    expect(formOf("parallel(tiny(), tiny(), tiny()) |> vote").form).toEqual({ kind: "vote", agents: [0, 1, 2] });
    expect(formOf("relay(tiny(), tiny(), after = 3)").form).toEqual({ kind: "relay", agents: [0, 1], after: 3 });
    expect(formOf("debate(tiny(), tiny(), rounds = 2, sep = [7]) |> first").form).toEqual({ kind: "debate", agents: [0, 1], rounds: 2, sep: { ids: [7] }, combiner: "first" });
    expect(formOf("cascade(tiny(), tiny(D = 8), confidence = 0.5)").form).toEqual({ kind: "cascade", agents: [0, 1], confidence: 0.5 });
    const r = formOf("route(picker(A = 3), tiny(), tiny(), tiny())");
    expect(r.form).toEqual({ kind: "route", router: 0, agents: [1, 2, 3] });
    expect(r.models).toEqual(["picker", "tiny", "tiny", "tiny"]);
    expect(r.dims).toEqual([3, 32, 32, 32]);
    expect(formOf("concurrent(tiny(), threads = 4)").form).toEqual({ kind: "concurrent", agent: 0, threads: 4 });
  });

  it("agents are compiled at their own bindings under their own names; info counts them under i.", () => {
    const c = compile({ source: MODELS + "graph g(tokens: [T]) = parallel(tiny(), tiny(D = 8)) |> mean", entry: "g" });
    const [a, b] = c.decodingGraph!.agents;
    const embed = (p: typeof a.program) => p.ops.find((o) => o.op === "embed")!;
    expect(embed(a!.program).weight).toBe("h");
    expect(a!.program.values[embed(a!.program).out]!.width).toBe(16);
    expect(b!.program.values[embed(b!.program).out]!.width).toBe(8);
    // Hand count: agent 0 embeds and heads 32×16 twice, agent 1 32×8 twice.
    expect(c.info!.counts.total).toBe(2 * 32 * 16 + 2 * 32 * 8);
    expect(c.info!.weights.map((w) => w.name)).toEqual(expect.arrayContaining(["0.h.weight", "0.logits.weight", "1.h.weight", "1.logits.weight"]));
  });
});

describe("bad decoding graphs", () => {
  const cases: [string, string, string][] = [
    ["parallel(tiny(), tiny(V = 40)) |> mean", "E0312", "agent 1 (`tiny`) has V = 40"],
    ["route(picker(A = 3), tiny(), tiny())", "E0313", "its lm_head has 3 outputs, and 2 agents follow it"],
    ["route(picker(V = 30), tiny(), tiny())", "E0313", "its embed has 30 ids"],
    ["parallel(tiny(), tiny()) |> sum", "E0316", "`parallel(…) |> sum` over models"],
    ["parallel(tiny(), tiny())", "E0311", "needs a combiner"],
    ["debate(tiny(), rounds = 2) |> mean", "E0311", "unknown combiner"],
    ["chain(tiny(), parallel(tiny(), tiny()) |> vote)", "E0311", "do not nest"],
    ["cascade(tiny(), tiny(), tiny(), confidence = 0.5)", "E0311", "exactly two agents"],
    ["cascade(tiny(), tiny())", "E0314", "needs `confidence = θ`"],
    ["cascade(tiny(), tiny(), confidence = 2)", "E0314", "a probability in [0, 1]"],
    ["relay(tiny(), tiny(), afer = 2)", "E0314", "has no argument `afer`"],
    ["relay(tiny(), tiny(), after = 0)", "E0314", "`after` is an integer ≥ 1"],
    ["debate(tiny(), tiny(), rounds = 1.5) |> vote", "E0314", "`rounds` is an integer ≥ 1"],
    ["chain(tiny(), tiny(), sep = [1, -2])", "E0314", "`sep` is a list of token ids"],
    ["concurrent(tiny())", "E0314", "`concurrent` needs `threads = N`"],
    ["concurrent(tiny(), threads = 0)", "E0314", "`threads` is an integer ≥ 1"],
    ["concurrent(tiny(), threads = 2.5)", "E0314", "`threads` is an integer ≥ 1"],
    ["concurrent(tiny(), tiny(), threads = 2)", "E0311", "exactly one agent"],
    ["tiny(W = 2)", "E0300", "no hyper-parameter `W`"],
    ["lay()", "E0310", "the agents of a graph over token ids"],
  ];
  for (const [graph, code, message] of cases) {
    it(`${graph} → ${code}`, () => {
      const src = MODELS + "layer lay(x: [T, D], D = 16) { return x }\n" + `graph g(tokens: [T]) = ${graph}\n`;
      const c = compile({ source: src, entry: "g" });
      expect(c.ok).toBe(false);
      const d = c.diagnostics.find((x) => x.code === code);
      expect(d, c.formatDiagnostics()).toBeDefined();
      expect(d!.message).toContain(message);
      // Located inside the graph's line.
      const line = src.lastIndexOf("graph g(");
      expect(d!.span.start).toBeGreaterThanOrEqual(line);
    });
  }

  it("a model agent in a graph over tensors is E0310", () => {
    const c = compile({ source: MODELS + "graph g(x: [T, D], D = 16) = tiny()", entry: "g" });
    expect(c.diagnostics.map((d) => d.code)).toContain("E0310");
  });
});
