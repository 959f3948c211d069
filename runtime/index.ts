// The runtime library API: `import { createRuntime } from "moec/runtime"`.
//
//   const rt = await createRuntime();                        // a WebGPU adapter through Dawn
//   const layer = await rt.load(program, { weights: "w.safetensors" });   // or { randomSeed: 1 }
//   const { y } = await layer.run({ x }, tokens);
//   const logits = await model.forward([1, 2, 3]);           // a model: [T, V] logits
//   for await (const step of model.generate("Hello", { maxNewTokens: 20 })) process.stdout.write(step.text ?? "");
//   layer.dispose(); rt.dispose();
//
// A checkpoint directory (LANGUAGE.md §13.3) streams: `weights: DIR` reads headers up front and
// each tensor when it is uploaded, so the host holds about one tensor at a time. Its names are
// moec's own (§7), or Hugging Face's when the caller passes the model's name maps, which the
// compiler computes (the runtime never imports it; the names reach it as data):
//
//   const c = compile({ file: "mixtral.moe" });
//   const m = await rt.load(c.program!, { weights: "ckpt/", checkpointNames: hfCheckpointNames(c) });
//
// A `.gguf` file (llama.cpp's container, docs/quantization.md) is read the same way, through the
// same name maps: each tensor is dequantized to f32 on the host as it is uploaded.
import type { CheckpointNames } from "../compiler/ir/checkpoint-names.js";
import type { IrProgram } from "../compiler/ir/ir.js";
import type { GpuContext, AcquireGpuOptions } from "./gpu/device.js";
import { acquireGpu } from "./gpu/dawn.js";
import { WeightsError } from "./weights/weights-error.js";
import { executorProgram, type ExecutorProgram } from "./executor-program.js";
import { generateMethod } from "./generate/generate-method.js";

export { WeightsError } from "./weights/weights-error.js";
import { createExecutor } from "./executor/executor.js";
import type { Executor } from "./executor/types.js";
import { loadWeights } from "./weights/load-weights.js";
import { isCheckpointDir } from "./weights/checkpoint-dir.js";
import { loadCheckpointDir } from "./weights/load-checkpoint.js";
import { isGgufPath, loadGgufFile } from "./weights/gguf/load-gguf.js";
import type { HostWeights, LoadProgress } from "./weights/host-weights.js";
import type { GpuBlockFormat } from "./weights/quant/gpu-blocks.js";
import { randomWeights } from "./weights/random-weights.js";
import { hasTokenizer, loadTokenizer } from "./text/load-tokenizer.js";
import type { GenerationSettings } from "./text/generation-config.js";
import { readGenerationSettings } from "./text/read-generation-settings.js";
import type { TextTokenizer } from "./text/tokenizer.js";
import type { GenerateOptions } from "./generate/generate.js";
import type { BatchGenerationStep, GenerationStep, TextPromptOptions } from "./generate/text-generation.js";

export interface LoadOptions {
  /** A safetensors checkpoint in any form of LANGUAGE.md §7, a checkpoint directory (§13.3) or a
   *  `.gguf` file (read by `load` and resolveWeightsAsync only: its parser is asynchronous)… */
  weights?: string;
  /** …whose names may be a Hugging Face map's (`hfCheckpointNames` of "moec"): the convention
   *  most of the directory's names follow is used, moec's own included. */
  checkpointNames?: CheckpointNames | readonly CheckpointNames[];
  /** …or use the (first) map given whatever matches (`--weights-as hf:FAMILY`). */
  forceCheckpointNames?: boolean;
  /** Called as a checkpoint directory's tensors are read (bytes so far, of the total). */
  onProgress?: (p: LoadProgress) => void;
  /** …with state (e_bias, BatchNorm statistics) from another file. */
  state?: string;
  /** …or seeded random weights, N(0, 1/fan_in). */
  randomSeed?: number;
  /** …or weights already in the canonical stacked layout. */
  canonical?: Map<string, Float32Array>;
  dtype?: "f32" | "f16";
  /** Dense products' weights as Q8_0/Q4_0/FP8 E4M3 blocks on the device (ExecutorOptions.weightFormat). */
  weightFormat?: GpuBlockFormat;
  /** Largest weight binding in bytes (default: the device limit); bigger tensors, router weights
   *  included, are split into row chunks. */
  maxBindingBytes?: number;
  /** Largest activation buffer in bytes (default: the device limit); a run that needs more is
   *  split into token chunks in one command buffer (docs/kernels.md, "Adapter limits"). */
  maxActivationBytes?: number;
  /** A directory with `tokenizer.json` (and tokenizer_config.json, generation_config.json,
   *  config.json) for `generate`; default: `weights` when it is a checkpoint directory. */
  tokenizer?: string;
  /** Device memory the model may use, in bytes (see ExecutorOptions.deviceMemoryBytes): a model
   *  that needs more is refused, with both numbers, before anything is uploaded. */
  deviceMemoryBytes?: number;
  /** Compute routing statistics (LANGUAGE.md §10) on the GPU every run: `lastStats`. */
  stats?: boolean;
  /** Update router state after each run (default: layers yes, models no; LANGUAGE.md §13.0). */
  updateState?: boolean;
  /** A model: compute the logits of the last position only (`forward` then returns [1, V]). */
  lastLogits?: boolean;
}

export interface LoadedProgram extends ExecutorProgram {
  /** The host weights: a Map, or for a checkpoint directory a streamed view whose get() reads
   *  the tensor from disk again (nothing is kept on the host). */
  readonly weights: HostWeights;
  /** A checkpoint directory: the naming convention used (`moec`, `hf:mixtral`) and its tensors
   *  the program does not use (listed, not refused: checkpoints carry e.g. rotary buffers). */
  readonly checkpoint?: { convention: string; unused: string[] };
  /** A model: generates from ids or text (LANGUAGE.md §13.2), yielding each token as the GPU draws
   *  it (with its text where a tokenizer exists); `signal` stops it. End-of-sequence ids and the
   *  context default come from the checkpoint's generation settings unless given. */
  generate(prompt: string | Int32Array | readonly number[], options?: GenerateOptions & TextPromptOptions): AsyncGenerator<GenerationStep>;
  /** Several prompts (texts or id arrays) decoded as one batch (docs/generation.md "Batches"):
   *  each step's tokens tagged with their prompt's `row`; each row stops on its own. */
  generate(prompts: readonly (string | Int32Array | readonly number[])[], options?: GenerateOptions & TextPromptOptions): AsyncGenerator<BatchGenerationStep>;
  /** The checkpoint's tokenizer (LoadOptions.tokenizer, or the weights directory's). */
  readonly tokenizer: TextTokenizer | undefined;
  /** End-of-sequence ids and the context limit of the checkpoint directory (defaults without one). */
  readonly generation: GenerationSettings | undefined;
}

export interface Runtime {
  readonly gpu: GpuContext;
  load(program: IrProgram, opts: LoadOptions): Promise<LoadedProgram>;
  dispose(): void;
}

export interface ResolvedWeights {
  weights: HostWeights;
  checkpoint?: { convention: string; unused: string[] };
}

/** Binds the weights of a program (file, directory, random or canonical), throwing WeightsError with every problem. */
export function resolveWeights(program: IrProgram, opts: LoadOptions): HostWeights {
  return resolveWeightsDetailed(program, opts).weights;
}

/** resolveWeights, with what a checkpoint directory's names turned out to be. */
export function resolveWeightsDetailed(program: IrProgram, opts: LoadOptions): ResolvedWeights {
  if (opts.weights !== undefined && isCheckpointDir(opts.weights)) {
    const names = opts.checkpointNames === undefined ? [] : "tensors" in opts.checkpointNames ? [opts.checkpointNames as CheckpointNames] : (opts.checkpointNames as readonly CheckpointNames[]);
    const r = loadCheckpointDir(program, opts.weights, { names, forceNames: opts.forceCheckpointNames, state: opts.state, onProgress: opts.onProgress });
    if (!r.ok) throw new WeightsError(r.errors);
    return { weights: r.weights, checkpoint: { convention: r.convention, unused: r.unused } };
  }
  return { weights: resolveEager(program, opts) };
}

/** resolveWeightsDetailed, also for a `.gguf` file (whose container parser is asynchronous). */
export async function resolveWeightsAsync(program: IrProgram, opts: LoadOptions): Promise<ResolvedWeights> {
  if (opts.weights !== undefined && isGgufPath(opts.weights) && !isCheckpointDir(opts.weights)) {
    const names = opts.checkpointNames === undefined ? [] : "tensors" in opts.checkpointNames ? [opts.checkpointNames as CheckpointNames] : (opts.checkpointNames as readonly CheckpointNames[]);
    const r = await loadGgufFile(program, opts.weights, { names, forceNames: opts.forceCheckpointNames, state: opts.state, onProgress: opts.onProgress });
    if (!r.ok) throw new WeightsError(r.errors);
    return { weights: r.weights, checkpoint: { convention: `gguf (${r.convention})`, unused: r.unused } };
  }
  return resolveWeightsDetailed(program, opts);
}

function resolveEager(program: IrProgram, opts: LoadOptions): Map<string, Float32Array> {
  if (opts.canonical) return opts.canonical;
  if (opts.weights !== undefined) {
    const r = loadWeights(program, opts.weights, opts.state);
    if (!r.ok) throw new WeightsError(r.errors);
    return r.weights;
  }
  if (opts.randomSeed !== undefined) return randomWeights(program, opts.randomSeed);
  throw new TypeError("load() needs `weights`, `randomSeed` or `canonical`");
}

export async function createRuntime(opts: AcquireGpuOptions = {}): Promise<Runtime> {
  const gpu = await acquireGpu(opts);
  return {
    gpu,
    async load(program, lopts) {
      const { weights, checkpoint } = await resolveWeightsAsync(program, lopts);
      const exec: Executor = await createExecutor(gpu, program, weights, {
        deviceMemoryBytes: lopts.deviceMemoryBytes,
        dtype: lopts.dtype,
        maxBindingBytes: lopts.maxBindingBytes,
        maxActivationBytes: lopts.maxActivationBytes,
        stats: lopts.stats,
        updateState: lopts.updateState,
        lastLogits: lopts.lastLogits,
        weightFormat: lopts.weightFormat,
      });
      // Text and generation settings live beside the weights of a checkpoint directory.
      const textDir = lopts.tokenizer ?? (lopts.weights !== undefined && isCheckpointDir(lopts.weights) ? lopts.weights : undefined);
      let tokenizer: TextTokenizer | undefined, generation: GenerationSettings | undefined;
      try {
        if (textDir !== undefined) {
          generation = readGenerationSettings(textDir);
          if (lopts.tokenizer !== undefined || hasTokenizer(textDir)) tokenizer = loadTokenizer(textDir);
        }
      } catch (e) {
        exec.dispose();
        throw e;
      }
      const base = executorProgram(program, exec);
      return Object.assign(base, {
        weights,
        tokenizer,
        generation,
        ...(checkpoint ? { checkpoint } : {}),
        generate: generateMethod(gpu, exec, tokenizer, generation, lopts.weights ?? "this model"),
      }) as LoadedProgram;
    },
    dispose: () => gpu.dispose(),
  };
}

export { acquireGpu } from "./gpu/dawn.js";
export { acquireGpuFrom, GpuUnavailableError } from "./gpu/device.js";
export { GenerationError, checkGeneration, DEFAULT_MAX_NEW_TOKENS, type GenerateOptions, type GeneratedToken, type StopReason } from "./generate/generate.js";
export { generateBatchText, generateText, promptIds, type BatchGenerationStep, type GenerationStep, type TextPromptOptions } from "./generate/text-generation.js";
export { generateBatch, type BatchToken } from "./generate/generate-batch.js";
export { generateGraph, checkGraphGeneration, type GraphAgentInput, type GraphGenerateOptions, type GraphGeneration, type AgentContinuation, type AgentSpeed } from "./generate/graphs/generate-graph.js";
export { loadAgentWeights } from "./generate/graphs/agent-weights.js";
export { graphLogits, perPositionAgents } from "./generate/graphs/graph-logits.js";
export * from "./text/index.js";
export { SamplingOptionsError, resolveSamplingOptions, type SamplingOptions } from "./kernels/sampling/sampling-options.js";
export type { GpuContext, AcquireGpuOptions } from "./gpu/device.js";
export { createExecutor } from "./executor/executor.js";
export { BatchDecodeUnsupportedError } from "./executor/lower-mla.js";
export { DeviceMemoryError, deviceBytesNeeded, deviceMemoryOffered } from "./executor/device-fit.js";
export type { Executor, ExecutorOptions, RunInfo, RoutingResult } from "./executor/types.js";
export { interpretReference } from "./reference/interpret.js";
export * from "./safetensors/index.js";
export * from "./weights/index.js";
export { GgufError } from "./weights/gguf/gguf-error.js";
export { openGguf, type GgufFile, type GgufTensor } from "./weights/gguf/gguf-file.js";
export { isGgufPath, loadGgufFile } from "./weights/gguf/load-gguf.js";
export { quantizeCheckpointDir, QUANT_TARGETS, type QuantTarget, type QuantizeResult } from "./weights/gguf/quantize-checkpoint.js";
export { idInputs, readInputs, randomInputs, writeInputs, writeOutputs, RunInputError } from "./run-io.js";
export { countNonFinite, describeNonFinite, type NonFiniteCount } from "./nonfinite.js";
export { statsFile, formatStatsJson, referenceStats } from "./stats/router-stats.js";
export type { RouterStats, StatsFile } from "./stats/router-stats.js";
