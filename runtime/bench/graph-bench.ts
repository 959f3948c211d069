// `moec bench GRAPH --decode` (docs/topologies.md, bench/RESULTS.md "Decoding graphs"): a decoding
// graph's generation timed end to end (output and written tokens per second, each agent's speed),
// and the step comparison its form is about: for `concurrent`, one batched step of N threads over
// the shared cache (Executor.decodeGroup) against one single-sequence decode step and against N of
// them; for `mean` and `vote`, one step of the n agents in one command buffer (decodeStepsTogether,
// as the runtime steps them) against each agent's step alone, summed. Wall clock per step (decode steps carry no timestamps), medians.
import type { DecodingGraph } from "../../compiler/ir/decoding-graph.js";
import type { StorageDtype } from "../gpu/buffers.js";
import type { GpuContext } from "../gpu/device.js";
import { createExecutor, decodeStepsTogether } from "../executor/executor.js";
import type { Executor } from "../executor/types.js";
import { generateGraph, type AgentSpeed } from "../generate/graphs/generate-graph.js";
import { xoshiro128ss } from "../weights/random-weights.js";

export interface GraphBenchOptions {
  /** Prompt tokens (random ids). */
  prompt: number;
  /** Timed steps (and the generation's --max-new-tokens). */
  steps: number;
  /** Untimed steps first. */
  warmup: number;
  seed: number;
  dtype: StorageDtype;
}

export interface StepComparison {
  /** `threads`: one batched step of n threads vs single steps; `agents`: n agents' steps together vs apart. */
  kind: "threads" | "agents";
  n: number;
  /** Median ms of one step of all n together (a batched step, or the agents' steps in one command buffer). */
  togetherMs: number;
  /** Median ms of one single-sequence step (threads), or of the agents' steps apart, summed per step (agents). */
  oneMs: number;
  /** togetherMs / oneMs. */
  ratio: number;
  /** threads: togetherMs / (n · oneMs), the batched step against n single steps. */
  ratioToN?: number;
}

export interface GraphBench {
  graph: string;
  form: string;
  agents: number;
  promptTokens: number;
  generate: { outputTokens: number; writtenTokens: number; seconds: number; outputPerSec: number; writtenPerSec: number; agents: AgentSpeed[] };
  step?: StepComparison;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** `count` random ids below V from `next`. */
function randomIds(next: () => number, V: number, count: number): number[] {
  return Array.from({ length: count }, () => next() % V);
}

/** Median ms of `steps` calls of `step` after `warmup` untimed ones. */
async function timeSteps(warmup: number, steps: number, step: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    await step();
    if (i >= warmup) ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** One batched step of N threads against one (and N) single-sequence steps of the same model. */
async function compareThreads(exec: Executor, threads: number, prompt: number[], V: number, o: GraphBenchOptions, next: () => number): Promise<StepComparison> {
  const n = o.warmup + o.steps;
  exec.ensureGroup({ threads, context: prompt.length + threads * (n + 1) });
  await exec.prefillGroup(Int32Array.from(prompt));
  const live = new Array<boolean>(threads).fill(true);
  const together = await timeSteps(o.warmup, o.steps, () => exec.decodeGroup(Int32Array.from(randomIds(next, V, threads)), live));
  exec.ensureGeneration({ context: prompt.length + n + 1 });
  await exec.prefill(Int32Array.from(prompt));
  const one = await timeSteps(o.warmup, o.steps, () => exec.decodeStep(next() % V));
  return { kind: "threads", n: threads, togetherMs: together, oneMs: one, ratio: together / one, ratioToN: together / (threads * one) };
}

/**
 * The n agents' decode steps in one command buffer against each agent's steps alone, alternating
 * step by step (a shared machine's load then weighs on both sides alike).
 */
async function compareAgents(execs: Executor[], prompt: number[], V: number, o: GraphBenchOptions, next: () => number): Promise<StepComparison> {
  const n = o.warmup + o.steps;
  for (const e of execs) {
    e.ensureGeneration({ context: prompt.length + 2 * n + 1 });
    await e.prefill(Int32Array.from(prompt));
  }
  const together: number[] = [], apart: number[] = [];
  for (let i = 0; i < n; i++) {
    let t0 = performance.now();
    await decodeStepsTogether(execs, execs.map(() => next() % V));
    const t = performance.now() - t0;
    let sum = 0;
    for (const e of execs) {
      t0 = performance.now();
      await e.decodeStep(next() % V);
      sum += performance.now() - t0;
    }
    if (i >= o.warmup) {
      together.push(t);
      apart.push(sum);
    }
  }
  const t = median(together), a = median(apart);
  return { kind: "agents", n: execs.length, togetherMs: t, oneMs: a, ratio: t / a };
}

export async function benchmarkGraph(gpu: GpuContext, graph: DecodingGraph, weights: readonly Map<string, Float32Array>[], o: GraphBenchOptions): Promise<GraphBench> {
  const next = xoshiro128ss(o.seed);
  const prompt = randomIds(next, graph.vocab, o.prompt);
  const execs: Executor[] = [];
  try {
    for (const a of graph.agents) execs.push(await createExecutor(gpu, a.program, weights[a.index]!, { dtype: o.dtype }));
    // Untimed: a first generation of the same length compiles every plan and sizes every cache; then the timed one.
    const inputs = execs.map((exec) => ({ exec }));
    await generateGraph(graph, inputs, prompt, { maxNewTokens: o.steps });
    const t0 = performance.now();
    const r = await generateGraph(graph, inputs, prompt, { maxNewTokens: o.steps });
    const seconds = (performance.now() - t0) / 1000;
    const written = r.continuations.length ? r.continuations.reduce((s, c) => s + c.tokens.length, 0) : r.tokens.length;
    const form = graph.form;
    let step: StepComparison | undefined;
    if (form.kind === "concurrent") step = await compareThreads(execs[form.agent]!, form.threads, prompt, graph.vocab, o, next);
    else if (form.kind === "mean" || form.kind === "vote") step = await compareAgents(form.agents.map((a) => execs[a]!), prompt, graph.vocab, o, next);
    return {
      graph: graph.name, form: form.kind, agents: graph.agents.length, promptTokens: prompt.length,
      generate: { outputTokens: r.tokens.length, writtenTokens: written, seconds, outputPerSec: r.tokens.length / seconds, writtenPerSec: written / seconds, agents: r.agents },
      ...(step ? { step } : {}),
    };
  } finally {
    for (const e of execs) e.dispose();
  }
}
