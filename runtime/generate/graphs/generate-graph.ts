// Runs a decoding graph (LANGUAGE.md §11.2; docs/topologies.md): one Executor per agent on the one
// device, each with its own KV cache sized by the plan; the form's orchestration
// (chain.ts, ensemble.ts, vote.ts, relay.ts, debate.ts, cascade.ts, route.ts, concurrent.ts); and the report
// `moec generate --json` prints: the output, every continuation, rounds, votes, writers, the
// escalated steps, the routed agent and each agent's speed.
import type { DecodingGraph } from "../../../compiler/ir/decoding-graph.js";
import type { Executor } from "../../executor/types.js";
import type { SamplingOptions } from "../../kernels/sampling/sampling-options.js";
import { pickSampling, type StopReason } from "../generate.js";
import { AgentContext } from "./agent-context.js";
import { CpuSampler } from "./cpu-sampler.js";
import { checkGraphPrompt, planGraph, type GraphAgentText } from "./graph-plan.js";
import type { Continuation, GraphRun } from "./graph-run.js";
import { runCascade } from "./cascade.js";
import { runChain } from "./chain.js";
import { runConcurrent } from "./concurrent.js";
import { runDebate } from "./debate.js";
import { runEnsemble } from "./ensemble.js";
import { runRelay } from "./relay.js";
import { runRoute } from "./route.js";
import { runVote, voteOver } from "./vote.js";

export interface GraphAgentInput extends GraphAgentText {
  /** The agent's model executor (its own weights); its KV cache is (re)sized here. */
  exec: Executor;
}

export interface GraphGenerateOptions extends SamplingOptions {
  maxNewTokens?: number;
  /** `--stop` ids, besides every agent's end-of-sequence ids. */
  stopIds?: readonly number[];
  /** Each output token as it is written, for forms whose output is written token by token
   *  (a model, chain's last agent, mean, relay, cascade, route). */
  onToken?: (id: number) => void;
}

export interface AgentContinuation {
  agent: number;
  /** `concurrent`: the thread (0…N−1) of the one agent that wrote it. */
  thread?: number;
  tokens: number[];
  stop: StopReason;
}

export interface AgentSpeed {
  agent: number;
  model: string;
  /** Output (or own-continuation) tokens it chose. */
  written: number;
  /** Positions it ran (prefill and decode), and its forwards' seconds. */
  positions: number;
  seconds: number;
  /** positions / seconds. */
  tokens_per_s: number;
}

export interface GraphGeneration {
  tokens: number[];
  stop: StopReason;
  /** Each agent's own continuation, in agent order (a debate: its last round's). */
  continuations: AgentContinuation[];
  rounds?: AgentContinuation[][];
  votes?: number[];
  winner?: number;
  writers?: number[];
  escalated?: number[];
  routed?: number;
  agents: AgentSpeed[];
}

/** Stop ids of the whole graph: `--stop` and every agent's end-of-sequence ids. */
function stopSets(agents: readonly GraphAgentText[], stopIds: readonly number[]): { eos: Set<number>; stops: Set<number> } {
  return { eos: new Set(agents.flatMap((a) => [...(a.eosIds ?? [])])), stops: new Set(stopIds) };
}

/** Checks everything that can be checked without a GPU (prompt ids, stops, contexts, sep); throws GenerationError. */
export function checkGraphGeneration(graph: DecodingGraph, agents: readonly GraphAgentText[], prompt: ArrayLike<number>, opts: GraphGenerateOptions = {}): void {
  checkGraphPrompt(graph, prompt, opts.maxNewTokens, agents.flatMap((a) => [...(a.eosIds ?? [])]), opts.stopIds ?? []);
  planGraph(graph, agents, prompt.length, opts.maxNewTokens);
}

export async function generateGraph(graph: DecodingGraph, agents: readonly GraphAgentInput[], prompt: readonly number[], opts: GraphGenerateOptions = {}): Promise<GraphGeneration> {
  checkGraphGeneration(graph, agents, prompt, opts);
  const plan = planGraph(graph, agents, prompt.length, opts.maxNewTokens);
  const sampling = pickSampling(opts);
  // Group Think's agent decodes over its own shared cache (Executor.ensureGroup), not a single context.
  const contexts = agents.map((a, i) => new AgentContext(a.exec, graph.form.kind === "concurrent" ? 0 : plan.reads[i]!));
  const run: GraphRun = {
    agents: contexts, samplers: agents.map((_, i) => new CpuSampler(sampling, i)), maxNew: plan.maxNew,
    ...stopSets(agents, opts.stopIds ?? []), sep: (i) => plan.sep[i]!, onToken: opts.onToken,
  };
  const own = (ids: readonly number[], cs: readonly Continuation[]): AgentContinuation[] => cs.map((c, j) => ({ agent: ids[j]!, tokens: c.tokens, stop: c.stop }));
  const form = graph.form;
  let result: Omit<GraphGeneration, "agents">;
  switch (form.kind) {
    case "model": {
      const c = (await runChain(run, [form.agent], prompt))[0]!;
      result = { tokens: c.tokens, stop: c.stop, continuations: own([form.agent], [c]) };
      break;
    }
    case "chain": {
      const cs = await runChain(run, form.agents, prompt);
      result = { tokens: cs.at(-1)!.tokens, stop: cs.at(-1)!.stop, continuations: own(form.agents, cs) };
      break;
    }
    case "mean": {
      const c = await runEnsemble(run, form.agents, prompt);
      result = { tokens: c.tokens, stop: c.stop, continuations: [] };
      break;
    }
    case "vote": {
      const cs = await runVote(run, form.agents, prompt);
      const v = voteOver(cs);
      result = { tokens: cs[v.winner]!.tokens, stop: cs[v.winner]!.stop, continuations: own(form.agents, cs), votes: v.votes, winner: form.agents[v.winner]! };
      break;
    }
    case "relay": {
      const c = await runRelay(run, form.agents, form.after, prompt);
      result = { tokens: c.tokens, stop: c.stop, continuations: [], writers: c.writers };
      break;
    }
    case "debate": {
      const rounds = await runDebate(run, form.agents, form.rounds, prompt);
      const last = rounds.at(-1)!;
      const v = form.combiner === "vote" ? voteOver(last) : { votes: undefined, winner: 0 };
      result = {
        tokens: last[v.winner]!.tokens, stop: last[v.winner]!.stop, continuations: own(form.agents, last),
        rounds: rounds.map((r) => own(form.agents, r)), winner: form.agents[v.winner]!, ...(v.votes ? { votes: v.votes } : {}),
      };
      break;
    }
    case "cascade": {
      const c = await runCascade(run, form.agents, form.confidence, prompt);
      result = { tokens: c.tokens, stop: c.stop, continuations: [], escalated: c.escalated };
      break;
    }
    case "concurrent": {
      // The output is the N continuations; `tokens` and `stop` are thread 0's.
      const cs = await runConcurrent(run, form.agent, form.threads, prompt, sampling);
      result = { tokens: cs[0]!.tokens, stop: cs[0]!.stop, continuations: cs.map((c, n) => ({ agent: form.agent, thread: n, tokens: c.tokens, stop: c.stop })) };
      break;
    }
    case "route": {
      const c = await runRoute(run, form.router, form.agents, prompt);
      result = { tokens: c.tokens, stop: c.stop, continuations: own([c.routed], [c]), routed: c.routed };
      break;
    }
  }
  const speeds = contexts.map((c, i): AgentSpeed => ({
    agent: i, model: graph.agents[i]!.model, written: c.written, positions: c.positions, seconds: c.seconds,
    tokens_per_s: c.seconds > 0 ? c.positions / c.seconds : 0,
  }));
  return { ...result, agents: speeds };
}
