// `parallel(A, B, …) |> vote` (§11.2, MALT, OPTAGENT): every agent continues the prompt alone;
// the output is the continuation written by the most agents (equal token lists), a tie going to
// the lowest agent index. `voteOver` is also the debate's last-round vote.
import { writeTogether, type Continuation, type GraphRun } from "./graph-run.js";

export interface VoteResult {
  /** Per agent (in the order given): how many agents wrote the same continuation. */
  votes: number[];
  /** Position (in the order given) of the winning continuation's first writer. */
  winner: number;
}

export function voteOver(continuations: readonly Continuation[]): VoteResult {
  const key = continuations.map((c) => c.tokens.join(","));
  const votes = key.map((k) => key.filter((x) => x === k).length);
  let winner = 0;
  for (let i = 1; i < votes.length; i++) if (votes[i]! > votes[winner]!) winner = i;
  return { votes, winner };
}

/** The agents write at once, each step of all of them in one command buffer (writeTogether). */
export async function runVote(run: GraphRun, agents: readonly number[], prompt: readonly number[]): Promise<Continuation[]> {
  return writeTogether(run, agents, agents.map(() => prompt));
}
