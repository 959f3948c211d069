// What a graph costs (`moec info` on a graph): parameters and FLOPs per token of each agent, and for
// a decoding graph (LANGUAGE.md §11.2) the forward passes and FLOPs per generated token its form
// costs, as docs/topologies.md "Cost per generated token" defines them. Counts only; no runtime.
import type { Instance } from "../semantic/instance.js";
import { countInstance, ownerCounts } from "../semantic/count.js";
import type { CountLabel } from "../semantic/count.js";
import type { DecodingGraph } from "../ir/decoding-graph.js";
import { formatCount, humanCount } from "./numbers.js";

export interface AgentCost {
  /** The agent's number (§11.2 "Counting agents"; tensor agents by their weight prefix `i.`). */
  index: number;
  /** The model's (or layer's) name. */
  model: string;
  params: number;
  /** FLOPs per token of its weights' matrix products, as `moec info` counts a model's. */
  flops: number;
  flopsLabel: CountLabel;
}

/** One bound (best or worst case) of a form's cost per generated token of its output. */
export interface CostBound {
  /** Token positions run through an agent per output token (writing and reading). */
  passes: number;
  flops: number;
}

export interface FormCost {
  form: string;
  /** Per generated token of the output; best === worst where the form's cost does not vary. */
  best: CostBound;
  worst: CostBound;
  /** FLOPs per prompt token of the prompt's prefills (every agent that reads p, once), worst case. */
  promptFlopsPerToken: number;
  /** `concurrent`: one batched step writes `rows` tokens (one per thread). */
  step?: { rows: number; flops: number };
  /** What the numbers mean for this form, one line. */
  note: string;
}

export interface GraphCost {
  agents: AgentCost[];
  /** Parameters of the graph's own weights outside every agent (Mixture of Thoughts' `peers.…`). */
  own: { params: number; flops: number };
  /** Set for decoding graphs. */
  form?: FormCost;
}

const AGENT_PREFIX = /^(\d+)(?:\.|$)/;

/** Per-agent counts of a graph instance: children (and owners) whose weight prefix starts `i.`. */
export function graphCost(inst: Instance, decoding?: DecodingGraph): GraphCost {
  const byIndex = new Map<number, AgentCost>();
  const own = { params: 0, flops: 0 };
  const agentOf = (prefix: string) => {
    const m = AGENT_PREFIX.exec(prefix);
    if (!m) return undefined;
    const index = Number(m[1]);
    let a = byIndex.get(index);
    if (!a) byIndex.set(index, (a = { index, model: decoding?.agents[index]?.model ?? "", params: 0, flops: 0, flopsLabel: "exact" }));
    return a;
  };
  for (const o of inst.owners) {
    const c = ownerCounts(o);
    const a = agentOf(o.prefix);
    if (a) { a.params += c.total; a.flops += c.flops; } else { own.params += c.total; own.flops += c.flops; }
  }
  for (const ch of inst.children) {
    const k = ch.copies?.count ?? 1;
    const c = countInstance(ch.instance);
    const a = agentOf(ch.prefix);
    if (!a) { own.params += k * c.total; own.flops += k * c.flops; continue; }
    a.params += k * c.total;
    a.flops += k * c.flops;
    if (c.flopsLabel !== "exact") a.flopsLabel = c.flopsLabel;
    if (!a.model) a.model = ch.instance.name;
  }
  const agents = [...byIndex.values()].sort((x, y) => x.index - y.index);
  return { agents, own, ...(decoding ? { form: formCost(decoding, agents) } : {}) };
}

/** §11.2's forms: passes and FLOPs per output token, every continuation taken at its full length. */
export function formCost(g: DecodingGraph, agents: AgentCost[]): FormCost {
  const F = (i: number) => agents.find((a) => a.index === i)?.flops ?? 0;
  const sum = (ids: number[]) => ids.reduce((s, i) => s + F(i), 0);
  const same = (form: string, passes: number, flops: number, promptFlopsPerToken: number, note: string): FormCost =>
    ({ form, best: { passes, flops }, worst: { passes, flops }, promptFlopsPerToken, note });
  const f = g.form;
  switch (f.kind) {
    case "model":
      return same("model", 1, F(f.agent), F(f.agent), "one model writes");
    case "mean":
      return same("mean", f.agents.length, sum(f.agents), sum(f.agents), "every agent runs every position; one combined distribution per step");
    case "vote":
      return same("vote", f.agents.length, sum(f.agents), sum(f.agents), "every agent writes a continuation of the output's length; one is output");
    case "chain": {
      // Agent j (0-based) writes its own N tokens and reads the j earlier answers of N tokens each.
      const passes = f.agents.reduce((s, _, j) => s + 1 + j, 0);
      const flops = f.agents.reduce((s, a, j) => s + (1 + j) * F(a), 0);
      return same("chain", passes, flops, sum(f.agents), "agent j writes its answer and reads the j earlier answers (sep not counted)");
    }
    case "relay":
      return same("relay", f.agents.length, sum(f.agents), sum(f.agents), "one agent writes each token and every other agent reads it when its turn comes");
    case "debate": {
      // R answers per agent; in rounds after the first every agent reads all n previous answers.
      const n = f.agents.length, R = f.rounds;
      const perAgent = R + (R - 1) * n;
      return same(`debate (${R} rounds)`, n * perAgent, perAgent * sum(f.agents), sum(f.agents),
        `every agent writes ${R} answers and reads the ${n} previous answers in each round after the first (sep not counted)`);
    }
    case "cascade": {
      const [a, b] = f.agents;
      return { form: "cascade", best: { passes: 1, flops: F(a) }, worst: { passes: 2, flops: F(a) + F(b) }, promptFlopsPerToken: F(a) + F(b),
        note: "best: A writes every token; worst: every step escalates, B runs every position too" };
    }
    case "route": {
      const fs = f.agents.map(F);
      return { form: "route", best: { passes: 1, flops: Math.min(...fs) }, worst: { passes: 1, flops: Math.max(...fs) },
        promptFlopsPerToken: F(f.router) + Math.max(...fs), note: "the router reads the prompt once; the routed agent (cheapest / dearest) writes" };
    }
    case "concurrent":
      return { form: `concurrent (${f.threads} threads)`, best: { passes: 1, flops: F(f.agent) }, worst: { passes: 1, flops: F(f.agent) },
        promptFlopsPerToken: F(f.agent), step: { rows: f.threads, flops: f.threads * F(f.agent) },
        note: `one batched forward of ${f.threads} rows per step writes ${f.threads} tokens (one per thread) over one shared cache` };
  }
}

/** `moec info --json` fields of a graph: `agents`, `graph_own_params`, and `decoding_cost` for a decoding graph. */
export function graphCostJson(c: GraphCost): Record<string, unknown> {
  const f = c.form;
  return {
    agents: c.agents.map((a) => ({ index: a.index, model: a.model, params: a.params, flops_per_token: a.flops, ...(a.flopsLabel !== "exact" ? { flops_per_token_is: a.flopsLabel } : {}) })),
    ...(c.own.params ? { graph_own_params: c.own.params } : {}),
    ...(f ? {
      decoding_cost: {
        form: f.form,
        per_generated_token: { best: { forward_passes: f.best.passes, flops: f.best.flops }, worst: { forward_passes: f.worst.passes, flops: f.worst.flops } },
        prompt_flops_per_token: f.promptFlopsPerToken,
        ...(f.step ? { per_step: { rows: f.step.rows, flops: f.step.flops } } : {}),
        note: f.note,
      },
    } : {}),
  };
}

/** The text section `moec info` prints after a graph's totals. */
export function graphCostText(c: GraphCost): string {
  const n = (x: number) => formatCount(x);
  const mw = Math.max(5, ...c.agents.map((a) => a.model.length));
  const lines = ["agents:", `  ${"#".padStart(3)}  ${"model".padEnd(mw)}  ${"parameters".padStart(16)}  ${"FLOPs per token".padStart(16)}`];
  for (const a of c.agents) lines.push(`  ${String(a.index).padStart(3)}  ${a.model.padEnd(mw)}  ${n(a.params).padStart(16)}  ${n(a.flops).padStart(16)}${a.flopsLabel !== "exact" ? `  (${a.flopsLabel})` : ""}`);
  if (c.own.params) lines.push(`  ${"".padStart(3)}  ${"graph's own".padEnd(mw)}  ${n(c.own.params).padStart(16)}  ${n(c.own.flops).padStart(16)}`);
  const f = c.form;
  if (f) {
    const bound = (b: CostBound) => `${n(b.passes)} forward ${b.passes === 1 ? "pass" : "passes"}, ${n(b.flops)} FLOPs (${humanCount(b.flops)})`;
    lines.push("", `cost of ${f.form} per generated token (weights' matrix products; attention and sep not counted):`);
    if (f.best.passes === f.worst.passes && f.best.flops === f.worst.flops) lines.push(`  ${bound(f.best)}`);
    else lines.push(`  best   ${bound(f.best)}`, `  worst  ${bound(f.worst)}`);
    if (f.step) lines.push(`  per step: one batched forward of ${f.step.rows} rows, ${n(f.step.flops)} FLOPs`);
    lines.push(`  prompt: ${n(f.promptFlopsPerToken)} FLOPs per prompt token (each agent that reads it prefills it once)`, `  ${f.note}`);
  }
  return lines.join("\n");
}
