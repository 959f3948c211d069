// `A -> B -> C` / `chain(A, B, C, sep = …)` (§11.2, GRA, MALT): A continues the prompt; each next
// agent continues `p ++ sep ++ c_A ++ sep ++ …` (sep as that agent reads it); the output is the
// last agent's continuation, streamed as it is written.
import { writeContinuation, type Continuation, type GraphRun } from "./graph-run.js";

export async function runChain(run: GraphRun, agents: readonly number[], prompt: readonly number[]): Promise<Continuation[]> {
  const written: Continuation[] = [];
  for (let j = 0; j < agents.length; j++) {
    const a = agents[j]!;
    const context = [...prompt];
    for (const c of written) context.push(...run.sep(a), ...c.tokens);
    written.push(await writeContinuation(run, a, context, j === agents.length - 1));
  }
  return written;
}
