// A decoding graph (LANGUAGE.md §11.2) as data: the form, each model agent's compiled program and
// the agent numbering (reading order, `route`'s router first). The compiler fills it in; the
// runtime's orchestrator (runtime/generate/graphs/) reads it. Data only, like the rest of the IR.
import type { IrProgram } from "./ir.js";

/** `sep` of a form: token ids as written, or a string each reading agent's tokenizer encodes. */
export type DecodingSep = { ids: number[] } | { text: string };

export interface DecodingAgent {
  /** The agent's number (§11.2 "Counting agents"): its weights are `INDEX.…` in a single file. */
  index: number;
  /** The model's declaration name, for reports and errors. */
  model: string;
  /** The model compiled alone at the agent's bindings, under its own weight names (no prefix). */
  program: IrProgram;
  /** Its output size (lm_head vocabulary). */
  vocab: number;
  /** Its `embed` vocabulary (the ids it reads). */
  embedVocab: number;
}

/** The forms of §11.2 that run; each names its agents by number. */
export type DecodingForm =
  | { kind: "model"; agent: number }
  | { kind: "chain"; agents: number[]; sep: DecodingSep }
  | { kind: "mean"; agents: number[] }
  | { kind: "vote"; agents: number[] }
  | { kind: "relay"; agents: number[]; after: number }
  | { kind: "debate"; agents: number[]; rounds: number; sep: DecodingSep; combiner: "vote" | "first" }
  | { kind: "cascade"; agents: [number, number]; confidence: number }
  | { kind: "route"; router: number; agents: number[] }
  /** Group Think: `threads` threads of one agent over one shared KV cache. */
  | { kind: "concurrent"; agent: number; threads: number };

export interface DecodingGraph {
  /** The graph's declaration name. */
  name: string;
  form: DecodingForm;
  /** Every agent, in agent order (agents[i].index === i). */
  agents: DecodingAgent[];
  /** The shared vocabulary of the writing agents. */
  vocab: number;
}

/** The agents that write tokens (all but `route`'s router), in agent order. */
export function writingAgents(form: DecodingForm): number[] {
  switch (form.kind) {
    case "model": case "concurrent": return [form.agent];
    case "route": return form.agents;
    default: return [...form.agents];
  }
}
