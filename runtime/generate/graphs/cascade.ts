// `cascade(A, B, confidence = θ)` (§11.2, LLMs over Networks): one continuation; at each step A's
// confidence is its highest probability under softmax(l_A) (τ = 1). At or above θ, A's sampler
// chooses from A's logits; below, B (reading the prompt and the whole continuation so far)
// chooses from its own. The escalated steps are reported.
import { confidence } from "./cpu-sampler.js";
import { stopAfter, type Continuation, type GraphRun } from "./graph-run.js";

export async function runCascade(run: GraphRun, [a, b]: readonly [number, number], theta: number, prompt: readonly number[]): Promise<Continuation & { escalated: number[] }> {
  const seq = [...prompt];
  const seen = new Set(seq);
  const out: number[] = [], escalated: number[] = [];
  for (;;) {
    const la = await run.agents[a]!.logitsAfter(seq);
    let writer = a, logits = la;
    if (confidence(la) < theta) {
      escalated.push(out.length);
      writer = b;
      logits = await run.agents[b]!.logitsAfter(seq);
    }
    const id = run.samplers[writer]!.pick(logits, seen);
    run.agents[writer]!.written++;
    out.push(id);
    seq.push(id);
    seen.add(id);
    run.onToken?.(id);
    const stop = stopAfter(run, id, out.length);
    if (stop) return { tokens: out, stop, escalated };
  }
}
