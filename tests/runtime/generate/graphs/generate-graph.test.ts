// Decoding graphs on the GPU (runtime/generate/graphs/): every form of LANGUAGE.md §11.2 that runs
// — a bare model, chain, mean, vote, relay, debate, cascade, route — decoded greedily gives
// exactly the float64 reference's tokens (tests/helpers/reference-graphs.ts: full forwards, no
// cache, orchestration written separately), with its continuations, rounds, votes, writers,
// escalated steps and routed agent; a stop id ends a continuation (kept in it); a context limit
// names the agent before any GPU work. One tiny model shape serves every agent.
import { afterAll, expect, it } from "vitest";
import { compile } from "../../../../compiler/index.js";
import type { DecodingGraph } from "../../../../compiler/ir/decoding-graph.js";
import { createExecutor } from "../../../../runtime/executor/executor.js";
import type { Executor } from "../../../../runtime/executor/types.js";
import { GenerationError } from "../../../../runtime/generate/generate.js";
import { checkGraphGeneration, generateGraph, type GraphGenerateOptions } from "../../../../runtime/generate/graphs/generate-graph.js";
import { randomWeights } from "../../../../runtime/weights/random-weights.js";
import { referenceGraph } from "../../../helpers/reference-graphs.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../../helpers/gpu-context.js";

let gpu: Awaited<ReturnType<typeof testGpu>>;
beforeAllGpu(async () => (gpu = await testGpu()));
afterAll(() => releaseTestGpu());

const SOURCE = `
model tiny(tokens: [T], V = 32, D = 16) {
  let h = embed(tokens, vocab = V, dim = D)
  repeat 1 as layers {
    let n1 = rmsnorm(h)
    let attn = attention(n1, heads = 2)
    h = h + attn
    let n2 = rmsnorm(h)
    let mlp = ffn(n2, hidden = 16)
    h = h + mlp
  }
  let norm = rmsnorm(h)
  let logits = lm_head(norm, vocab = V)
  return logits
}
model picker(tokens: [T], V = 32, D = 16, A = 2) {
  let h = embed(tokens, vocab = V, dim = D)
  let norm = rmsnorm(h)
  let logits = lm_head(norm, vocab = A)
  return logits
}
graph solo(tokens: [T]) = tiny()
graph review(tokens: [T]) = chain(tiny(), tiny(), tiny(), sep = [3])
graph arrow(tokens: [T]) = tiny() -> tiny()
graph ensemble(tokens: [T]) = parallel(tiny(), tiny()) |> mean
graph majority(tokens: [T]) = parallel(tiny(), tiny(), tiny()) |> vote
graph turns(tokens: [T]) = relay(tiny(), tiny(), after = 2)
graph argue(tokens: [T]) = debate(tiny(), tiny(), rounds = 2, sep = [3]) |> vote
graph argue_first(tokens: [T]) = debate(tiny(), tiny(), rounds = 2) |> first
graph pick(tokens: [T]) = route(picker(), tiny(), tiny())
`;

function graph(entry: string, source = SOURCE): DecodingGraph {
  const c = compile({ source, entry });
  if (!c.ok || !c.decodingGraph) throw new Error(c.formatDiagnostics());
  return c.decodingGraph;
}

/** Agent i's random weights, seeded as `i.NAME` (§11's prefix); the LM head (`logits.weight`) scaled so argmaxes are well separated. */
function agentWeights(g: DecodingGraph): Map<string, Float32Array>[] {
  return g.agents.map((a) => {
    const w = randomWeights(a.program, 7, `${a.index}.`);
    for (const [k, v] of w) if (k.startsWith("logits.")) for (let i = 0; i < v.length; i++) v[i] = v[i]! * 8;
    return w;
  });
}

const PROMPT = [5, 17, 3, 22];
const N = 5;

async function onGpu(g: DecodingGraph, weights: Map<string, Float32Array>[], opts: GraphGenerateOptions = {}) {
  const execs: Executor[] = [];
  try {
    for (const a of g.agents) execs.push(await createExecutor(gpu, a.program, weights[a.index]!));
    const streamed: number[] = [];
    const r = await generateGraph(g, execs.map((exec) => ({ exec })), PROMPT, { maxNewTokens: N, onToken: (id) => streamed.push(id), ...opts });
    return { r, streamed };
  } finally {
    for (const e of execs) e.dispose();
  }
}

describeGpu("decoding graphs on the GPU equal the float64 reference (greedy)", () => {
  for (const name of ["solo", "review", "arrow", "ensemble", "turns", "pick"]) {
    itGpu(`${name}: tokens, continuations, writers and routed agent`, async () => {
      const g = graph(name);
      const w = agentWeights(g);
      const ref = referenceGraph(g, w, PROMPT, N);
      const { r, streamed } = await onGpu(g, w);
      expect(r.tokens).toEqual(ref.tokens);
      expect(streamed).toEqual(ref.tokens);
      expect(r.continuations.map((c) => ({ agent: c.agent, tokens: c.tokens }))).toEqual(ref.continuations);
      expect(r.writers).toEqual(ref.writers);
      expect(r.routed).toEqual(ref.routed);
      expect(r.stop).toBe("length");
      expect(r.agents.map((a) => a.agent)).toEqual(g.agents.map((a) => a.index));
    }, 240_000);
  }

  itGpu("vote: two agents with the same weights outvote the first; votes and winner", async () => {
    const g = graph("majority");
    const w = agentWeights(g);
    w[2] = w[1]!; // agents 1 and 2 write the same continuation
    const ref = referenceGraph(g, w, PROMPT, N);
    expect(ref.votes).toEqual([1, 2, 2]); // the reference itself says agent 0 differs
    const { r } = await onGpu(g, w);
    expect(r.tokens).toEqual(ref.tokens);
    expect(r.votes).toEqual(ref.votes);
    expect(r.winner).toBe(1);
    expect(r.continuations.map((c) => c.tokens)).toEqual(ref.continuations.map((c) => c.tokens));
  }, 240_000);

  itGpu("debate |> vote and |> first: every round's answers", async () => {
    for (const name of ["argue", "argue_first"]) {
      const g = graph(name);
      const w = agentWeights(g);
      const ref = referenceGraph(g, w, PROMPT, N);
      const { r } = await onGpu(g, w);
      expect(r.rounds!.map((round) => round.map((c) => c.tokens))).toEqual(ref.rounds);
      expect(r.tokens).toEqual(ref.tokens);
      expect(r.winner).toBe(ref.winner);
      expect(r.votes).toEqual(ref.votes);
    }
  }, 240_000);

  itGpu("cascade: escalated steps and tokens, θ chosen away from every confidence", async () => {
    let chosen: { g: DecodingGraph; w: Map<string, Float32Array>[]; ref: ReturnType<typeof referenceGraph> } | undefined;
    for (const theta of Array.from({ length: 24 }, (_, k) => 0.1 + 0.025 * k)) {
      const g = graph("esc", `${SOURCE}\ngraph esc(tokens: [T]) = cascade(tiny(), tiny(), confidence = ${theta})`);
      const w = agentWeights(g);
      const ref = referenceGraph(g, w, PROMPT, N);
      const esc = ref.escalated!.length;
      if (esc > 0 && esc < N && ref.confidences!.every((c) => Math.abs(c - theta) > 1e-3)) {
        chosen = { g, w, ref };
        break;
      }
    }
    expect(chosen, "some θ escalates some steps but not all").toBeDefined();
    const { r } = await onGpu(chosen!.g, chosen!.w);
    expect(r.escalated).toEqual(chosen!.ref.escalated);
    expect(r.tokens).toEqual(chosen!.ref.tokens);
  }, 240_000);

  itGpu("a stop id ends each continuation of a chain and is kept in it", async () => {
    const g = graph("review");
    const w = agentWeights(g);
    const free = referenceGraph(g, w, PROMPT, N);
    const stop = free.continuations[0]!.tokens[1]!; // agent 0's second token
    const ref = referenceGraph(g, w, PROMPT, N, new Set([stop]));
    const { r } = await onGpu(g, w, { stopIds: [stop] });
    expect(ref.continuations[0]!.tokens).toEqual(free.continuations[0]!.tokens.slice(0, 2));
    expect(r.continuations.map((c) => c.tokens)).toEqual(ref.continuations.map((c) => c.tokens));
    expect(r.continuations[0]!.stop).toBe("stop");
  }, 240_000);
});

it("a context limit names the agent and the length before any GPU work", () => {
  const g = graph("review");
  // Agent 2 reads p (4) + 2·(sep 1 + N 5) + 5 = 21 tokens; agents 0 and 1 read 9 and 15.
  const limits = [{ context: 21 }, { context: 21 }, { context: 20 }];
  expect(() => checkGraphGeneration(g, limits, PROMPT, { maxNewTokens: N })).toThrow(GenerationError);
  expect(() => checkGraphGeneration(g, limits, PROMPT, { maxNewTokens: N })).toThrow(/agent 2 \(`tiny`\) would read up to 21 tokens.*context of 20/);
  expect(() => checkGraphGeneration(g, [{ context: 21 }, { context: 21 }, { context: 21 }], PROMPT, { maxNewTokens: N })).not.toThrow();
  expect(() => checkGraphGeneration(graph("talk", `${SOURCE}\ngraph talk(tokens: [T]) = debate(tiny(), tiny(), rounds = 2, sep = "\\n") |> vote`), [{}, {}], PROMPT)).toThrow(/agent 0 \(`tiny`\) has no tokenizer/);
});
