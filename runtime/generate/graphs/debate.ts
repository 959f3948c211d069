// `debate(A, B, …, rounds = R, sep = …) |> vote | first` (§11.2, multi-agent debate, OPTAGENT,
// MAS-TTS): round 1, every agent answers the prompt; round r > 1, agent i answers
// `p ++ sep ++ c_0 ++ sep ++ c_1 ++ …` (every agent's previous answer in agent order, sep as agent
// i reads it); a round's agents write at once, their steps in one command buffer. The rounds are
// returned; the caller votes over the last (or takes agent 0's).
import { writeTogether, type Continuation, type GraphRun } from "./graph-run.js";

export async function runDebate(run: GraphRun, agents: readonly number[], rounds: number, prompt: readonly number[]): Promise<Continuation[][]> {
  const all: Continuation[][] = [];
  for (let r = 0; r < rounds; r++) {
    // A round's answers are independent: the agents write them at once (writeTogether).
    const contexts = agents.map((a) => {
      const context = [...prompt];
      if (r > 0) for (const c of all[r - 1]!) context.push(...run.sep(a), ...c.tokens);
      return context;
    });
    all.push(await writeTogether(run, agents, contexts));
  }
  return all;
}
