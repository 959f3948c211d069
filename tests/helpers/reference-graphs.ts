// A float64 reference of the decoding-graph forms of LANGUAGE.md §11.2, greedy only, written from
// the text and separately from the runtime's orchestrator (runtime/generate/graphs/): every
// step re-runs the float64 interpreter over the agent's whole context (no cache, no reuse), and
// each form is spelled out as the table in §11.2 reads.
import type { DecodingGraph } from "../../compiler/ir/decoding-graph.js";
import { interpretReference } from "../../runtime/reference/interpret.js";
import { referenceGroupThink } from "./group-think-reference.js";

export interface ReferenceGraphResult {
  tokens: number[];
  continuations: { agent: number; tokens: number[] }[];
  rounds?: number[][][];
  votes?: number[];
  winner?: number;
  writers?: number[];
  escalated?: number[];
  routed?: number;
}

/** The float64 logits of agent `i` at the last position of `seq`. */
function lastLogits(g: DecodingGraph, weights: readonly Map<string, Float32Array>[], i: number, seq: readonly number[]): Float64Array {
  const p = g.agents[i]!.program;
  const V = p.values[p.outputs[0]!.value]!.width;
  const all = interpretReference(p, weights[i]!, new Map([["tokens", Int32Array.from(seq)]]), seq.length).get("logits")!;
  return Float64Array.from(all.subarray((seq.length - 1) * V, seq.length * V));
}

function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let v = 1; v < x.length; v++) if (x[v]! > x[best]!) best = v;
  return best;
}

function softmax(x: ArrayLike<number>): number[] {
  let m = -Infinity;
  for (let v = 0; v < x.length; v++) m = Math.max(m, x[v]!);
  const e = Array.from(x, (z) => Math.exp(z - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((z) => z / s);
}

/**
 * Runs `g` greedily on the reference. `weights[i]` are agent i's weights under its own names;
 * `stops`: ids that end a continuation (kept in it); `n`: --max-new-tokens.
 * Also returns, for `cascade`, A's confidence at every step (to keep a test's θ off a knife edge).
 */
export function referenceGraph(g: DecodingGraph, weights: readonly Map<string, Float32Array>[], prompt: readonly number[], n: number, stops: ReadonlySet<number> = new Set()): ReferenceGraphResult & { confidences?: number[] } {
  const logits = (i: number, seq: readonly number[]) => lastLogits(g, weights, i, seq);
  const write = (i: number, context: readonly number[]): number[] => {
    const out: number[] = [];
    while (out.length < n) {
      const t = argmax(logits(i, [...context, ...out]));
      out.push(t);
      if (stops.has(t)) break;
    }
    return out;
  };
  const vote = (cs: number[][]): { votes: number[]; winner: number } => {
    const votes = cs.map((c) => cs.filter((d) => d.length === c.length && d.every((t, k) => t === c[k])).length);
    const most = Math.max(...votes);
    return { votes, winner: votes.indexOf(most) };
  };
  const f = g.form;
  const sep = (s: { ids: number[] } | { text: string }): number[] => ("ids" in s ? s.ids : []);
  switch (f.kind) {
    case "model": {
      const c = write(f.agent, prompt);
      return { tokens: c, continuations: [{ agent: f.agent, tokens: c }] };
    }
    case "chain": {
      const cs: number[][] = [];
      for (const a of f.agents) cs.push(write(a, [...prompt, ...cs.flatMap((c) => [...sep(f.sep), ...c])]));
      return { tokens: cs.at(-1)!, continuations: cs.map((c, j) => ({ agent: f.agents[j]!, tokens: c })) };
    }
    case "mean": {
      const out: number[] = [];
      while (out.length < n) {
        const ps = f.agents.map((a) => softmax(logits(a, [...prompt, ...out])));
        const mean = ps[0]!.map((_, v) => ps.reduce((s, p) => s + p[v]!, 0) / ps.length);
        const t = argmax(mean); // log is increasing: argmax of log(mean p) is argmax of mean p
        out.push(t);
        if (stops.has(t)) break;
      }
      return { tokens: out, continuations: [] };
    }
    case "vote": {
      const cs = f.agents.map((a) => write(a, prompt));
      const v = vote(cs);
      return { tokens: cs[v.winner]!, continuations: cs.map((c, j) => ({ agent: f.agents[j]!, tokens: c })), votes: v.votes, winner: f.agents[v.winner]! };
    }
    case "relay": {
      const out: number[] = [], writers: number[] = [];
      while (out.length < n) {
        const a = f.agents[Math.floor(out.length / f.after) % f.agents.length]!;
        const t = argmax(logits(a, [...prompt, ...out]));
        out.push(t);
        writers.push(a);
        if (stops.has(t)) break;
      }
      return { tokens: out, continuations: [], writers };
    }
    case "debate": {
      const rounds: number[][][] = [];
      for (let r = 0; r < f.rounds; r++) {
        const context = r === 0 ? [...prompt] : [...prompt, ...rounds[r - 1]!.flatMap((c) => [...sep(f.sep), ...c])];
        rounds.push(f.agents.map((a) => write(a, context)));
      }
      const last = rounds.at(-1)!;
      const v = f.combiner === "vote" ? vote(last) : { votes: undefined, winner: 0 };
      return { tokens: last[v.winner]!, continuations: last.map((c, j) => ({ agent: f.agents[j]!, tokens: c })), rounds, winner: f.agents[v.winner]!, ...(v.votes ? { votes: v.votes } : {}) };
    }
    case "cascade": {
      const [a, b] = f.agents;
      const out: number[] = [], escalated: number[] = [], confidences: number[] = [];
      while (out.length < n) {
        const la = logits(a, [...prompt, ...out]);
        const conf = Math.max(...softmax(la));
        confidences.push(conf);
        let t: number;
        if (conf >= f.confidence) t = argmax(la);
        else {
          escalated.push(out.length);
          t = argmax(logits(b, [...prompt, ...out]));
        }
        out.push(t);
        if (stops.has(t)) break;
      }
      return { tokens: out, continuations: [], escalated, confidences };
    }
    case "route": {
      const j = argmax(logits(f.router, prompt));
      const routed = f.agents[j]!;
      const c = write(routed, prompt);
      return { tokens: c, continuations: [{ agent: routed, tokens: c }], routed };
    }
    case "concurrent": {
      // Group Think's own reference (masked forwards); the output's tokens are thread 0's.
      const cs = referenceGroupThink(g.agents[f.agent]!.program, weights[f.agent]!, prompt, f.threads, n, stops);
      return { tokens: cs[0]!, continuations: cs.map((c) => ({ agent: f.agent, tokens: c })) };
    }
  }
}
