// `parallel(A, B, …) |> mean` (§11.2, ensembles): one continuation; each step's values are
// `log(mean_i softmax(l_i / τ))`, each agent's repetition penalty on its own logits first, and the
// token is chosen from them by agent 0's sampler (its stream; top-k/top-p/min-p, no second τ).
// Every agent's logits are read back each step (the agents' steps in one command buffer) and
// combined on the host.
import { logitsTogether } from "./agent-context.js";
import { logMeanSoftmax } from "./cpu-sampler.js";
import { stopAfter, type Continuation, type GraphRun } from "./graph-run.js";

export async function runEnsemble(run: GraphRun, agents: readonly number[], prompt: readonly number[]): Promise<Continuation> {
  const seq = [...prompt];
  const seen = new Set(seq);
  const out: number[] = [];
  for (;;) {
    // The agents' steps are independent: one command buffer for all of them (logitsTogether).
    const logits = await logitsTogether(agents.map((a) => run.agents[a]!), agents.map(() => seq));
    const zs = agents.map((a, j) => run.samplers[a]!.prepare(logits[j]!, seen));
    const id = run.samplers[agents[0]!]!.choose(logMeanSoftmax(zs));
    for (const a of agents) run.agents[a]!.written++;
    out.push(id);
    seq.push(id);
    seen.add(id);
    run.onToken?.(id);
    const stop = stopAfter(run, id, out.length);
    if (stop) return { tokens: out, stop };
  }
}
