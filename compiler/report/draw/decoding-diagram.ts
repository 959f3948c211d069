// `moec draw` of a decoding graph (LANGUAGE.md §11.2): the agents as boxes (model, parameters,
// FLOPs per token) and how tokens flow between them, one picture per form — a chain's hand-offs,
// mean's and vote's fan-in, a debate's rounds, a cascade's escalation, route's fan-out, a relay's
// turns and Group Think's threads over one shared cache. Same Diagram data as diagram.ts.
import type { DecodingGraph } from "../../ir/decoding-graph.js";
import type { GraphCost } from "../graph-cost.js";
import { humanCount } from "../numbers.js";
import type { DEdge, DNode, Diagram } from "./diagram.js";

export function decodingDiagram(g: DecodingGraph, cost: GraphCost): Diagram {
  const d: Diagram = { nodes: [], edges: [], notes: [] };
  const add = (n: Omit<DNode, "id">): number => (d.nodes.push({ ...n, id: d.nodes.length }), d.nodes.length - 1);
  const edge = (from: number, to: number, label?: string, kind: DEdge["kind"] = "data") => void d.edges.push({ from, to, kind, ...(label ? { label } : {}) });
  const agent = (i: number, title = `agent ${i}`) => {
    const a = g.agents[i]!;
    const c = cost.agents.find((x) => x.index === i);
    return add({ kind: "agent", title: `${title}: ${a.model}`, name: String(i), lines: c ? [`${humanCount(c.params)} parameters`, `${humanCount(c.flops)} FLOPs per token`] : [] });
  };
  const prompt = add({ kind: "input", title: "prompt p", lines: [], name: "prompt" });
  const output = (title: string) => add({ kind: "output", title, lines: [], name: "output" });
  const f = g.form;
  switch (f.kind) {
    case "model": {
      const a = agent(f.agent);
      edge(prompt, a);
      edge(a, output("continuation"));
      break;
    }
    case "mean": case "vote": {
      const as = f.agents.map((i) => agent(i));
      const combine = add({ kind: "op", title: f.kind === "mean" ? "mean: log(mean_i softmax(l_i))" : "vote: most agents' continuation", lines: [], name: f.kind });
      for (const a of as) { edge(prompt, a); edge(a, combine, f.kind === "mean" ? "logits" : "continuation"); }
      edge(combine, output(f.kind === "mean" ? "one token per step" : "the winning continuation"));
      if (f.kind === "mean") d.notes.push("each step: every agent reads p and the tokens so far; one token is chosen from the combined logits");
      break;
    }
    case "chain": {
      let prev = prompt;
      f.agents.forEach((i, j) => {
        const a = agent(i);
        edge(prev, a, j === 0 ? undefined : `p ++ sep ++ c_0…c_${j - 1}`);
        prev = a;
      });
      edge(prev, output("last agent's continuation"));
      break;
    }
    case "relay": {
      const as = f.agents.map((i) => agent(i));
      const out = output("one continuation, written in turns");
      edge(prompt, as[0]!);
      as.forEach((a, j) => {
        edge(a, as[(j + 1) % as.length]!, `after ${f.after} tokens`);
        edge(a, out);
      });
      d.notes.push(`agents write turns of ${f.after} tokens in order, cycling; each reads p and the whole continuation so far`);
      break;
    }
    case "debate": {
      let prev: number[] = [prompt];
      for (let r = 1; r <= f.rounds; r++) {
        const row = f.agents.map((i) => agent(i, `round ${r} · agent ${i}`));
        for (const a of row) for (const p of prev) edge(p, a);
        prev = row;
      }
      const combine = add({ kind: "op", title: f.combiner === "vote" ? "vote over the last round" : "first: agent 0's last answer", lines: [], name: f.combiner });
      for (const p of prev) edge(p, combine);
      edge(combine, output("the answer"));
      d.notes.push(`round r > 1: every agent reads p ++ sep ++ every agent's answer of round r − 1, in agent order`);
      break;
    }
    case "cascade": {
      const [ia, ib] = f.agents;
      const a = agent(ia), b = agent(ib);
      const decide = add({ kind: "op", title: `A's top probability ≥ ${f.confidence}?`, lines: [], name: "confidence" });
      const out = output("one continuation");
      edge(prompt, a);
      edge(a, decide, "logits");
      edge(decide, out, "yes: A's token");
      edge(decide, b, "no: escalate", "route");
      edge(b, out, "B's token");
      d.notes.push("B reads p and the whole continuation so far, whoever wrote it");
      break;
    }
    case "route": {
      const r = agent(f.router, `router ${f.router}`);
      const out = output("continuation");
      edge(prompt, r);
      for (const i of f.agents) {
        const a = agent(i);
        edge(r, a, `argmax = ${i - f.router - 1}`, "route");
        edge(a, out);
      }
      d.notes.push("the router's logits at the prompt's last position pick one agent, which writes the continuation");
      break;
    }
    case "concurrent": {
      const cache = add({ kind: "attention", title: "one shared KV cache", lines: [`p, then ${f.threads} rows per step`], name: "cache" });
      const out = output(`${f.threads} continuations`);
      edge(prompt, cache);
      for (let n = 0; n < f.threads; n++) {
        const t = agent(f.agent, `thread ${n} · agent ${f.agent}`);
        edge(cache, t, n === 0 ? "steps < k" : undefined);
        edge(t, out);
      }
      d.notes.push(`step k: one batched forward of ${f.threads} rows; thread n reads p, its own tokens and every thread's tokens of steps < k`);
      break;
    }
  }
  return d;
}
