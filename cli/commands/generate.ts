// `moec generate` (LANGUAGE.md §13.2): a model continues a prompt — text (with the checkpoint's
// tokenizer, optionally as a chat turn) or token ids — decoded on the GPU with the KV cache and the
// GPU sampler; text (or ids) streams to stdout as tokens arrive, time to first token and tokens/s
// go to stderr, `--json` prints one object at the end. `--backend onnxruntime` runs the model
// through ONNX Runtime instead (onnx-backend.ts).
import * as path from "node:path";
import type { CommandSpec } from "../args.js";
import { parseArgs, parseSets, UsageError } from "../args.js";
import { WEIGHT_FORMAT_FLAG, weightFormatFlag } from "./weight-format.js";
import { SCHEDULE_FLAG, scheduleFlag } from "./schedule-flag.js";
import { backendFlag, generateOnOnnxRuntime } from "./onnx-backend.js";
import { onnxExportable } from "./onnx-model.js";
import type { CliIO } from "../output.js";
import { lowerForGenerate, withGpu } from "./gpu-commands.js";
import { runGenerateGraph } from "./generate-graph.js";
import { generatePromptsBatch } from "./generate-prompts.js";
import { idLine, type PromptLine, PromptsFileError, readPromptsFile } from "../prompts-file.js";
import { parseWeightsAs } from "./weights-as.js";
import { checkpointNamesFor, hasCheckpointWeights, loadCheckpointWeights, loadProgress } from "./model-weights.js";
import { intFlag } from "./run.js";
import { displayPath } from "../../compiler/diagnostics/render.js";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import { printDiagnostics } from "./print-diagnostics.js";
import { CheckpointInputError, programInput, type ProgramInput } from "../checkpoint-input.js";
import { cliPlugins } from "../../compiler/plugins/cli-plugins.js";
import { isCheckpointDir } from "../../runtime/weights/checkpoint-dir.js";
import { isGgufPath } from "../../runtime/weights/gguf/load-gguf.js";
import type { HostWeights } from "../../runtime/weights/host-weights.js";
import type { TextTokenizer } from "../../runtime/text/tokenizer.js";
import type { GenerationSettings } from "../../runtime/text/generation-config.js";

export const generateSpec: CommandSpec = {
  name: "generate",
  summary: "continue a prompt with a model: KV cache and sampling on the GPU, text streamed as it comes",
  usage: "moec generate MODEL|GRAPH|DIR [--weights CKPT | --weights I=CKPT … | --random-weights] (--prompt TEXT [--chat [--system TEXT]] | --input-ids 1,2,3 | --input FILE | --prompts FILE) [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--min-p M] [--repetition-penalty R] [--seed S] [--stop ID,…] [--context C] [--json]",
  positionals: { name: "a .moe model or decoding graph (LANGUAGE.md §11.2), or a Hugging Face checkpoint directory or config.json (imported on the fly)", min: 1, max: 1 },
  flags: [
    { name: "weights", type: "string", repeatable: true, value: "FILE|DIR|I=FILE|I=DIR", help: "the checkpoint: a safetensors file, a directory or a .gguf file (default: the model directory itself, when it holds model.safetensors or an index); for a decoding graph, one safetensors file with agent i's tensors named `i.…`, or `I=PATH` (repeatable) for agent I's own checkpoint under its own names" },
    { name: "weights-as", type: "string", value: "hf[:FAMILY]", help: "read the checkpoint directory or .gguf file under Hugging Face names of FAMILY (as moec run)" },
    { name: "random-weights", type: "boolean", help: "generate with seeded random weights (see --weights-seed)" },
    { name: "weights-seed", type: "string", value: "N", help: "seed of --random-weights (default 1)" },
    { name: "tokenizer", type: "string", value: "DIR", help: "a directory with tokenizer.json (and tokenizer_config.json, generation_config.json); default: the checkpoint directory" },
    { name: "prompt", type: "string", value: "TEXT", help: "the prompt as text (needs a tokenizer)" },
    { name: "chat", type: "boolean", help: "apply the tokenizer's chat template to --prompt as one user turn, opening the assistant's" },
    { name: "system", type: "string", value: "TEXT", help: "with --chat: a system message before the user's" },
    { name: "input-ids", type: "string", value: "ID,ID,…", help: "the prompt as token ids" },
    { name: "input", type: "string", value: "FILE", help: "the prompt as a safetensors file holding `tokens` (I32/I64)" },
    { name: "prompts", type: "string", value: "FILE", help: "several prompts, one a line (text; without a tokenizer, ids separated by commas or spaces), decoded together as one batch" },
    { name: "max-new-tokens", type: "string", value: "N", help: "new tokens at most (default 64)" },
    { name: "temperature", type: "string", value: "T", help: "0 (the default) is greedy: the highest logit, ties to the lowest id; else logits are divided by T and a token is drawn" },
    { name: "top-k", type: "string", value: "K", help: "keep the K most likely tokens (0, the default, keeps all)" },
    { name: "top-p", type: "string", value: "P", help: "keep the shortest prefix of the sorted distribution whose mass reaches P (default 1)" },
    { name: "min-p", type: "string", value: "M", help: "drop tokens below M · p_max (default 0)" },
    { name: "repetition-penalty", type: "string", value: "R", help: "Hugging Face's penalty on tokens already seen (default 1: none)" },
    { name: "seed", type: "string", value: "S", help: "seed of the sampler's generator (default 0); the same seed on one adapter gives the same tokens" },
    { name: "stop", type: "string", value: "ID,…", help: "more ids that end the sequence, besides the checkpoint's end-of-sequence ids" },
    { name: "context", type: "string", value: "C", help: "the prompt plus --max-new-tokens may not exceed C (default: config.json's max_position_embeddings, else 4096)" },
    { name: "kv-dtype", type: "string", value: "f32|f16", help: "KV cache storage (default f32; f16 needs shader-f16)" },
    { name: "dtype", type: "string", value: "f32|f16", help: "weight and activation storage on the GPU (default f32)" },
    WEIGHT_FORMAT_FLAG,
    SCHEDULE_FLAG,
    { name: "backend", type: "string", value: "webgpu|onnxruntime", help: "webgpu (the default): KV cache and sampler on a WebGPU adapter; onnxruntime: the model exported as by `moec export onnx`, run by ONNX Runtime's CPU kernels (needs the optional onnxruntime-node package), the whole sequence again each step (no KV cache), tokens chosen on the host; no --prompts, --kv-dtype, --dtype f16, --adapter or --device-memory" },
    { name: "json", type: "boolean", help: "print one JSON object at the end instead of streaming: tokens, text, stop, speeds (a graph: also continuations, rounds, votes, winner, writers, escalated, routed, agents)" },
    { name: "entry", type: "string", value: "NAME", help: "the model or decoding graph (optional when the file has exactly one entry point)" },
    { name: "set", type: "multi", value: "NAME=VALUE", help: "override hyper-parameters, e.g. --set L=2" },
    { name: "device-memory", type: "string", value: "BYTES", help: "device memory the model may use (as moec run)" },
    { name: "adapter", type: "string", value: "NAME", help: "pick the WebGPU adapter whose name contains NAME (or MOEC_ADAPTER)" },
    { name: "plugin", type: "multi", value: "PATH|PACKAGE", help: "load a router plugin (repeatable; also from moec.config.json)" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details:
    "Sampling order (LANGUAGE.md §13.2): temperature, repetition penalty, top-k, top-p, min-p, then one draw.\n" +
    "Generation stops at an end-of-sequence id (generation_config.json, else config.json), a --stop id, or after --max-new-tokens.\n" +
    "A decoding graph (docs/topologies.md) stops each continuation at --stop or any agent's end-of-sequence id; --max-new-tokens bounds each continuation.\n" +
    "Exit status: 0 ok; 1 when the model, checkpoint, tokenizer or prompt cannot be used (the message says which); 2 usage errors.",
};

export function numberFlag(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (String(v).trim() === "" || !Number.isFinite(n)) throw new UsageError(`--${name} takes a number, found \`${String(v)}\``);
  return n;
}

function idList(v: unknown, name: string): number[] | undefined {
  if (v === undefined) return undefined;
  return String(v).split(",").map((x, i) => {
    const t = x.trim();
    if (!/^\d+$/.test(t)) throw new UsageError(`--${name}: item ${i} is \`${t}\`, not a token id`);
    return Number(t);
  });
}

/** The sampling flags' names in the library's options, so option errors can name the flag. */
export const FLAG_OF: Record<string, string> = { temperature: "--temperature", topK: "--top-k", topP: "--top-p", minP: "--min-p", repetitionPenalty: "--repetition-penalty", seed: "--seed" };

export async function runGenerate(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, generateSpec);
  const f = args.flags;
  const given = ["prompt", "input-ids", "input", "prompts"].filter((n) => f[n] !== undefined);
  if (given.length === 0) throw new UsageError("give the prompt with --prompt TEXT, --input-ids 1,2,3 or --input FILE (or several with --prompts FILE)");
  if (given.length > 1) throw new UsageError(`--${given[0]} and --${given[1]} exclude each other`);
  if (f.chat && f.prompt === undefined && f.prompts === undefined) throw new UsageError("--chat applies the chat template to a text prompt; give --prompt TEXT (or --prompts FILE)");
  if (f.system !== undefined && !f.chat) throw new UsageError("--system is a chat turn's system message; add --chat");
  // `--weights I=PATH` (repeatable) gives agent I of a decoding graph its own checkpoint.
  const agentWeights = new Map<number, string>();
  const plainWeights: string[] = [];
  for (const w of (f.weights as string[] | undefined) ?? []) {
    const m = /^(\d+)=(.+)$/.exec(w);
    if (!m) plainWeights.push(w);
    else if (agentWeights.has(Number(m[1]))) throw new UsageError(`--weights ${m[1]}=…: agent ${m[1]} is given weights twice`);
    else agentWeights.set(Number(m[1]), m[2]!);
  }
  if (plainWeights.length > 1) throw new UsageError("--weights is given twice; give a decoding graph's agents their checkpoints with --weights I=PATH");
  f.weights = plainWeights[0];
  if (f.weights !== undefined && f["random-weights"]) throw new UsageError("--weights and --random-weights exclude each other");
  const dtype = (f.dtype as string | undefined) ?? "f32";
  if (dtype !== "f32" && dtype !== "f16") throw new UsageError(`--dtype takes f32 or f16, found \`${dtype}\``);
  const kvDtype = (f["kv-dtype"] as string | undefined) ?? "f32";
  if (kvDtype !== "f32" && kvDtype !== "f16") throw new UsageError(`--kv-dtype takes f32 or f16, found \`${kvDtype}\``);
  const maxNewTokens = intFlag(f["max-new-tokens"], "max-new-tokens", 1);
  const context = intFlag(f.context, "context", 1);
  const weightsSeed = intFlag(f["weights-seed"], "weights-seed") ?? 1;
  const deviceMemory = intFlag(f["device-memory"], "device-memory", 1);
  const sampling = {
    temperature: numberFlag(f.temperature, "temperature"), topK: intFlag(f["top-k"], "top-k"), topP: numberFlag(f["top-p"], "top-p"),
    minP: numberFlag(f["min-p"], "min-p"), repetitionPenalty: numberFlag(f["repetition-penalty"], "repetition-penalty"), seed: intFlag(f.seed, "seed"),
  };
  const stopIds = idList(f.stop, "stop");
  const backend = backendFlag(f, "generate");
  const weightFormat = weightFormatFlag(f);
  if (weightFormat && backend === "onnxruntime") throw new UsageError("--weight-format applies to the WebGPU backend; drop --backend onnxruntime");
  const schedule = scheduleFlag(f);
  if (schedule && backend === "onnxruntime") throw new UsageError("--schedule applies to the WebGPU backend; drop --backend onnxruntime");
  const weightsAs = parseWeightsAs(f["weights-as"]);

  let input: ProgramInput;
  try {
    input = await programInput(args.positionals[0]!, io.cwd);
  } catch (e) {
    if (!(e instanceof CheckpointInputError)) throw e;
    io.err(`moec generate: ${e.message}`);
    return 1;
  }
  const modelDir = input.imported ? path.dirname(input.imported.configFile) : undefined;
  if (modelDir && f.weights === undefined && !f["random-weights"] && hasCheckpointWeights(modelDir)) f.weights = modelDir;
  if (f.weights === undefined && !f["random-weights"] && agentWeights.size === 0) {
    throw new UsageError(input.imported
      ? `${displayPath(input.imported.configFile, io.cwd)} has no model.safetensors or model.safetensors.index.json beside it; give the weights with --weights FILE|DIR, or --random-weights`
      : "give a checkpoint with --weights FILE|DIR, or generate with --random-weights");
  }
  const weightsPath = f.weights !== undefined ? path.resolve(io.cwd, f.weights as string) : undefined;
  const weightsDir = weightsPath !== undefined && isCheckpointDir(weightsPath);
  // A GGUF file's tensors are read under Hugging Face names, so it takes the same name maps.
  const namedWeights = weightsDir || (weightsPath !== undefined && isGgufPath(weightsPath));
  if (weightsAs && !namedWeights) throw new UsageError("--weights-as reads a checkpoint directory or a .gguf file; give one with --weights DIR|FILE.gguf");
  // Text and generation settings: --tokenizer, else the checkpoint directory, else the model directory.
  const textDir = f.tokenizer !== undefined ? path.resolve(io.cwd, f.tokenizer as string) : weightsDir ? weightsPath : modelDir;

  const pl = await cliPlugins(io.cwd, f.plugin);
  printDiagnostics(pl.diagnostics, undefined, io, false);
  if (hasErrors(pl.diagnostics)) return 1;
  const lowered = lowerForGenerate(io, input.file, f, pl.registry, input.host);
  if (!lowered) return 1;
  if (lowered.decodingGraph) {
    if (weightFormat) throw new UsageError("--weight-format is not supported for decoding graphs yet; generate with a model");
    if (schedule) throw new UsageError("--schedule is not supported for decoding graphs yet; generate with a model");
    if (f.prompts !== undefined) throw new UsageError("--prompts decodes several prompts through one model; a decoding graph takes one prompt");
    if (backend === "onnxruntime") throw new UsageError(`--backend onnxruntime runs one model; \`${lowered.info.name}\` is a decoding graph`);
    return runGenerateGraph(io, f, lowered.decodingGraph, lowered.info, {
      agentWeights, plainWeights: weightsPath, weightsSeed, maxNewTokens, context, sampling, stopIds, dtype, kvDtype, deviceMemory,
    });
  }
  if (agentWeights.size) throw new UsageError(`--weights I=PATH gives agent I of a decoding graph its checkpoint; \`${lowered.info.name}\` is a ${lowered.info.kind}`);
  const { program, info } = lowered as { program: NonNullable<typeof lowered.program>; info: typeof lowered.info };
  if (!program.model) {
    io.err(`moec generate: \`${program.entry}\` is a ${info.kind}; generation needs a model (token ids in, logits out)`);
    return 1;
  }
  if (backend === "onnxruntime" && !onnxExportable(io, "generate", program, info, input.file, { entry: f.entry as string | undefined, set: parseSets(f.set as string[] | undefined), registry: pl.registry, host: input.host })) return 1;
  const rt = await import("../../runtime/index.js");

  // Tokenizer, end-of-sequence ids and the context default; then the prompt — all before the GPU.
  let tokenizer: TextTokenizer | undefined, settings: GenerationSettings | undefined, prompt: Int32Array | undefined;
  let batch: { prompts: Int32Array[]; lines: PromptLine[]; shown: string } | undefined;
  const vocab = program.values[program.outputs[0]!.value]!.width;
  try {
    settings = textDir !== undefined ? rt.readGenerationSettings(textDir, displayPath(textDir, io.cwd)) : undefined;
    if (textDir !== undefined && (f.tokenizer !== undefined || rt.hasTokenizer(textDir))) tokenizer = rt.loadTokenizer(textDir, displayPath(textDir, io.cwd));
    if (f.prompt !== undefined) {
      prompt = rt.promptIds(f.prompt as string, tokenizer, { chat: f.chat === true, system: f.system as string | undefined }, textDir !== undefined ? displayPath(textDir, io.cwd) : `\`${program.entry}\` (no checkpoint directory; --tokenizer DIR names one)`);
    } else if (f.prompts !== undefined) {
      batch = readBatch(rt, path.resolve(io.cwd, f.prompts as string), displayPath(path.resolve(io.cwd, f.prompts as string), io.cwd), tokenizer, { chat: f.chat === true, system: f.system as string | undefined });
      const mla = program.ops.find((o) => o.op === "mla");
      if (mla && batch.prompts.length > 1) throw new rt.GenerationError(`--prompts: \`${program.entry}\` has MLA attention, which has no batched decode form yet; decode its prompts one at a time (--prompt)`);
    } else if (f["input-ids"] !== undefined) {
      prompt = rt.idInputs(program, f["input-ids"] as string).values.values().next().value as Int32Array;
    } else {
      prompt = rt.readInputs(program, path.resolve(io.cwd, f.input as string)).values.values().next().value as Int32Array;
    }
    const mismatch = tokenizer ? rt.tokenizerVocabMismatch(tokenizer, vocab) : undefined;
    if (mismatch) throw mismatch;
    rt.resolveSamplingOptions(Object.fromEntries(Object.entries(sampling).filter(([, v]) => v !== undefined)));
    const checks = { maxNewTokens, context: context ?? settings?.contextLimit, eosIds: settings?.eosTokenIds, stopIds };
    if (prompt) rt.checkGeneration(prompt, vocab, checks);
    batch?.prompts.forEach((p, i) => {
      try {
        rt.checkGeneration(p, vocab, checks);
      } catch (e) {
        if (e instanceof rt.GenerationError) throw new rt.GenerationError(`${batch!.shown}:${batch!.lines[i]!.line}: ${e.message}`);
        throw e;
      }
    });
  } catch (e) {
    if (e instanceof PromptsFileError) {
      io.err(`moec generate: ${e.message}`);
      return 1;
    }
    if (e instanceof rt.SamplingOptionsError) throw new UsageError(e.message.replace(`sampling option '${e.option}'`, FLAG_OF[e.option] ?? e.option));
    if (e instanceof rt.TextError || e instanceof rt.RunInputError || e instanceof rt.GenerationError) {
      io.err(`moec generate: ${e.message}`);
      return 1;
    }
    throw e;
  }

  let weights: HostWeights | undefined;
  const progress = loadProgress(io, "generate");
  if (weightsPath === undefined) {
    weights = rt.randomWeights(program, weightsSeed);
  } else {
    const names = namedWeights ? checkpointNamesFor(io, "generate", program, info, weightsPath, weightsAs) : [];
    if (names === undefined) return 1;
    weights = await loadCheckpointWeights(io, "generate", rt, program, { weights: weightsPath, checkpointNames: names, forceCheckpointNames: weightsAs !== undefined, onProgress: progress.update }, displayPath(weightsPath, io.cwd), false);
    if (!weights) return 1;
  }

  if (backend === "onnxruntime") {
    const report = streamReport(io, f.json === true, tokenizer, prompt!.length);
    try {
      const code = await generateOnOnnxRuntime(io, program, weights, prompt!, tokenizer, {
        ...sampling, maxNewTokens, context: context ?? settings?.contextLimit, eosIds: settings?.eosTokenIds, stopIds,
      }, report);
      return code === 0 ? report.finish() : code;
    } catch (e) {
      if (e instanceof rt.TextError || e instanceof rt.GenerationError) {
        io.err(`moec generate: ${e.message}`);
        return 1;
      }
      throw e;
    }
  }
  return withGpu(io, "generate", { adapter: f.adapter as string | undefined, requireF16: dtype === "f16" || kvDtype === "f16" }, async (gpu) => {
    progress.start();
    const exec = await rt.createExecutor(gpu, program, weights!, { dtype, ...(deviceMemory !== undefined ? { deviceMemoryBytes: deviceMemory } : {}), ...(weightFormat ? { weightFormat } : {}), ...(schedule ? { fineSchedule: schedule } : {}) });
    progress.finish();
    if (batch) {
      try {
        return await generatePromptsBatch(io, rt, gpu, exec, batch, tokenizer, {
          ...sampling, maxNewTokens, context: context ?? settings?.contextLimit, eosIds: settings?.eosTokenIds, stopIds, kvDtype: kvDtype as "f32" | "f16",
        }, f.json === true);
      } finally {
        exec.dispose();
      }
    }
    const report = streamReport(io, f.json === true, tokenizer, prompt!.length);
    try {
      const steps = rt.generateText(gpu, exec, prompt!, tokenizer, {
        ...sampling, maxNewTokens, context: context ?? settings?.contextLimit, eosIds: settings?.eosTokenIds, stopIds, kvDtype: kvDtype as "f32" | "f16",
      });
      for await (const step of steps) report.step(step);
    } catch (e) {
      if (e instanceof rt.TextError || e instanceof rt.GenerationError) {
        io.err(`moec generate: ${e.message}`);
        return 1;
      }
      throw e;
    } finally {
      exec.dispose();
    }
    return report.finish();
  });
}

/** Streams each new token's text (or id) to stdout as it comes, then reports the speeds (or the --json object). */
function streamReport(io: CliIO, json: boolean, tokenizer: TextTokenizer | undefined, promptLength: number) {
  const ids: number[] = [];
  let text = "", stop = "length", firstMs = 0;
  let t0 = performance.now();
  return {
    /** Restarts the clock (when loading comes between creating the report and the first step). */
    start(): void {
      t0 = performance.now();
    },
    step(step: { id: number; text?: string; stop?: string }): void {
      if (ids.length === 0) firstMs = performance.now() - t0;
      ids.push(step.id);
      const piece = tokenizer ? step.text ?? "" : `${ids.length > 1 ? " " : ""}${step.id}`;
      text += tokenizer ? piece : "";
      if (!json && piece) (io.write ?? io.out)(piece);
      if (step.stop) stop = step.stop;
    },
    finish(): number {
      const totalMs = performance.now() - t0;
      const decodeTps = ids.length > 1 ? (ids.length - 1) / ((totalMs - firstMs) / 1000) : 0;
      const prefillTps = promptLength / (firstMs / 1000);
      if (json) {
        io.out(JSON.stringify({
          tokens: ids, ...(tokenizer ? { text } : {}), stop, prompt_tokens: promptLength,
          time_to_first_token_ms: round(firstMs), prefill_tokens_per_s: round(prefillTps), decode_tokens_per_s: round(decodeTps),
        }));
      } else {
        (io.write ?? io.out)("\n");
        io.err(`moec generate: ${ids.length} token${ids.length === 1 ? "" : "s"} (stop: ${stop}); first after ${firstMs.toFixed(0)} ms (prompt of ${promptLength} at ${prefillTps.toFixed(1)} tokens/s), then ${decodeTps.toFixed(1)} tokens/s`);
      }
      return 0;
    },
  };
}

const round = (x: number): number => Math.round(x * 100) / 100;

/** The prompts of `--prompts FILE` as ids: text lines through the tokenizer (and chat template), or id lines. */
function readBatch(rt: typeof import("../../runtime/index.js"), file: string, shown: string, tokenizer: TextTokenizer | undefined, chat: { chat: boolean; system: string | undefined }): { prompts: Int32Array[]; lines: PromptLine[]; shown: string } {
  const lines = readPromptsFile(file, shown);
  const prompts = lines.map((l) => {
    if (!tokenizer) {
      if (chat.chat) throw new PromptsFileError(`--chat applies the chat template to text prompts, and there is no tokenizer (no tokenizer.json; --tokenizer DIR names one)`);
      return Int32Array.from(idLine(l, shown));
    }
    try {
      return rt.promptIds(l.text, tokenizer, chat);
    } catch (e) {
      if (e instanceof rt.TextError) throw new PromptsFileError(`${shown}:${l.line}: ${e.message}`);
      throw e;
    }
  });
  return { prompts, lines, shown };
}
