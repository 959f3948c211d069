// The decode loop of LANGUAGE.md §13.2 for one sequence, kept on the GPU: the prompt's prefill and
// every decode step record the model and then the sampler (runtime/kernels/sampling/) into one
// command buffer; the sampler writes the next id into the buffer the next step embeds, so the only
// read-back per token is that id and its stop flag (8 bytes). The KV cache is allocated once per
// generation for prompt + max new tokens; the context limit is checked before any work.

import type { Executor } from "../executor/types.js";
import type { GpuContext } from "../gpu/device.js";
import { createBuffer, STORAGE_USAGE } from "../gpu/buffers.js";
import { GpuSampler } from "../kernels/sampling/gpu-sampler.js";
import { resolveSamplingOptions, type SamplingOptions } from "../kernels/sampling/sampling-options.js";
import { seenMask } from "../kernels/sampling/seen-mask.js";

/** What ends a generation: an end-of-sequence id, a `--stop` id, or the length limit. */
export type StopReason = "eos" | "stop" | "length";

export interface GenerateOptions extends SamplingOptions {
  /** New tokens at most (default 64). */
  maxNewTokens?: number;
  /** End-of-sequence ids (generation_config.json / config.json `eos_token_id`): stop "eos". */
  eosIds?: readonly number[];
  /** More ids that end the sequence (`--stop`): stop "stop". */
  stopIds?: readonly number[];
  /** Prompt + max new tokens may not exceed this (default 4096, or the checkpoint's max_position_embeddings). */
  context?: number;
  /** KV cache storage (default f32). */
  kvDtype?: "f32" | "f16";
  /** Draw only ids 0…n−1 (default: the model's V). A tokenizer smaller than a padded vocabulary
   *  (Qwen: 151,665 tokens, V = 151,936) sets this so no id without a token is drawn. */
  sampleVocab?: number;
  /** Stops the loop before the next step; the tokens so far have been yielded. */
  signal?: AbortSignal;
}

export interface GeneratedToken {
  id: number;
  /** 0 for the first new token. */
  index: number;
  /** Set on the last token: why generation ended after it. */
  stop?: StopReason;
}

/** A generation that cannot start (context, prompt, options); the message names what and why. */
export class GenerationError extends Error {
  override name = "GenerationError";
}

export const DEFAULT_MAX_NEW_TOKENS = 64;

/** Resolves and checks the options before any GPU work. */
export function checkGeneration(prompt: ArrayLike<number>, vocab: number, opts: GenerateOptions): { maxNew: number; context: number } {
  const { maxNewTokens = DEFAULT_MAX_NEW_TOKENS, context = 4096 } = opts;
  if (!Number.isSafeInteger(maxNewTokens) || maxNewTokens < 1) throw new GenerationError(`max new tokens must be an integer ≥ 1, got ${maxNewTokens}`);
  if (!Number.isSafeInteger(context) || context < 1) throw new GenerationError(`the context must be an integer ≥ 1, got ${context}`);
  if (prompt.length === 0) throw new GenerationError("the prompt is empty; generation needs at least one token id");
  if (prompt.length + maxNewTokens > context) {
    throw new GenerationError(`the prompt (${prompt.length} tokens) plus ${maxNewTokens} new tokens is ${prompt.length + maxNewTokens}, above the context of ${context} positions; shorten the prompt, lower --max-new-tokens or raise --context`);
  }
  for (const [what, ids] of [["end-of-sequence", opts.eosIds ?? []], ["stop", opts.stopIds ?? []]] as const) {
    for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new GenerationError(`${what} id ${id} is outside the vocabulary 0…${vocab - 1}`);
  }
  for (let i = 0; i < prompt.length; i++) {
    const id = prompt[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new GenerationError(`prompt token ${i} is ${id}, outside the vocabulary 0…${vocab - 1}`);
  }
  return { maxNew: maxNewTokens, context };
}

/** Generates from `prompt` on `exec` (a model's executor), yielding each new token as the GPU draws it. */
export async function* generateTokens(gpu: GpuContext, exec: Executor, prompt: Int32Array, opts: GenerateOptions = {}): AsyncGenerator<GeneratedToken> {
  const sampling = resolveSamplingOptions(pickSampling(opts));
  const V = modelVocab(exec);
  const { maxNew } = checkGeneration(prompt, V, opts);
  const vocab = opts.sampleVocab ?? V;
  if (!Number.isSafeInteger(vocab) || vocab < 1 || vocab > V) throw new GenerationError(`sampleVocab must be an integer in 1…${V} (the model's vocabulary), got ${vocab}`);
  // The cache holds the prompt and every new token but the last (which is never fed back).
  exec.ensureGeneration({ context: prompt.length + maxNew - 1 || 1, kvDtype: opts.kvDtype });
  const buffers = await exec.samplingTarget();
  const eos = new Set(opts.eosIds ?? []);
  const stopIds = [...new Set([...(opts.eosIds ?? []), ...(opts.stopIds ?? [])])].filter((id) => id < vocab); // others are never drawn
  // One row: the sampler reads the first `vocab` logits of the row (ids ≥ vocab are never drawn;
  // a prompt id among them is simply not penalized).
  const seenWords = seenMask(vocab, [Array.from(prompt).filter((id) => id < vocab)]);
  const seen = createBuffer(gpu.device, seenWords.byteLength, STORAGE_USAGE(), "generate.seen");
  const done = createBuffer(gpu.device, 4, STORAGE_USAGE(), "generate.done");
  let sampler: GpuSampler | undefined;
  try {
    gpu.device.queue.writeBuffer(seen, 0, seenWords);
    gpu.device.queue.writeBuffer(done, 0, new Uint32Array(1));
    sampler = await GpuSampler.create(gpu, { rows: 1, vocab, dtype: buffers.dtype }, { options: sampling, stopIds }, { logits: buffers.logits, seen, ids: buffers.tokens, done });
    const step = { record: (sink: Parameters<GpuSampler["record"]>[0]) => sampler!.record(sink), done };
    for (let index = 0; index < maxNew; index++) {
      if (opts.signal?.aborted) return;
      sampler.setStep(index);
      const token = index === 0 ? await exec.prefillSampled(prompt, step) : await exec.decodeSampled(step);
      const stop: StopReason | undefined = token.done ? (eos.has(token.id) ? "eos" : "stop") : index === maxNew - 1 ? "length" : undefined;
      yield { id: token.id, index, ...(stop ? { stop } : {}) };
      if (stop) return;
    }
  } finally {
    sampler?.dispose();
    seen.destroy();
    done.destroy();
  }
}

/** The width of a model's single output (its logits). */
export function modelVocab(exec: Executor): number {
  const p = exec.program;
  if (!p.model || p.outputs.length !== 1) throw new GenerationError(`generation runs a model over token ids; \`${p.entry}\` is not one`);
  return p.values[p.outputs[0]!.value]!.width;
}

/** The sampling options among the generation options. */
export function pickSampling(o: GenerateOptions): SamplingOptions {
  const out: SamplingOptions = {};
  for (const k of ["temperature", "topK", "topP", "minP", "repetitionPenalty", "seed"] as const) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
