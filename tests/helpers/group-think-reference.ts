// A float64 reference of Group Think (LANGUAGE.md §11.2 `concurrent(A, threads = N)`), written from
// the text and separately from the runtime (no cache, no rows, no kernels): to choose thread n's
// token i ≥ 1, it runs a full forward of the model over exactly the tokens that token's query
// reads — the prompt at positions 0…|p|−1, every thread's tokens of steps < i − 1 (those that
// exist: a stopped thread has no tokens after its stop token) at positions |p| + step, and thread
// n's token i − 1 itself at |p| + i − 1 — where every token reads as §11.2 says: a prompt token
// the prompt up to itself, a step-j token the prompt, all tokens of steps < j and itself. Token 0
// of every thread comes from the prompt's last position. The choice: greedy, or a `choose`
// callback (e.g. a sampler per thread).
import type { IrProgram } from "../../compiler/ir/ir.js";
import { interpretReference } from "../../runtime/reference/interpret.js";

/** One token of the list a forward runs over: its id and its step (−1: a prompt token). */
interface Listed {
  id: number;
  step: number;
}

/** The float64 logits at the last row of `list` under §11.2's reads, positions |p| + step. */
export function groupThinkLogits(program: IrProgram, weights: Map<string, Float32Array>, promptLength: number, list: readonly Listed[]): Float64Array {
  const V = program.values[program.outputs[0]!.value]!.width;
  const positions = list.map((t, a) => (t.step < 0 ? a : promptLength + t.step));
  const reads = (a: number, b: number): boolean => {
    const ta = list[a]!, tb = list[b]!;
    if (a === b) return true;
    if (tb.step < 0) return ta.step >= 0 || b < a;
    return ta.step >= 0 && tb.step < ta.step;
  };
  const all = interpretReference(program, weights, new Map([["tokens", Int32Array.from(list, (t) => t.id)]]), list.length, { attentionMask: { positions, reads } }).get(program.outputs[0]!.name)!;
  return Float64Array.from(all.subarray((list.length - 1) * V, list.length * V));
}

/** The list thread n's query at step k reads: the prompt, every thread's existing tokens of steps < k, then its own step-k token. */
export function groupThinkList(prompt: readonly number[], continuations: readonly (readonly number[])[], n: number, k: number): Listed[] {
  const list: Listed[] = prompt.map((id) => ({ id, step: -1 }));
  for (let j = 0; j < k; j++) for (const c of continuations) if (c.length > j) list.push({ id: c[j]!, step: j });
  list.push({ id: continuations[n]![k]!, step: k });
  return list;
}

function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let v = 1; v < x.length; v++) if (x[v]! > x[best]!) best = v;
  return best;
}

/**
 * N threads of `program` from `prompt`: each continuation up to `maxNew` tokens, ending at (and
 * keeping) a stop id. `choose(n, logits, list)` picks thread n's token (default: greedy).
 */
export function referenceGroupThink(
  program: IrProgram, weights: Map<string, Float32Array>, prompt: readonly number[], threads: number, maxNew: number,
  stops: ReadonlySet<number> = new Set(), choose: (n: number, logits: Float64Array, read: readonly number[]) => number = (_, l) => argmax(l),
): number[][] {
  const out: number[][] = Array.from({ length: threads }, () => []);
  const done = new Array<boolean>(threads).fill(false);
  const promptLogits = groupThinkLogits(program, weights, prompt.length, prompt.map((id) => ({ id, step: -1 })));
  for (let i = 0; i < maxNew && done.includes(false); i++) {
    // Every thread's token i from the state after round i − 1 (all threads choose together).
    const picks = out.map((_, n) => {
      if (done[n]) return undefined;
      if (i === 0) return choose(n, promptLogits, prompt);
      const list = groupThinkList(prompt, out, n, i - 1);
      return choose(n, groupThinkLogits(program, weights, prompt.length, list), list.map((t) => t.id));
    });
    picks.forEach((t, n) => {
      if (t === undefined) return;
      out[n]!.push(t);
      if (stops.has(t) || out[n]!.length >= maxNew) done[n] = true;
    });
  }
  return out;
}
