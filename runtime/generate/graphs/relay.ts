// `relay(A, B, …, after = n)` (§11.2, The Collaboration Gap, CollabStory): one continuation
// written in turns of n tokens, cycling through the agents; each reads the prompt and the whole
// continuation so far.
import { stopAfter, type Continuation, type GraphRun } from "./graph-run.js";

export async function runRelay(run: GraphRun, agents: readonly number[], after: number, prompt: readonly number[]): Promise<Continuation & { writers: number[] }> {
  const seq = [...prompt];
  const seen = new Set(seq);
  const out: number[] = [], writers: number[] = [];
  for (;;) {
    const a = agents[Math.floor(out.length / after) % agents.length]!;
    const id = run.samplers[a]!.pick(await run.agents[a]!.logitsAfter(seq), seen);
    run.agents[a]!.written++;
    out.push(id);
    writers.push(a);
    seq.push(id);
    seen.add(id);
    run.onToken?.(id);
    const stop = stopAfter(run, id, out.length);
    if (stop) return { tokens: out, stop, writers };
  }
}
