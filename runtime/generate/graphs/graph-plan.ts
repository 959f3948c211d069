// Before any work (§11.2): the prompt and options checked as for one model, each reading agent's
// `sep` resolved (a string through that agent's tokenizer), and the longest context each agent will
// read — the prompt plus everything the form makes it read plus its own new tokens — held to that
// agent's context limit, with an error naming the agent and the length.
import type { DecodingGraph } from "../../../compiler/ir/decoding-graph.js";
import { checkGeneration, GenerationError } from "../generate.js";

export interface GraphAgentText {
  /** End-of-sequence ids of the agent's checkpoint. */
  eosIds?: readonly number[];
  /** Its context limit (`--context`, else max_position_embeddings, else 4096). */
  context?: number;
  /** Encodes a string `sep`. */
  tokenizer?: { encode(text: string, options?: { addSpecialTokens?: boolean }): number[] };
}

export interface GraphPlan {
  maxNew: number;
  /** Per agent: `sep` as it reads it. */
  sep: number[][];
  /** Per agent: the longest context it reads (its KV cache's size; `concurrent`: its shared cache's rows). */
  reads: number[];
}

export function planGraph(graph: DecodingGraph, text: readonly GraphAgentText[], promptLength: number, maxNewTokens: number | undefined): GraphPlan {
  const form = graph.form;
  const sepOf = form.kind === "chain" || form.kind === "debate" ? form.sep : { ids: [] };
  const sep = graph.agents.map((a) => {
    if ("ids" in sepOf) return sepOf.ids;
    const tok = text[a.index]?.tokenizer;
    if (!tok) throw new GenerationError(`sep = ${JSON.stringify(sepOf.text)} is a string, and agent ${a.index} (\`${a.model}\`) has no tokenizer to encode it; give sep as token ids (sep = [198]) or the agent a checkpoint with tokenizer.json`);
    return tok.encode(sepOf.text, { addSpecialTokens: false });
  });
  for (const a of graph.agents) for (const id of sep[a.index]!) if (id >= graph.vocab) throw new GenerationError(`sep id ${id} of agent ${a.index} (\`${a.model}\`) is outside the vocabulary 0…${graph.vocab - 1}`);
  const N = maxNewTokens ?? 64;
  const reads = graph.agents.map(() => 0);
  const p = promptLength;
  switch (form.kind) {
    case "model": reads[form.agent] = p + N; break;
    case "chain": form.agents.forEach((a, j) => (reads[a] = Math.max(reads[a]!, p + j * (sep[a]!.length + N) + N))); break;
    case "debate": for (const a of form.agents) reads[a] = p + (form.rounds > 1 ? form.agents.length * (sep[a]!.length + N) : 0) + N; break;
    case "route": reads[form.router] = p; for (const a of form.agents) reads[a] = p + N; break;
    // Group Think's one shared cache holds the prompt and every thread's tokens.
    case "concurrent": {
      reads[form.agent] = p + form.threads * N;
      const a = graph.agents[form.agent]!;
      const mla = a.program.ops.find((o) => o.op === "mla");
      if (mla && mla.op === "mla") throw new GenerationError(`agent ${a.index} (\`${a.model}\`): \`concurrent\` decodes its threads as one batch over a shared cache, which MLA block '${mla.attn.key}' has no form for yet (its absorbed decode kernels read one position); use a model with \`attention\``);
      break;
    }
    default: for (const a of form.agents) reads[a] = p + N;
  }
  for (const a of graph.agents) {
    const limit = text[a.index]?.context ?? 4096;
    if (reads[a.index]! > limit && form.kind === "concurrent") {
      throw new GenerationError(`agent ${a.index} (\`${a.model}\`): the shared KV cache of \`concurrent\` would hold ${reads[a.index]} tokens (the prompt of ${p} and ${form.threads} threads × ${N} new tokens), above its context of ${limit} positions; shorten the prompt, lower --max-new-tokens or threads, or raise --context`);
    }
    if (reads[a.index]! > limit) {
      throw new GenerationError(`agent ${a.index} (\`${a.model}\`) would read up to ${reads[a.index]} tokens (the prompt of ${p}, what \`${form.kind}\` gives it to read, and ${form.kind === "route" && a.index === form.router ? "no" : N} new tokens), above its context of ${limit} positions; shorten the prompt, lower --max-new-tokens or raise --context`);
    }
  }
  return { maxNew: N, sep, reads };
}

/** The prompt and the agents' stop ids checked as one model's generation checks them. */
export function checkGraphPrompt(graph: DecodingGraph, prompt: ArrayLike<number>, maxNewTokens: number | undefined, eosIds: readonly number[], stopIds: readonly number[]): void {
  checkGeneration(prompt, graph.vocab, { maxNewTokens, context: Number.MAX_SAFE_INTEGER, eosIds, stopIds });
}
