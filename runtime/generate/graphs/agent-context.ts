// One agent of a decoding graph on the GPU: its own Executor and KV cache, and the token list the
// cache holds. Asked for the logits after a context, it reuses the cached common prefix and
// catches up on the new tokens one decode step each; when the cache holds tokens that are not a
// prefix of the context (another agent's text replaced them), it prefills the context afresh.
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
