// `moec generate GRAPH.moe` for a decoding graph (LANGUAGE.md §11.2, docs/topologies.md): each
// agent's weights (its own checkpoint with `--weights I=PATH`, the `I.` tensors of one safetensors
// file, or seeded random weights named `I.…`), its tokenizer and end-of-sequence ids, the prompt
// and every context limit checked before the GPU; then one executor per agent and the form's
// orchestration. Text (or ids) streams for forms with one continuation; `--json` reports what
// §11.2 lists.
import * as path from "node:path";
import { UsageError } from "../args.js";
import type { CliIO } from "../output.js";
import type { EntryInfo } from "../../compiler/driver.js";
import { displayPath } from "../../compiler/diagnostics/render.js";
import { writingAgents, type DecodingGraph } from "../../compiler/ir/decoding-graph.js";
import type { HostWeights } from "../../runtime/weights/host-weights.js";
import type { TextTokenizer } from "../../runtime/text/tokenizer.js";
import type { GraphAgentInput } from "../../runtime/generate/graphs/generate-graph.js";
import { withGpu } from "./gpu-commands.js";
import { checkpointNamesFor, loadCheckpointWeights } from "./model-weights.js";
import { FLAG_OF } from "./generate.js";

export interface GraphGenerateFlags {
  agentWeights: Map<number, string>;
  /** One safetensors file holding every agent under `I.` names. */
  plainWeights?: string;
  weightsSeed: number;
  maxNewTokens?: number;
  context?: number;
  sampling: Record<string, number | undefined>;
  stopIds?: number[];
  dtype: string;
  kvDtype: string;
  deviceMemory?: number;
}

/** The forms whose output is written token by token, so it can stream. */
const STREAMED = new Set(["model", "chain", "mean", "relay", "cascade", "route"]);

export async function runGenerateGraph(io: CliIO, f: Record<string, unknown>, graph: DecodingGraph, info: EntryInfo, o: GraphGenerateFlags): Promise<number> {
  const rt = await import("../../runtime/index.js");
  const { isCheckpointDir } = rt;
  const fail = (msg: string): number => (io.err(`moec generate: ${msg}`), 1);
  for (const i of o.agentWeights.keys()) {
    if (i >= graph.agents.length) throw new UsageError(`--weights ${i}=…: \`${graph.name}\` has ${graph.agents.length} agents, numbered 0…${graph.agents.length - 1} (\`route\`'s router is agent 0)`);
  }
  if (o.plainWeights !== undefined && isCheckpointDir(o.plainWeights)) {
    throw new UsageError("one --weights for a decoding graph is a safetensors file whose tensors are named `I.…` per agent; give each agent a checkpoint directory with --weights I=DIR");
  }
  if (f["weights-as"] !== undefined) throw new UsageError("--weights-as is for one model's checkpoint; a decoding graph's agent directories are read under moec's or Hugging Face names as detected");

  // Per agent, before the GPU: where its weights come from, and its tokenizer and settings.
  const texts: { tokenizer?: TextTokenizer; eosIds?: number[]; context?: number }[] = [];
  const tokenizerDir = f.tokenizer !== undefined ? path.resolve(io.cwd, f.tokenizer as string) : undefined;
  let promptTokenizer: TextTokenizer | undefined, prompt: Int32Array;
  const firstWriter = graph.agents[writingAgents(graph.form)[0]!]!;
  try {
    for (const a of graph.agents) {
      const own = o.agentWeights.get(a.index);
      const dir = tokenizerDir ?? (own !== undefined && isCheckpointDir(path.resolve(io.cwd, own)) ? path.resolve(io.cwd, own) : undefined);
      const settings = dir !== undefined ? rt.readGenerationSettings(dir, displayPath(dir, io.cwd)) : undefined;
      const tokenizer = dir !== undefined && (tokenizerDir !== undefined || rt.hasTokenizer(dir)) ? rt.loadTokenizer(dir, displayPath(dir, io.cwd)) : undefined;
      if (tokenizer && a.index === firstWriter.index) {
        const mismatch = rt.tokenizerVocabMismatch(tokenizer, graph.vocab);
        if (mismatch) throw mismatch;
      }
      texts.push({ tokenizer, eosIds: settings?.eosTokenIds, context: o.context ?? settings?.contextLimit });
      promptTokenizer ??= tokenizer;
    }
    if (f.prompt !== undefined) {
      prompt = rt.promptIds(f.prompt as string, promptTokenizer, { chat: f.chat === true, system: f.system as string | undefined }, `\`${graph.name}\` (no agent checkpoint has a tokenizer; --tokenizer DIR names one)`);
    } else if (f["input-ids"] !== undefined) {
      prompt = rt.idInputs(firstWriter.program, f["input-ids"] as string).values.values().next().value as Int32Array;
    } else {
      prompt = rt.readInputs(firstWriter.program, path.resolve(io.cwd, f.input as string)).values.values().next().value as Int32Array;
    }
    rt.resolveSamplingOptions(definedOnly(o.sampling));
    rt.checkGraphGeneration(graph, texts, prompt, { maxNewTokens: o.maxNewTokens, stopIds: o.stopIds });
  } catch (e) {
    if (e instanceof rt.SamplingOptionsError) throw new UsageError(e.message.replace(`sampling option '${e.option}'`, FLAG_OF[e.option] ?? e.option));
    if (e instanceof rt.TextError || e instanceof rt.RunInputError || e instanceof rt.GenerationError) return fail(e.message);
    throw e;
  }

  // Weights: agent I's own checkpoint, else the `I.` tensors of the one file, else random.
  const weights: HostWeights[] = [];
  for (const a of graph.agents) {
    const own = o.agentWeights.get(a.index);
    if (own !== undefined) {
      const p = path.resolve(io.cwd, own);
      const child = info.instance.children.find((c) => c.prefix === String(a.index))!.instance;
      const agentInfo = { ...info, kind: "model", name: a.model, instance: child } as EntryInfo;
      const names = isCheckpointDir(p) ? checkpointNamesFor(io, "generate", a.program, agentInfo, p, undefined) : [];
      if (names === undefined) return 1;
      const w = await loadCheckpointWeights(io, "generate", rt, a.program, { weights: p, checkpointNames: names }, `${displayPath(p, io.cwd)} (agent ${a.index})`, false);
      if (!w) return 1;
      weights.push(w);
    } else if (o.plainWeights !== undefined) {
      const r = rt.loadAgentWeights(a.program, o.plainWeights, a.index);
      if (!r.ok) return fail(`the weights of agent ${a.index} (\`${a.model}\`) in ${displayPath(o.plainWeights, io.cwd)} do not fit:\n${r.errors.map((x) => "  - " + x.message).join("\n")}`);
      weights.push(r.weights);
    } else if (f["random-weights"]) {
      weights.push(rt.randomWeights(a.program, o.weightsSeed, `${a.index}.`));
    } else {
      throw new UsageError(`agent ${a.index} (\`${a.model}\`) has no weights: give --weights ${a.index}=PATH, one --weights FILE with \`${a.index}.…\` tensors, or --random-weights`);
    }
  }

  return withGpu(io, "generate", { adapter: f.adapter as string | undefined, requireF16: o.dtype === "f16" || o.kvDtype === "f16" }, async (gpu) => {
    const inputs: GraphAgentInput[] = [];
    try {
      for (const a of graph.agents) {
        const exec = await rt.createExecutor(gpu, a.program, weights[a.index]!, { dtype: o.dtype as "f32" | "f16", ...(o.deviceMemory !== undefined ? { deviceMemoryBytes: o.deviceMemory } : {}) });
        inputs.push({ exec, ...texts[a.index]! });
      }
      const streaming = !f.json && STREAMED.has(graph.form.kind);
      const decoder = promptTokenizer ? new rt.StreamDecoder(promptTokenizer) : undefined;
      let first = true;
      const write = io.write ?? io.out;
      const t0 = performance.now();
      const r = await rt.generateGraph(graph, inputs, Array.from(prompt), {
        ...definedOnly(o.sampling), maxNewTokens: o.maxNewTokens, stopIds: o.stopIds,
        onToken: streaming ? (id) => {
          const piece = decoder ? decoder.push(id) : `${first ? "" : " "}${id}`;
          first = false;
          if (piece) write(piece);
        } : undefined,
      });
      const seconds = (performance.now() - t0) / 1000;
      const text = promptTokenizer ? promptTokenizer.decode(r.tokens) : undefined;
      // Group Think's output is its N continuations: one line each, in thread order.
      const threads = graph.form.kind === "concurrent" ? r.continuations.map((c) => (promptTokenizer ? promptTokenizer.decode(c.tokens) : c.tokens.join(" "))) : undefined;
      if (f.json) {
        const agents = r.agents.map((a) => ({ ...a, seconds: round(a.seconds), tokens_per_s: round(a.tokens_per_s) }));
        io.out(JSON.stringify({ ...r, agents, ...(text !== undefined ? { text } : {}), prompt_tokens: prompt.length, seconds: Math.round(seconds * 1000) / 1000 }));
      } else {
        if (!streaming) write(threads ? threads.join("\n") : text ?? r.tokens.join(" "));
        write("\n");
        io.err(`moec generate: \`${graph.name}\` (${graph.form.kind}, ${graph.agents.length} agent${graph.agents.length === 1 ? "" : "s"}): ${r.tokens.length} token${r.tokens.length === 1 ? "" : "s"} (stop: ${r.stop}) in ${seconds.toFixed(2)} s`);
      }
      return 0;
    } catch (e) {
      if (e instanceof rt.TextError || e instanceof rt.GenerationError) return fail(e.message);
      throw e;
    } finally {
      for (const i of inputs) i.exec.dispose();
    }
  });
}

function definedOnly(o: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, number>;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
