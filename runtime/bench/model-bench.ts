// Prefill of a whole model against moec's own dense GEMM of (about) equal FLOPs, on the same
// device in the same process: the GEMM is the practical limit of the adapter, so the ratio of the
// two GFLOP/s says how close the model's kernels come to it. Runs alternate (model, GEMM, GEMM,
// model, …) so drift in clocks or load hits both; each side reports its median and fastest run.
// The model's FLOPs come from the caller (the compiler's counter: compiler/report/prefill-flops.ts),
// the GEMM's are 2·T·D²·count by construction.

import type { IrProgram } from "../../compiler/ir/ir.js";
import { createExecutor } from "../executor/executor.js";
import type { Executor, RunInfo } from "../executor/types.js";
import type { GpuContext } from "../gpu/device.js";
import { randomInputs } from "../run-io.js";
import { benchWeights, gemmChainProgram } from "./bench-programs.js";
import { normalInputs } from "./compare-programs.js";
import { type DecoderLayerDispatches, decoderLayerDispatches } from "./decoder-layers.js";

export interface ModelBenchOptions {
  /** FLOPs of one forward over `tokens` positions (the compiler's count). */
  flopsPerForward: number;
  warmup?: number;
  iterations?: number;
  dtype?: "f32" | "f16";
  /** Seed of the token ids (and of the GEMM's weight and input). */
  seed?: number;
  /** Compute the LM head for the last position only (executor option). */
  lastLogits?: boolean;
  /** ExecutorOptions.fineSchedule of the fused / model executor (default auto). */
  fineSchedule?: "auto" | "token" | "expert" | "dense";
}

export interface TimedSide {
  /** Median milliseconds per forward (GPU time where timestamps exist, else wall clock). */
  msPerRun: number;
  minMsPerRun: number;
  /** Median wall-clock milliseconds, submit to outputs on the CPU. */
  wallMsPerRun: number;
  flopsPerRun: number;
  gflops: number;
  dispatches: number;
  commandBuffers: number;
  readbacks: number;
}

export interface ModelBench {
  tokens: number;
  timing: "gpu-timestamps" | "wall-clock";
  model: TimedSide & { tokensPerSec: number };
  /** The yardstick: `count` GEMMs [T, D] × [D, D]ᵀ with D the model's width. */
  gemm: TimedSide & { rows: number; dim: number; count: number };
  /** model.gflops / gemm.gflops (medians). */
  ratio: number;
  /** The same on the fastest runs. */
  minRatio: number;
  layers: DecoderLayerDispatches[];
  /** Milliseconds to build both executors (weights uploaded, every pipeline compiled). */
  setupMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The model's width: the embedding's (else the first input's) value width. */
function modelWidth(program: IrProgram): number {
  const embed = program.ops.find((o) => o.op === "embed");
  return program.values[embed ? embed.out : program.inputs[0]!.value]!.width;
}

interface Sample {
  ms: number;
  wall: number;
  info: RunInfo;
}

async function timed(exec: Executor, inputs: Map<string, Float32Array | Int32Array>, tokens: number, profile: boolean): Promise<Sample> {
  const t0 = performance.now();
  await exec.run(inputs, tokens, { profile });
  const wall = performance.now() - t0;
  const info = exec.lastRunInfo!;
  return { ms: profile && info.gpuNs !== undefined ? info.gpuNs / 1e6 : wall, wall, info };
}

export async function benchmarkModel(
  ctx: GpuContext,
  program: IrProgram,
  weights: Map<string, Float32Array>,
  tokens: number,
  opts: ModelBenchOptions,
): Promise<ModelBench> {
  if (!program.model) throw new Error(`internal: benchmarkModel needs a model; \`${program.entry}\` is not one`);
  const warmup = opts.warmup ?? 2;
  const iterations = Math.max(1, opts.iterations ?? 10);
  const seed = opts.seed ?? 1;
  const profile = ctx.features.timestamps;
  const D = modelWidth(program);
  const count = Math.max(1, Math.round(opts.flopsPerForward / (2 * tokens * D * D)));
  const gemmProgram = gemmChainProgram(D, count);

  const t0 = performance.now();
  const model = await createExecutor(ctx, program, weights, { dtype: opts.dtype, lastLogits: opts.lastLogits, ...(opts.fineSchedule ? { fineSchedule: opts.fineSchedule } : {}) });
  let gemm: Executor | undefined;
  try {
    gemm = await createExecutor(ctx, gemmProgram, benchWeights(gemmProgram, seed), { dtype: opts.dtype });
    const setupMs = performance.now() - t0;
    const modelInputs = randomInputs(program, tokens, seed).values;
    const gemmInputs = normalInputs(gemmProgram, tokens, seed);
    const samples = { model: [] as Sample[], gemm: [] as Sample[] };
    const run = (side: "model" | "gemm") => (side === "model" ? timed(model, modelInputs, tokens, profile) : timed(gemm!, gemmInputs, tokens, profile));
    for (let i = 0; i < warmup; i++) {
      await run("model");
      await run("gemm");
    }
    for (let i = 0; i < iterations; i++) {
      const order: ("model" | "gemm")[] = i % 2 ? ["gemm", "model"] : ["model", "gemm"];
      for (const side of order) samples[side].push(await run(side));
    }
    const summarize = (s: Sample[], flops: number): TimedSide => {
      const ms = median(s.map((x) => x.ms));
      const minMs = Math.min(...s.map((x) => x.ms));
      const last = s[s.length - 1]!.info;
      return {
        msPerRun: ms,
        minMsPerRun: minMs,
        wallMsPerRun: median(s.map((x) => x.wall)),
        flopsPerRun: flops,
        gflops: flops / (ms * 1e6),
        dispatches: last.dispatches,
        commandBuffers: last.commandBuffers,
        readbacks: last.readbacks,
      };
    };
    const m = summarize(samples.model, opts.flopsPerForward);
    const g = summarize(samples.gemm, 2 * tokens * D * D * count);
    const fastest = (s: TimedSide) => s.flopsPerRun / (s.minMsPerRun * 1e6);
    return {
      tokens,
      timing: profile ? "gpu-timestamps" : "wall-clock",
      model: { ...m, tokensPerSec: (tokens / m.msPerRun) * 1000 },
      gemm: { ...g, rows: tokens, dim: D, count },
      ratio: m.gflops / g.gflops,
      minRatio: fastest(m) / fastest(g),
      layers: decoderLayerDispatches(program, samples.model[samples.model.length - 1]!.info.dispatchesPerOp),
      setupMs,
    };
  } finally {
    model.dispose();
    gemm?.dispose();
  }
}
