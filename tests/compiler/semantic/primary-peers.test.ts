// `primary_peers(…)` (LANGUAGE.md §11.1, Mixture of Thoughts) in the front end: the IR it lowers
// to (agent i's round-q layer under `i.q.`, projections `peers.q.i.weight` [ds, D], the
// cross-attention `peers.q.wq|wk|wv` [ds, ds] and `wo` [D, ds], the primary's residual update),
// `moec info`'s count against a hand count, and each bad call's code at the place it names.
import { describe, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { printIr } from "../../../compiler/ir/print.js";
import { parseIr } from "../../../compiler/ir/parse.js";

const LAYERS = `
layer moe2(x: [T, D], D = 16, N = 4, I = 8) {
  experts E[N] = ffn(hidden = I)
  router r = linear |> softmax |> topk(2) |> renorm
  return moe(x, r, E)
}
layer dense(x: [T, D], D = 16, I = 8) {
  let f = ffn(x, hidden = I)
  return x + f
}
const C = 3
`;
const graph = (body: string) => `${LAYERS}\ngraph g(x: [T, D], D = 16) = ${body}`;

describe("primary_peers in the front end", () => {
  it("lowers rounds of agent layers, projections and one cross-attention per round", () => {
    const c = compile({ source: graph("primary_peers(moe2(D = D), dense(D = D), dense(D = D, I = 4), latent = 8, heads = 2, rounds = 2)"), entry: "g" });
    expect(c.formatDiagnostics()).toBe("");
    const p = c.program!;
    const weights = new Map(p.weights.map((w) => [w.name, w.shape]));
    // Pools are descriptors of their ops (stacked tensors); agent i's round q is under `i.q.`.
    const pools = p.ops.flatMap((o) => (o.op === "moe" || o.op === "shared" ? [[o.pool.key, o.pool.hidden]] : []));
    expect(pools).toEqual([["0.0.E", 8], ["1.0.f", 8], ["2.0.f", 4], ["0.1.E", 8], ["1.1.f", 8], ["2.1.f", 4]]);
    for (const q of [0, 1]) {
      expect(weights.get(`0.${q}.r.weight`)).toEqual([4, 16]);
      for (const i of [0, 1, 2]) expect(weights.get(`peers.${q}.${i}.weight`)).toEqual([8, 16]);
      for (const w of ["wq", "wk", "wv"]) expect(weights.get(`peers.${q}.${w}`)).toEqual([8, 8]);
      expect(weights.get(`peers.${q}.wo`)).toEqual([16, 8]);
    }
    const peerOps = p.ops.filter((o) => o.op === "peer_attention");
    expect(peerOps.map((o) => o.op === "peer_attention" && [o.key, o.heads, o.outDim, o.peers.length])).toEqual([["peers.0", 2, 16, 2], ["peers.1", 2, 16, 2]]);
    // The output is the primary's stream after the last round: h₀ + attention.
    const last = p.ops[p.ops.length - 1]!;
    expect(last).toMatchObject({ op: "binary", fn: "add", b: peerOps[1]!.out });
    expect(parseIr(printIr(p))).toEqual(p);
    // Hand count: moe2 4·3·8·16 + 4·16 = 1600, dense(I=8) 384, dense(I=4) 192, per round;
    // projections 3·8·16 = 384 and attention 3·64 + 16·8 = 320 per round: 2 · 2880 = 5760.
    expect(c.info!.counts.total).toBe(5760);
  });

  it("one round by default, the round index present in every name", () => {
    const c = compile({ source: graph("primary_peers(dense(D = D), dense(D = D), latent = 4, heads = 1)"), entry: "g" });
    expect(c.formatDiagnostics()).toBe("");
    const names = c.program!.weights.map((w) => w.name);
    expect(c.program!.ops.flatMap((o) => (o.op === "shared" ? [o.pool.key] : []))).toEqual(["0.0.f", "1.0.f"]);
    expect(names).toContain("peers.0.wo");
    expect(names.some((n) => n.startsWith("peers.1"))).toBe(false);
  });

  const bad: [string, string, string][] = [
    ["primary_peers(dense(D = D), latent = 8, heads = 2)", "E0321", "primary_peers"],
    ["primary_peers(dense(D = D), dense(D = D), heads = 2)", "E0322", "primary_peers(dense(D = D), dense(D = D), heads = 2)"],
    ["primary_peers(dense(D = D), dense(D = D), latent = 8, heads = 2, width = 3)", "E0322", "width"],
    ["primary_peers(dense(D = D), dense(D = D), latent = 8, heads = 2, rounds = 0)", "E0322", "0"],
    ["primary_peers(dense(D = D), dense(D = D), latent = 8, heads = 3)", "E0323", "3"],
    ["primary_peers(dense(D = D), C, latent = 8, heads = 2)", "E0324", "C"],
  ];
  for (const [body, code, at] of bad) {
    it(`${code}: ${body}`, () => {
      const src = graph(body);
      const c = compile({ source: src, entry: "g" });
      const d = c.diagnostics.find((x) => x.code === code);
      expect(d, c.formatDiagnostics()).toBeDefined();
      expect(src.slice(d!.span.start, d!.span.end)).toBe(at);
      expect(c.ok).toBe(false);
    });
  }
});
