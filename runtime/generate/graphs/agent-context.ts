// One agent of a decoding graph on the GPU: its own Executor and KV cache, and the token list the
// cache holds. Asked for the logits after a context, it reuses the cached common prefix and
// catches up on the new tokens one decode step each; when the cache holds tokens that are not a
// prefix of the context (another agent's text replaced them), it prefills the context afresh.
// `logitsTogether` serves several agents at once: those one decode step behind step in ONE
// command buffer (decodeStepsTogether), the time shared equally among them.
import { decodeStepsTogether } from "../../executor/executor.js";
import type { Executor } from "../../executor/types.js";

export class AgentContext {
  private cached: number[] = [];
  private last: Float32Array | undefined;
  /** Positions this agent has run (prefilled or decoded), and the seconds its forwards took. */
  positions = 0;
  seconds = 0;
  /** Tokens of the output or of a continuation this agent chose. */
  written = 0;

  /** `capacity`: the longest context it will be asked about (the KV cache is sized once for it);
   *  0: none (Group Think's threads decode over their own shared cache, concurrent.ts). */
  constructor(readonly exec: Executor, capacity: number) {
    if (capacity > 0) exec.ensureGeneration({ context: capacity });
  }

  /** The id whose one decode step brings the cache to `tokens`, when exactly that is what is missing. */
  oneStepTo(tokens: readonly number[]): number | undefined {
    const n = this.cached.length;
    if (n === 0 || tokens.length !== n + 1) return undefined;
    for (let i = 0; i < n; i++) if (tokens[i] !== this.cached[i]) return undefined;
    return tokens[n]!;
  }

  /** Records a step taken together with other agents (its logits and its share of the time). */
  stepped(tokens: readonly number[], logits: Float32Array, seconds: number): Float32Array {
    this.cached = [...tokens];
    this.last = logits;
    this.positions++;
    this.seconds += seconds;
    return logits;
  }

  /** The logits [V] at the last position of `tokens`. */
  async logitsAfter(tokens: readonly number[]): Promise<Float32Array> {
    const t0 = performance.now();
    let k = 0;
    while (k < tokens.length && k < this.cached.length && tokens[k] === this.cached[k]) k++;
    if (k === tokens.length && k === this.cached.length && this.last) return this.last;
    if (k === this.cached.length && k > 0 && k < tokens.length) {
      for (let i = k; i < tokens.length; i++) this.last = (await this.exec.decodeStep(tokens[i]!)).slice();
      this.positions += tokens.length - k;
    } else {
      this.last = (await this.exec.prefill(Int32Array.from(tokens))).slice();
      this.positions += tokens.length;
    }
    this.cached = [...tokens];
    this.seconds += (performance.now() - t0) / 1000;
    return this.last!;
  }
}

/** Each agent's logits after its own context: agents one step behind step together (one command buffer), the rest alone. */
export async function logitsTogether(agents: readonly AgentContext[], contexts: readonly (readonly number[])[]): Promise<Float32Array[]> {
  const ids = agents.map((a, i) => a.oneStepTo(contexts[i]!));
  const together = ids.flatMap((id, i) => (id === undefined ? [] : [i]));
  const out: Float32Array[] = new Array(agents.length);
  if (together.length >= 2) {
    const t0 = performance.now();
    const logits = await decodeStepsTogether(together.map((i) => agents[i]!.exec), together.map((i) => ids[i]!));
    const share = (performance.now() - t0) / 1000 / together.length;
    together.forEach((i, j) => (out[i] = agents[i]!.stepped(contexts[i]!, logits[j]!, share)));
  }
  for (let i = 0; i < agents.length; i++) out[i] ??= await agents[i]!.logitsAfter(contexts[i]!);
  return out;
}
