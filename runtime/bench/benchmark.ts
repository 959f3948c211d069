// Fused vs unfused executors on the same program, device and inputs, in the same process.
// Runs alternate (fused, unfused, fused, …) so that drift in clocks or load hits both; each
// side reports its median. Timing: GPU timestamps summed over compute passes where the adapter
// has timestamp-query (the unfused side's host round-trip is then NOT counted: see wallMs),
// else wall clock per run (submit → outputs on the CPU).

import type { IrOp, IrProgram } from "../../compiler/ir/ir.js";
import { createExecutor } from "../executor/executor.js";
import type { Executor, RunInfo } from "../executor/types.js";
import type { GpuContext } from "../gpu/device.js";
import { normalInputs } from "./compare-programs.js";

export interface BenchOptions {
  warmup?: number;
  iterations?: number;
  dtype?: "f32" | "f16";
  /** Seed of the random unit-normal inputs. */
  seed?: number;
  /** ExecutorOptions.fineSchedule of the fused / model executor (default auto). */
  fineSchedule?: "auto" | "token" | "expert" | "dense";
}

export interface BenchSide {
  /** Median milliseconds per run (GPU time where timestamps exist, else wall clock). */
  msPerRun: number;
  /** Fastest run (GPU time where timestamps exist): the least disturbed by other load. */
  minMsPerRun: number;
  /** Median wall-clock milliseconds per run, including submits and read-backs. */
  wallMsPerRun: number;
  tokensPerSec: number;
  gflops: number;
  dispatches: number;
  commandBuffers: number;
  readbacks: number;
}

export interface BenchComparison {
  tokens: number;
  timing: "gpu-timestamps" | "wall-clock";
  /** Multiply-add FLOPs (×2) of one run over the experts actually selected. */
  flopsPerRun: number;
  fused: BenchSide;
  unfused: BenchSide;
  /** unfused.msPerRun / fused.msPerRun (> 1: fusion is faster). */
  ratio: number;
  /** The same ratio on wall-clock times. */
  wallRatio: number;
  /** unfused.minMsPerRun / fused.minMsPerRun. */
  minRatio: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** FLOPs of one run; routed pools count the (token, expert) pairs the router really selected. */
function countFlops(program: IrProgram, tokens: number, selectedSlots: Map<string, number>): number {
  const width = (id: number): number => program.values.find((v) => v.id === id)!.width;
  const ffn = (op: Extract<IrOp, { op: "moe" | "shared" }>): number => {
    const { dim: D, hidden: I, act } = op.pool;
    return 2 * D * I * (act === "swiglu" || act === "geglu" ? 3 : 2);
  };
  let flops = 0;
  for (const op of program.ops) {
    if (op.op === "linear") flops += 2 * tokens * width(op.x) * op.outDim;
    else if (op.op === "shared") flops += tokens * op.pool.count * ffn(op);
    else if (op.op === "moe") flops += 2 * tokens * op.router.numExperts * op.router.dim + (selectedSlots.get(op.router.key) ?? 0) * ffn(op);
  }
  return flops;
}

async function timedRun(exec: Executor, inputs: Map<string, Float32Array | Int32Array>, tokens: number, profile: boolean): Promise<{ ms: number; wall: number; info: RunInfo }> {
  const t0 = performance.now();
  await exec.run(inputs, tokens, { profile });
  const wall = performance.now() - t0;
  const info = exec.lastRunInfo!;
  return { ms: profile && info.gpuNs !== undefined ? info.gpuNs / 1e6 : wall, wall, info };
}

export async function benchmarkProgram(
  ctx: GpuContext,
  program: IrProgram,
  weights: Map<string, Float32Array>,
  tokens: number,
  opts: BenchOptions = {},
): Promise<BenchComparison> {
  const warmup = opts.warmup ?? 2;
  const iterations = Math.max(1, opts.iterations ?? 10);
  const profile = ctx.features.timestamps;
  const inputs = normalInputs(program, tokens, opts.seed ?? 1);
  const fused = await createExecutor(ctx, program, weights, { dtype: opts.dtype, fused: true, ...(opts.fineSchedule ? { fineSchedule: opts.fineSchedule } : {}) });
  const unfused = await createExecutor(ctx, program, weights, { dtype: opts.dtype, fused: false });
  try {
    // One run with the routing read back sizes the FLOP count by the real selections.
    await fused.run(inputs, tokens, { returnRouting: true });
    const selected = new Map<string, number>();
    for (const [key, r] of fused.lastRouting ?? []) selected.set(key, r.counts.reduce((a, b) => a + b, 0));
    const flops = countFlops(program, tokens, selected);

    for (let i = 0; i < warmup; i++) {
      await timedRun(fused, inputs, tokens, profile);
      await timedRun(unfused, inputs, tokens, profile);
    }
    const samples = { fused: [] as { ms: number; wall: number; info: RunInfo }[], unfused: [] as { ms: number; wall: number; info: RunInfo }[] };
    for (let i = 0; i < iterations; i++) {
      // Alternate which side goes first as well.
      const order: ("fused" | "unfused")[] = i % 2 ? ["unfused", "fused"] : ["fused", "unfused"];
      for (const side of order) samples[side].push(await timedRun(side === "fused" ? fused : unfused, inputs, tokens, profile));
    }
    const summarize = (s: typeof samples.fused): BenchSide => {
      const ms = median(s.map((x) => x.ms));
      const last = s[s.length - 1]!.info;
      return {
        msPerRun: ms,
        minMsPerRun: Math.min(...s.map((x) => x.ms)),
        wallMsPerRun: median(s.map((x) => x.wall)),
        tokensPerSec: (tokens / ms) * 1000,
        gflops: flops / (ms * 1e6),
        dispatches: last.dispatches,
        commandBuffers: last.commandBuffers,
        readbacks: last.readbacks,
      };
    };
    const f = summarize(samples.fused);
    const u = summarize(samples.unfused);
    return {
      tokens,
      timing: profile ? "gpu-timestamps" : "wall-clock",
      flopsPerRun: flops,
      fused: f,
      unfused: u,
      ratio: u.msPerRun / f.msPerRun,
      wallRatio: u.wallMsPerRun / f.wallMsPerRun,
      minRatio: u.minMsPerRun / f.minMsPerRun,
    };
  } finally {
    fused.dispose();
    unfused.dispose();
  }
}
