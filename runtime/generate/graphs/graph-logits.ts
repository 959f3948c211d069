// `moec run` on a decoding graph whose form has a per-position meaning (LANGUAGE.md §11.2): the
// logits at every position from each agent's full forward over the ids. `mean`: log(mean_i
// softmax(l_i)) (τ = 1); `cascade`: A's logits where A's confidence (its highest softmax
// probability) is ≥ θ, else B's. Other forms write continuations, not logits, and are refused.
import type { DecodingForm } from "../../../compiler/ir/decoding-graph.js";
import { confidence, logMeanSoftmax } from "./cpu-sampler.js";

/** The agents whose full forwards a form's per-position logits need, or undefined when it has none. */
export function perPositionAgents(form: DecodingForm): number[] | undefined {
  switch (form.kind) {
    case "model": return [form.agent];
    case "mean": return [...form.agents];
    case "cascade": return [...form.agents];
    default: return undefined;
  }
}

/** Per position, the form's logits from its agents' `[T, V]` logits (in perPositionAgents' order). */
export function graphLogits(form: DecodingForm, logits: readonly Float32Array[], tokens: number, vocab: number): Float32Array {
  const out = new Float32Array(tokens * vocab);
  const row = (l: Float32Array, t: number) => l.subarray(t * vocab, (t + 1) * vocab);
  for (let t = 0; t < tokens; t++) {
    if (form.kind === "mean") out.set(logMeanSoftmax(logits.map((l) => Float64Array.from(row(l, t)))), t * vocab);
    else if (form.kind === "cascade") out.set(confidence(row(logits[0]!, t)) >= form.confidence ? row(logits[0]!, t) : row(logits[1]!, t), t * vocab);
    else if (form.kind === "model") out.set(row(logits[0]!, t), t * vocab);
    else throw new Error(`graphLogits: \`${form.kind}\` has no per-position logits`);
  }
  return out;
}
