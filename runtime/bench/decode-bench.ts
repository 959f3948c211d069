// Decode of a whole model, one token at a time, against the adapter's streaming bandwidth measured
// in the same process (stream-read.ts). A random prompt fills the KV cache to `context − steps −
// warmup` positions, then the real generation step runs (Executor.decodeSampled with a greedy GPU
// sampler: one command buffer, 8 bytes read back) at the context's last `steps` positions, each
// timed step alternating with a timed run of the read kernel over at least the bytes a step reads.
//
// With `batch` B > 1, B random prompts of the same length fill B cache slots (Executor.ensureBatch,
// prefillRow) and each step is decodeBatchSampled: all B rows at the same positions in one command
// buffer, the sampler over B rows, 8·B bytes read back; a step writes B tokens.
//
// What is measured, per step, by wall clock (the decode path records without GPU timestamps):
//   - step time: from the sampler's setStep to decodeSampled's answer;
//   - host time: from the same start until the step's queue.submit is called, i.e. the JS that
//     records every dispatch, writes the step's uniforms and finishes the command buffer (read by
//     wrapping the queue's submit for the bench); the submit call itself is reported apart, and
//     the rest is the GPU and the wait for the 8-byte read-back;
//   - bandwidth: the bytes the step reads (from the caller: the compiler's active weights plus KV
//     rows at the step's position) over the step time; the read kernel's is its bytes over its
//     wall time, submit and read-back included as in a step.

import type { IrProgram } from "../../compiler/ir/ir.js";
import { createBuffer, STORAGE_USAGE } from "../gpu/buffers.js";
import type { GpuContext } from "../gpu/device.js";
import { createExecutor } from "../executor/executor.js";
import type { Executor } from "../executor/types.js";
import type { GpuBlockFormat } from "../weights/quant/gpu-blocks.js";
import type { RunInfo, StepSample } from "../executor/types.js";
import { GpuSampler } from "../kernels/sampling/gpu-sampler.js";
import { seenWordsPerRow } from "../kernels/sampling/seen-mask.js";
import { randomInputs } from "../run-io.js";
import { type DecoderLayerDispatches, decoderLayerDispatches } from "./decoder-layers.js";
import { StreamRead } from "./stream-read.js";

export interface DecodeBenchOptions {
  /** KV-cache positions; the timed steps are at positions context − steps … context − 1. */
  context: number;
  /** Timed decode steps (each followed or preceded by one timed read-kernel run). */
  steps: number;
  /** Untimed steps (and read runs) first, at least 1 (the step after the prompt). Default 2. */
  warmup?: number;
  dtype?: "f32" | "f16";
  kvDtype?: "f32" | "f16";
  /** ExecutorOptions.weightFormat: dense products' weights as Q8_0/Q4_0/FP8 E4M3 blocks. */
  weightFormat?: GpuBlockFormat;
  /** ExecutorOptions.fineSchedule of the fused / model executor (default auto). */
  fineSchedule?: "auto" | "token" | "expert" | "dense";
  /** Seed of the prompt's token ids. */
  seed?: number;
  /** Sequences decoded together (default 1). */
  batch?: number;
  /** Bytes one decode step at `position` reads (weights + KV rows of every row of the batch), given
   *  what block-quantized weights save (Executor.blockBytesSaved, known once the executor is built). */
  bytesPerStep: (position: number, saved: Executor["blockBytesSaved"]) => number;
}

export interface DecodeSide {
  /** Median wall-clock milliseconds per step. */
  msPerStep: number;
  minMsPerStep: number;
  /** Median host milliseconds per step (see the file comment). */
  hostMsPerStep: number;
  /** hostMsPerStep / msPerStep. */
  hostShare: number;
  /** Median milliseconds inside the step's queue.submit call (Dawn's validation and the driver's
   *  submit; on a CPU adapter it may include work the driver does there). */
  submitCallMs: number;
  /** batch × 1000 / msPerStep. */
  tokensPerSec: number;
  /** Mean bytes a timed step reads. */
  bytesPerStep: number;
  /** bytesPerStep / batch. */
  bytesPerToken: number;
  /** bytesPerStep / msPerStep, in bytes per second. */
  bytesPerSec: number;
  dispatches: number;
  /** The most command buffers / read-backs any timed step used (RunInfo). */
  commandBuffers: number;
  readbacks: number;
  /** queue.submit calls seen in the slowest-submitting step (the executor's and nothing else). */
  submits: number;
}

export interface StreamSide {
  bytes: number;
  buffers: number;
  /** Median wall-clock milliseconds per run. */
  msPerRun: number;
  minMsPerRun: number;
  bytesPerSec: number;
}

export interface DecodeBench {
  context: number;
  batch: number;
  steps: number;
  warmup: number;
  /** Tokens of the random prompt (prefilled, untimed). */
  promptTokens: number;
  /** Positions of the first and last timed step. */
  positions: [number, number];
  timing: "wall-clock";
  /** Device bytes the block-quantized weights save, by use (all 0 without weightFormat). */
  blockBytesSaved: Executor["blockBytesSaved"];
  decode: DecodeSide;
  stream: StreamSide;
  /** decode.bytesPerSec / stream.bytesPerSec (medians). */
  ratio: number;
  /** Dispatches per decoder layer of one step. */
  layers: DecoderLayerDispatches[];
  /** The last timed step's dispatches per op (the sampler is op −1). */
  dispatchesPerOp: RunInfo["dispatchesPerOp"];
  /** Milliseconds to create the executor and sampler (upload, pipelines) and to prefill the prompt. */
  setupMs: number;
  prefillMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Wraps `queue.submit` to note when each call starts and returns, until `restore`. */
function clockSubmits(queue: GPUQueue): { count: number; lastCall: number; lastReturn: number; restore(): void } {
  const clock = {
    count: 0,
    lastCall: 0,
    lastReturn: 0,
    restore: () => {
      delete (queue as { submit?: unknown }).submit;
    },
  };
  const submit = queue.submit;
  queue.submit = function (buffers: Iterable<GPUCommandBuffer>): undefined {
    clock.lastCall = performance.now();
    submit.call(queue, buffers);
    clock.count++;
    clock.lastReturn = performance.now();
    return undefined;
  };
  return clock;
}

export async function benchmarkDecode(ctx: GpuContext, program: IrProgram, weights: Map<string, Float32Array>, opts: DecodeBenchOptions): Promise<DecodeBench> {
  if (!program.model) throw new Error(`internal: benchmarkDecode needs a model; \`${program.entry}\` is not one`);
  const warmup = opts.warmup ?? 2;
  const { context, steps } = opts;
  const promptTokens = context - steps - warmup;
  if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(warmup) || warmup < 1 || promptTokens < 1) {
    throw new Error(`internal: a decode bench of ${steps} steps after ${warmup} warm-up steps needs a context above ${steps + warmup}, got ${context}`);
  }
  const first = promptTokens + warmup;
  const { device } = ctx;

  const B = opts.batch ?? 1;
  if (!Number.isInteger(B) || B < 1) throw new Error(`internal: a decode bench needs a batch of at least 1, got ${B}`);
  const t0 = performance.now();
  // A generation's prefill computes the head over the prompt's last position only (no [C, V] logits).
  const exec = await createExecutor(ctx, program, weights, { dtype: opts.dtype, decode: { context, kvDtype: opts.kvDtype }, ...(opts.weightFormat ? { weightFormat: opts.weightFormat } : {}), ...(opts.fineSchedule ? { fineSchedule: opts.fineSchedule } : {}) });
  const blockBytesSaved = exec.blockBytesSaved;
  const stepBytes = Array.from({ length: steps }, (_, i) => opts.bytesPerStep(first + i, blockBytesSaved));
  const owned: GPUBuffer[] = [];
  let sampler: GpuSampler | undefined;
  let stream: StreamRead | undefined;
  try {
    if (B > 1) exec.ensureBatch({ rows: B, context, kvDtype: opts.kvDtype });
    const target = B > 1 ? await exec.batchSamplingTarget() : await exec.samplingTarget();
    const seen = createBuffer(device, B * seenWordsPerRow(target.vocab) * 4, STORAGE_USAGE(), "decode bench seen");
    const done = createBuffer(device, 4 * B, STORAGE_USAGE(), "decode bench done");
    owned.push(seen, done);
    sampler = await GpuSampler.create(ctx, { rows: B, vocab: target.vocab, dtype: target.dtype, logitsStride: target.vocab }, { options: { temperature: 0 } }, { logits: target.logits, seen, ids: target.tokens, done });
    const s = sampler;
    const sample: StepSample = { record: (sink) => s.record(sink), done };
    stream = await StreamRead.create(ctx, Math.max(...stepBytes));
    const setupMs = performance.now() - t0;

    const input = program.inputs[0]!.name;
    const prompts = Array.from({ length: B }, (_, b) => randomInputs(program, promptTokens, (opts.seed ?? 1) + b).values.get(input) as Int32Array);
    const p0 = performance.now();
    // The prompt's prefill and the first draw (the first warm-up step), then the real steps.
    s.setStep(0);
    if (B > 1) {
      for (let b = 0; b < B; b++) await exec.prefillRow(b, prompts[b]!);
      await exec.sampleBatch(sample);
    } else {
      await exec.prefillSampled(prompts[0]!, sample);
    }
    const prefillMs = performance.now() - p0;
    await stream.run();

    let step = 1;
    const decodeOnce = async (): Promise<{ ms: number; host: number; submitCall: number; submits: number; info: RunInfo }> => {
      const clock = clockSubmits(device.queue);
      try {
        const start = performance.now();
        s.setStep(step++);
        if (B > 1) await exec.decodeBatchSampled(sample);
        else await exec.decodeSampled(sample);
        const ms = performance.now() - start;
        return { ms, host: clock.lastCall - start, submitCall: clock.lastReturn - clock.lastCall, submits: clock.count, info: exec.lastRunInfo! };
      } finally {
        clock.restore();
      }
    };
    for (let i = 0; i < warmup; i++) {
      await decodeOnce();
      await stream.run();
    }
    const decodes: Awaited<ReturnType<typeof decodeOnce>>[] = [];
    const reads: number[] = [];
    for (let i = 0; i < steps; i++) {
      if (i % 2) reads.push((await stream.run()).ms);
      decodes.push(await decodeOnce());
      if (i % 2 === 0) reads.push((await stream.run()).ms);
    }

    const ms = median(decodes.map((d) => d.ms));
    const host = median(decodes.map((d) => d.host));
    const bytesPerStep = stepBytes.reduce((a, b) => a + b, 0) / steps;
    const readMs = median(reads);
    const last = decodes[decodes.length - 1]!.info;
    const decode: DecodeSide = {
      msPerStep: ms,
      minMsPerStep: Math.min(...decodes.map((d) => d.ms)),
      hostMsPerStep: host,
      hostShare: host / ms,
      submitCallMs: median(decodes.map((d) => d.submitCall)),
      tokensPerSec: (B * 1000) / ms,
      bytesPerStep,
      bytesPerToken: bytesPerStep / B,
      bytesPerSec: bytesPerStep / (ms / 1000),
      dispatches: last.dispatches,
      commandBuffers: Math.max(...decodes.map((d) => d.info.commandBuffers)),
      readbacks: Math.max(...decodes.map((d) => d.info.readbacks)),
      submits: Math.max(...decodes.map((d) => d.submits)),
    };
    const streamSide: StreamSide = {
      bytes: stream.bytes,
      buffers: stream.buffers,
      msPerRun: readMs,
      minMsPerRun: Math.min(...reads),
      bytesPerSec: stream.bytes / (readMs / 1000),
    };
    return {
      context,
      blockBytesSaved,
      batch: B,
      steps,
      warmup,
      promptTokens,
      positions: [first, first + steps - 1],
      timing: "wall-clock",
      decode,
      stream: streamSide,
      ratio: decode.bytesPerSec / streamSide.bytesPerSec,
      layers: decoderLayerDispatches(program, last.dispatchesPerOp),
      dispatchesPerOp: last.dispatchesPerOp,
      setupMs,
      prefillMs,
    };
  } finally {
    stream?.dispose();
    sampler?.dispose();
    for (const b of owned) b.destroy();
    exec.dispose();
  }
}
