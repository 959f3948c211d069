// The decode loop of LANGUAGE.md §13.2 for several prompts decoded as one batch (docs/generation.md
// "Batches"): each prompt is prefilled into its own KV cache slot (one prefill per prompt), the
// sampler (rows: B, one Philox stream and seen set per row) draws every row's first token, then
// each step runs all B rows at their own positions in one command buffer (the MoE layers route
// the B tokens in one pass) and the sampler again, reading back B ids and B stop flags. A row
// that has stopped keeps stepping with the others (its slot has room) and its tokens are ignored.

import type { Executor } from "../executor/types.js";
import type { GpuContext } from "../gpu/device.js";
import { createBuffer, STORAGE_USAGE } from "../gpu/buffers.js";
import { GpuSampler } from "../kernels/sampling/gpu-sampler.js";
import { resolveSamplingOptions } from "../kernels/sampling/sampling-options.js";
import { seenMask } from "../kernels/sampling/seen-mask.js";
import { checkGeneration, type GenerateOptions, type GeneratedToken, GenerationError, modelVocab, pickSampling, type StopReason } from "./generate.js";

export interface BatchToken extends GeneratedToken {
  /** The prompt (0-based, in the order given) this token continues. */
  row: number;
}

/** Generates from every prompt on `exec` as one batch, yielding each row's new tokens step by step (rows in order within a step). */
export async function* generateBatch(gpu: GpuContext, exec: Executor, prompts: readonly Int32Array[], opts: GenerateOptions = {}): AsyncGenerator<BatchToken> {
  if (prompts.length === 0) throw new GenerationError("the batch has no prompts; give at least one");
  const sampling = resolveSamplingOptions(pickSampling(opts));
  const V = modelVocab(exec);
  let maxNew = 0;
  prompts.forEach((p, b) => {
    try {
      maxNew = checkGeneration(p, V, opts).maxNew;
    } catch (e) {
      if (e instanceof GenerationError) throw new GenerationError(`prompt ${b}: ${e.message}`);
      throw e;
    }
  });
  const vocab = opts.sampleVocab ?? V;
  if (!Number.isSafeInteger(vocab) || vocab < 1 || vocab > V) throw new GenerationError(`sampleVocab must be an integer in 1…${V} (the model's vocabulary), got ${vocab}`);
  const B = prompts.length;
  // Every row steps maxNew − 1 times after its prompt; the longest prompt sets each slot's size.
  const longest = Math.max(...prompts.map((p) => p.length));
  exec.ensureBatch({ rows: B, context: longest + maxNew - 1 || 1, kvDtype: opts.kvDtype });
  const target = await exec.batchSamplingTarget();
  const eos = new Set(opts.eosIds ?? []);
  const stopIds = [...new Set([...(opts.eosIds ?? []), ...(opts.stopIds ?? [])])].filter((id) => id < vocab);
  // Row b's logits start at b·V; the sampler reads the first `vocab` of each.
  const seenWords = seenMask(vocab, prompts.map((p) => Array.from(p).filter((id) => id < vocab)));
  const seen = createBuffer(gpu.device, seenWords.byteLength, STORAGE_USAGE(), "generate.batch.seen");
  const done = createBuffer(gpu.device, 4 * B, STORAGE_USAGE(), "generate.batch.done");
  let sampler: GpuSampler | undefined;
  try {
    gpu.device.queue.writeBuffer(seen, 0, seenWords);
    gpu.device.queue.writeBuffer(done, 0, new Uint32Array(B));
    sampler = await GpuSampler.create(gpu, { rows: B, vocab, dtype: target.dtype, logitsStride: target.vocab }, { options: sampling, stopIds }, { logits: target.logits, seen, ids: target.tokens, done });
    const step = { record: (sink: Parameters<GpuSampler["record"]>[0]) => sampler!.record(sink), done };
    for (let b = 0; b < B; b++) await exec.prefillRow(b, prompts[b]!);
    const finished = new Array<boolean>(B).fill(false);
    for (let index = 0; index < maxNew; index++) {
      if (opts.signal?.aborted) return;
      sampler.setStep(index);
      const tokens = index === 0 ? await exec.sampleBatch(step) : await exec.decodeBatchSampled(step);
      for (let b = 0; b < B; b++) {
        if (finished[b]) continue;
        const t = tokens[b]!;
        const stop: StopReason | undefined = t.done ? (eos.has(t.id) ? "eos" : "stop") : index === maxNew - 1 ? "length" : undefined;
        if (stop) finished[b] = true;
        yield { row: b, id: t.id, index, ...(stop ? { stop } : {}) };
      }
      if (finished.every(Boolean)) return;
    }
  } finally {
    sampler?.dispose();
    seen.destroy();
    done.destroy();
  }
}
