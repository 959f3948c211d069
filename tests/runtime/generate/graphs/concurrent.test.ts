// Group Think on the GPU (`concurrent(A, threads = N)`, LANGUAGE.md §11.2; concurrent.ts,
// Executor.decodeGroup) against tests/helpers/group-think-reference.ts, a float64 forward over
// exactly the tokens each thread's query reads at their §11.2 positions: (1) each batched step's N
// logits rows, fed distinct hand-chosen tokens per thread (one thread stopping early), equal the
// reference's for that thread and step; (2) greedy and sampled generation give the reference's
// continuations (sampled: the reference draws with cpu-sampler.ts's sampler, thread n seeded
// seed + n, over the tokens it reads); (3) one thread equals plain generation; (4) the shared
// cache's size |p| + N·max_new is held to the context before any work. A 2-layer MoE model with
// rotary attention (positions matter) and top-2 routing over 4 experts.
import { afterAll, expect, it } from "vitest";
import { compile } from "../../../../compiler/index.js";
import type { DecodingGraph } from "../../../../compiler/ir/decoding-graph.js";
import { createExecutor } from "../../../../runtime/executor/executor.js";
import type { Executor } from "../../../../runtime/executor/types.js";
import { GenerationError } from "../../../../runtime/generate/generate.js";
import { CpuSampler } from "../../../../runtime/generate/graphs/cpu-sampler.js";
import { checkGraphGeneration, generateGraph, type GraphGenerateOptions } from "../../../../runtime/generate/graphs/generate-graph.js";
import { randomWeights } from "../../../../runtime/weights/random-weights.js";
import { groupThinkList, groupThinkLogits, referenceGroupThink } from "../../../helpers/group-think-reference.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../../helpers/gpu-context.js";

let gpu: Awaited<ReturnType<typeof testGpu>>;
beforeAllGpu(async () => (gpu = await testGpu()));
afterAll(() => releaseTestGpu());

const SOURCE = `
layer moe4(x: [T, D], D = 16) {
  experts E[4] = ffn(hidden = 16, act = swiglu)
  router r = linear |> softmax |> topk(2) |> renorm
  return moe(x, r, E)
}
model tiny(tokens: [T], V = 32, D = 16) {
  let h = embed(tokens, vocab = V, dim = D)
  repeat 2 as layers {
    let n1 = rmsnorm(h)
    let attn = attention(n1, heads = 2)
    h = h + attn
    let n2 = rmsnorm(h)
    let mlp = moe4(n2, D = D)
    h = h + mlp
  }
  let norm = rmsnorm(h)
  let logits = lm_head(norm, vocab = V)
  return logits
}
graph think(tokens: [T]) = concurrent(tiny(), threads = 3)
graph think1(tokens: [T]) = concurrent(tiny(), threads = 1)
graph solo(tokens: [T]) = tiny()
`;

function graph(entry: string): DecodingGraph {
  const c = compile({ source: SOURCE, entry });
  if (!c.ok || !c.decodingGraph) throw new Error(c.formatDiagnostics());
  return c.decodingGraph;
}

/** Agent 0's random weights, the LM head scaled so argmaxes are well separated. */
function weightsOf(g: DecodingGraph): Map<string, Float32Array> {
  const w = randomWeights(g.agents[0]!.program, 11, "0.");
  for (const [k, v] of w) if (k.startsWith("logits.")) for (let i = 0; i < v.length; i++) v[i] = v[i]! * 8;
  return w;
}

const PROMPT = [5, 17, 3, 22];

async function withExec<T>(g: DecodingGraph, w: Map<string, Float32Array>, f: (e: Executor) => Promise<T>): Promise<T> {
  const exec = await createExecutor(gpu, g.agents[0]!.program, w);
  try {
    return await f(exec);
  } finally {
    exec.dispose();
  }
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `${what}, logit ${i}`).toBeLessThan(2e-4 * Math.max(1, scale));
}

describeGpu("Group Think (concurrent) on the GPU", () => {
  itGpu("each batched step's logits equal a float64 forward over exactly what each thread reads", async () => {
    const g = graph("think");
    const w = weightsOf(g);
    const program = g.agents[0]!.program;
    // Hand-chosen continuations (distinct per thread, so the mask matters); thread 2 stops after 1 token, so its rows of steps 1 and 2 must never be read.
    const cs = [[9, 4, 30, 2], [1, 28, 6, 13], [19]];
    await withExec(g, w, async (exec) => {
      exec.ensureGroup({ threads: 3, context: PROMPT.length + 3 * 4 });
      const first = await exec.prefillGroup(Int32Array.from(PROMPT));
      expectClose(first, groupThinkLogits(program, w, PROMPT.length, PROMPT.map((id) => ({ id, step: -1 }))), "prompt");
      const V = first.length;
      for (let k = 0; k < 3; k++) {
        const live = cs.map((c) => c.length > k);
        const logits = await exec.decodeGroup(Int32Array.from(cs, (c) => c[Math.min(k, c.length - 1)]!), live);
        for (let n = 0; n < 3; n++) {
          if (!live[n]) continue;
          expectClose(logits.subarray(n * V, (n + 1) * V), groupThinkLogits(program, w, PROMPT.length, groupThinkList(PROMPT, cs, n, k)), `step ${k}, thread ${n}`);
        }
      }
      // A stopped thread cannot write again.
      await expect(exec.decodeGroup(Int32Array.of(1, 1, 1), [true, true, true])).rejects.toThrow(/thread 2 stopped/);
    });
  }, 300_000);

  itGpu("greedy and sampled generation give the reference's N continuations; a stop id ends one thread", async () => {
    const g = graph("think");
    const w = weightsOf(g);
    const program = g.agents[0]!.program;
    const N = 5;
    await withExec(g, w, async (exec) => {
      const greedy = referenceGroupThink(program, w, PROMPT, 3, N);
      const r = await generateGraph(g, [{ exec }], PROMPT, { maxNewTokens: N });
      expect(r.continuations.map((c) => c.tokens)).toEqual(greedy);
      expect(r.continuations.map((c) => c.thread)).toEqual([0, 1, 2]);
      expect(r.tokens).toEqual(greedy[0]);

      const sampling = { temperature: 1.5, repetitionPenalty: 1.3, seed: 21 };
      const opts: GraphGenerateOptions = { maxNewTokens: N, ...sampling };
      const samplers = [0, 1, 2].map((n) => new CpuSampler(sampling, n));
      const sampled = referenceGroupThink(program, w, PROMPT, 3, N, new Set(), (n, l, read) => samplers[n]!.pick(l, new Set(read)));
      // The threads differ (so each one's mask matters); pick a stop id one thread writes early.
      expect(new Set(sampled.map((c) => c.join(","))).size).toBeGreaterThan(1);
      const s = await generateGraph(g, [{ exec }], PROMPT, opts);
      expect(s.continuations.map((c) => c.tokens)).toEqual(sampled);
      const stop = sampled[1]![1]!;
      const samplers2 = [0, 1, 2].map((n) => new CpuSampler(sampling, n));
      const stopped = referenceGroupThink(program, w, PROMPT, 3, N, new Set([stop]), (n, l, read) => samplers2[n]!.pick(l, new Set(read)));
      const t = await generateGraph(g, [{ exec }], PROMPT, { ...opts, stopIds: [stop] });
      expect(t.continuations.map((c) => c.tokens)).toEqual(stopped);
      expect(t.continuations[1]!.stop).toBe("stop");
      expect(stopped[1]!.length).toBeLessThanOrEqual(2);
    });
  }, 300_000);

  itGpu("one thread is plain generation", async () => {
    const one = graph("think1"), solo = graph("solo");
    const w = weightsOf(one);
    const a = await withExec(one, w, (exec) => generateGraph(one, [{ exec }], PROMPT, { maxNewTokens: 6 }));
    const b = await withExec(solo, w, (exec) => generateGraph(solo, [{ exec }], PROMPT, { maxNewTokens: 6 }));
    expect(a.continuations[0]!.tokens).toEqual(b.tokens);
  }, 300_000);
});

it("the shared cache |p| + N·max_new is held to the agent's context before any work", () => {
  const g = graph("think");
  expect(() => checkGraphGeneration(g, [{ context: 15 }], PROMPT, { maxNewTokens: 4 })).toThrow(GenerationError);
  expect(() => checkGraphGeneration(g, [{ context: 15 }], PROMPT, { maxNewTokens: 4 })).toThrow(/shared KV cache of `concurrent` would hold 16 tokens \(the prompt of 4 and 3 threads × 4 new tokens\), above its context of 15/);
  expect(() => checkGraphGeneration(g, [{ context: 16 }], PROMPT, { maxNewTokens: 4 })).not.toThrow();
});

it("an MLA agent is refused before any work (no shared-cache form for its absorbed decode)", () => {
  const src = `
model latent(tokens: [T], V = 32, D = 16) {
  let h = embed(tokens, vocab = V, dim = D)
  let a = mla(h, heads = 2, q_rank = 0, kv_rank = 8, nope_dim = 4, rope_dim = 4, v_dim = 4)
  h = h + a
  let logits = lm_head(h, vocab = V)
  return logits
}
graph g(tokens: [T]) = concurrent(latent(), threads = 2)
`;
  const c = compile({ source: src, entry: "g" });
  if (!c.ok || !c.decodingGraph) throw new Error(c.formatDiagnostics());
  expect(() => checkGraphGeneration(c.decodingGraph!, [{}], PROMPT, { maxNewTokens: 2 })).toThrow(/agent 0 \(`latent`\): `concurrent` .* MLA block 'a'/);
});
