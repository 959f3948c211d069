// What every form of a decoding graph shares while it runs: the agents' contexts and samplers,
// the stop set (`--stop` plus every agent's end-of-sequence ids), the length bound, the resolved
// `sep` of each reading agent, and the loops in which one agent, or several at once, write continuations.
import type { StopReason } from "../generate.js";
import { logitsTogether, type AgentContext } from "./agent-context.js";
import type { CpuSampler } from "./cpu-sampler.js";

export interface Continuation {
  tokens: number[];
  stop: StopReason;
}

export interface GraphRun {
  /** Indexed by agent number. */
  agents: AgentContext[];
  samplers: CpuSampler[];
  maxNew: number;
  eos: ReadonlySet<number>;
  stops: ReadonlySet<number>;
  /** `sep` as agent i reads it (its tokenizer's ids for a string sep). */
  sep(agent: number): number[];
  /** Called with each token of the output as it is written (forms with one continuation). */
  onToken?: (id: number) => void;
}

/** Why a continuation ends after `id` at length `n`, or undefined to go on. */
export function stopAfter(run: GraphRun, id: number, n: number): StopReason | undefined {
  if (run.eos.has(id)) return "eos";
  if (run.stops.has(id)) return "stop";
  return n >= run.maxNew ? "length" : undefined;
}

/** Agent `agent` continues `context` alone: at most maxNew tokens, the stop token included. */
export async function writeContinuation(run: GraphRun, agent: number, context: readonly number[], stream = false): Promise<Continuation> {
  const out: number[] = [];
  const seq = [...context];
  const seen = new Set(seq);
  for (;;) {
    const logits = await run.agents[agent]!.logitsAfter(seq);
    const id = run.samplers[agent]!.pick(logits, seen);
    out.push(id);
    seq.push(id);
    seen.add(id);
    run.agents[agent]!.written++;
    if (stream) run.onToken?.(id);
    const stop = stopAfter(run, id, out.length);
    if (stop) return { tokens: out, stop };
  }
}

/**
 * Several agents continue their own contexts at once (a vote; one debate round): each step, the
 * agents still writing take it together (one command buffer for those one step behind,
 * logitsTogether); each chooses from its own stream, so the continuations are those written alone.
 */
export async function writeTogether(run: GraphRun, agents: readonly number[], contexts: readonly (readonly number[])[]): Promise<Continuation[]> {
  const seqs = contexts.map((c) => [...c]);
  const seen = contexts.map((c) => new Set(c));
  const out: Continuation[] = agents.map(() => ({ tokens: [], stop: "length" }));
  let writing = agents.map((_, j) => j);
  while (writing.length) {
    const logits = await logitsTogether(writing.map((j) => run.agents[agents[j]!]!), writing.map((j) => seqs[j]!));
    writing = writing.filter((j, w) => {
      const a = agents[j]!;
      const id = run.samplers[a]!.pick(logits[w]!, seen[j]!);
      out[j]!.tokens.push(id);
      seqs[j]!.push(id);
      seen[j]!.add(id);
      run.agents[a]!.written++;
      const stop = stopAfter(run, id, out[j]!.tokens.length);
      if (stop) out[j]!.stop = stop;
      return !stop;
    });
  }
  return out;
}

/** `a ++ sep ++ b`. */
export function joined(a: readonly number[], sep: readonly number[], b: readonly number[]): number[] {
  return [...a, ...sep, ...b];
}
