// `moec info` on graphs: parameters and FLOPs per agent, and each decoding form's forward passes
// and FLOPs per generated token (docs/topologies.md "Cost per generated token"). Every expected
// number is worked out by hand from the tiny model below, never read from the code under test.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { infoJson, moec } from "../../helpers/cli.js";

// m(V = 16, D = 8, I = 16): embed 16·8 = 128; per layer wq, wk, wv, wo 4·8² = 256, swiglu ffn
// 3·8·16 = 384, two norms 16; final norm 8; lm_head 16·8 = 128.
// Parameters: L = 1: 128 + 656 + 8 + 128 = 920; L = 2: 128 + 2·656 + 8 + 128 = 1,576.
// FLOPs per token (2 × matrix weights, embedding a lookup): L = 1: 2·(640 + 128) = 1,536;
// L = 2: 2·(2·640 + 128) = 2,816. The router r(V = 16, D = 8, A = 2): embed 128, norm 8,
// lm_head 2·8 = 16 → 152 parameters, 2·16 = 32 FLOPs.
const P1 = 920, P2 = 1576, F1 = 1536, F2 = 2816, PR = 152, FR = 32;
const SOURCE = `
model m(tokens: [T], V = 16, D = 8, L = 1, H = 2, I = 16) {
  let h = embed(tokens, vocab = V, dim = D)
  repeat L as layers {
    let input_layernorm = rmsnorm(h)
    let self_attn = attention(input_layernorm, heads = H)
    h = h + self_attn
    let post_attention_layernorm = rmsnorm(h)
    let mlp = ffn(post_attention_layernorm, hidden = I)
    h = h + mlp
  }
  let norm = rmsnorm(h)
  let lm_head = lm_head(norm, vocab = V)
  return lm_head
}
model r(tokens: [T], V = 16, D = 8, A = 2) {
  let h = embed(tokens, vocab = V, dim = D)
  let norm = rmsnorm(h)
  let lm_head = lm_head(norm, vocab = A)
  return lm_head
}
graph ens(tokens: [T]) = parallel(m(), m(L = 2)) |> mean
graph maj(tokens: [T]) = parallel(m(), m(), m(L = 2)) |> vote
graph ch(tokens: [T]) = chain(m(), m(L = 2), m(), sep = [3])
graph rel(tokens: [T]) = relay(m(), m(L = 2), after = 2)
graph deb(tokens: [T]) = debate(m(), m(L = 2), m(), rounds = 3) |> first
graph cas(tokens: [T]) = cascade(m(), m(L = 2), confidence = 0.5)
graph rt(tokens: [T]) = route(r(), m(), m(L = 2))
graph gt(tokens: [T]) = concurrent(m(L = 2), threads = 4)
`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-graph-cost-"));
const file = path.join(dir, "graphs.moe");
fs.writeFileSync(file, SOURCE);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cost = async (entry: string) => {
  const j = await infoJson([file, "--entry", entry]);
  return { agents: j.agents.map((a: any) => [a.index, a.model, a.params, a.flops_per_token]), d: j.decoding_cost, total: j.params.total };
};
const same = (passes: number, flops: number) => ({ best: { forward_passes: passes, flops }, worst: { forward_passes: passes, flops } });

describe("moec info on decoding graphs", () => {
  it("mean: per-agent counts, totals, n passes and Σ FLOPs per token", async () => {
    const c = await cost("ens");
    expect(c.agents).toEqual([[0, "m", P1, F1], [1, "m", P2, F2]]);
    expect(c.total).toBe(P1 + P2);
    expect(c.d.form).toBe("mean");
    expect(c.d.per_generated_token).toEqual(same(2, F1 + F2));
    expect(c.d.prompt_flops_per_token).toBe(F1 + F2);
  });

  it("vote and relay: every agent runs every position", async () => {
    expect((await cost("maj")).d.per_generated_token).toEqual(same(3, F1 + F1 + F2));
    expect((await cost("rel")).d.per_generated_token).toEqual(same(2, F1 + F2));
  });

  it("chain: agent j writes its answer and reads the j earlier ones", async () => {
    // passes 1 + 2 + 3; FLOPs 1·F1 + 2·F2 + 3·F1.
    expect((await cost("ch")).d.per_generated_token).toEqual(same(6, 4 * F1 + 2 * F2));
  });

  it("debate: R answers per agent plus n answers read in each later round", async () => {
    // n = 3, R = 3: per agent 3 + 2·3 = 9 positions per output token; 27 passes.
    const c = await cost("deb");
    expect(c.d.form).toBe("debate (3 rounds)");
    expect(c.d.per_generated_token).toEqual(same(27, 9 * (F1 + F2 + F1)));
  });

  it("cascade: best A alone, worst A and B", async () => {
    const c = await cost("cas");
    expect(c.d.per_generated_token).toEqual({ best: { forward_passes: 1, flops: F1 }, worst: { forward_passes: 2, flops: F1 + F2 } });
  });

  it("route: the router on the prompt, the cheapest or dearest agent per token", async () => {
    const c = await cost("rt");
    expect(c.agents).toEqual([[0, "r", PR, FR], [1, "m", P1, F1], [2, "m", P2, F2]]);
    expect(c.d.per_generated_token).toEqual({ best: { forward_passes: 1, flops: F1 }, worst: { forward_passes: 1, flops: F2 } });
    expect(c.d.prompt_flops_per_token).toBe(FR + F2);
  });

  it("concurrent: one batched step of N rows writes N tokens", async () => {
    const c = await cost("gt");
    expect(c.agents).toEqual([[0, "m", P2, F2]]);
    expect(c.d.per_generated_token).toEqual(same(1, F2));
    expect(c.d.per_step).toEqual({ rows: 4, flops: 4 * F2 });
  });

  it("the text report lists the agents and the form's cost", async () => {
    const r = await moec(["info", file, "--entry", "cas"]);
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    expect(r.out).toMatch(/^\s+0\s+m\s+920\s+1,536$/m);
    expect(r.out).toMatch(/^\s+1\s+m\s+1,576\s+2,816$/m);
    expect(r.out).toContain("best   1 forward pass, 1,536 FLOPs");
    expect(r.out).toContain("worst  2 forward passes, 4,352 FLOPs");
  });
});

describe("moec info on tensor graphs", () => {
  it("Mixture of Thoughts: agents by weight prefix, the peers as the graph's own, adding to the total", async () => {
    const j = await infoJson(["examples/topologies/mixture_of_thoughts.moe", "--set", "D=8", "I=16", "DS=4", "H=2", "Q=1"]);
    expect(j.agents.map((a: any) => a.model)).toEqual(["mixtral_moe", "expert_choice", "mixtral_moe"]);
    // Peers, one round, P = 3 agents: projections 3·(4·8) = 96; wq, wk, wv 3·4² = 48; wo 8·4 = 32.
    expect(j.graph_own_params).toBe(96 + 48 + 32);
    expect(j.agents.reduce((s: number, a: any) => s + a.params, 0) + j.graph_own_params).toBe(j.params.total);
    expect(j.decoding_cost).toBeUndefined();
  });
});
