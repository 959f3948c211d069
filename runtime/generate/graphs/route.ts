// `route(R, A, B, …)` (§11.2, per-query routing): R's logits at the prompt's last position pick one
// agent (the highest; ties to the lower index), which writes the continuation.
import { writeContinuation, type Continuation, type GraphRun } from "./graph-run.js";

export async function runRoute(run: GraphRun, router: number, agents: readonly number[], prompt: readonly number[]): Promise<Continuation & { routed: number }> {
  const scores = await run.agents[router]!.logitsAfter(prompt);
  let best = 0;
  for (let j = 1; j < agents.length; j++) if (scores[j]! > scores[best]!) best = j;
  const routed = agents[best]!;
  return { ...(await writeContinuation(run, routed, prompt, true)), routed };
}
