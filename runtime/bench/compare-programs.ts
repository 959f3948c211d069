// Several programs (or one program under several executor options) timed on the same device and
// inputs, in the same process, against the first as the baseline: the fine-vs-coarse granularity
// benchmark (bench/fine-vs-coarse.mjs, `moec bench --compare`) and the fine-pool schedules.
// Runs go round-robin, the starting entry rotating each round, so drift hits every entry alike.
// Timing: GPU timestamps summed over compute passes where the adapter has timestamp-query, else
// wall clock per run.

import type { IrOp, IrPool, IrProgram } from "../../compiler/ir/ir.js";
import { expertKindOf, formOf } from "../../stdlib/expert-kinds/index.js";
import { layoutShape } from "../../stdlib/expert-kinds/kind-adapter.js";
import { createExecutor } from "../executor/executor.js";
import { mixedMemberPool } from "../weights/canonical-layout.js";
import type { Executor, ExecutorOptions, RunInfo } from "../executor/types.js";
import type { GpuContext } from "../gpu/device.js";

export interface CompareEntry {
  label: string;
  program: IrProgram;
  weights: Map<string, Float32Array>;
  options?: ExecutorOptions;
}

export interface CompareRow {
  label: string;
  /** Median ms per run (GPU time with timestamps, else wall clock). */
  msPerRun: number;
  minMsPerRun: number;
  wallMsPerRun: number;
  dispatches: number;
  /** FLOPs per token (2 per multiply-add) of the experts actually selected, and of the routers' score stages. */
  expertFlopsPerToken: number;
  routerFlopsPerToken: number;
  /** msPerRun / the baseline's msPerRun (< 1: faster than the baseline). */
  timeRatio: number;
  minTimeRatio: number;
  /** With timestamps: medians over runs profiled one dispatch per pass (slightly slower than the
   *  fused pass), split into the routers' kernels and everything else (the pools). */
  breakdown?: { routerMs: number; poolMs: number };
}

export interface CompareResult {
  tokens: number;
  timing: "gpu-timestamps" | "wall-clock";
  rows: CompareRow[];
}

/** FLOPs of one expert application: 2 per multiply-add of its kind's matrix tensors. */
export function expertFlops(pool: IrPool, member?: number): number {
  const p = pool.kind === "mixed" ? mixedMemberPool(pool, member ?? 0) : pool;
  const form = formOf(p);
  return expertKindOf(p)
    .tensors(form, p.dim)
    .filter((t) => t.matmul)
    .reduce((s, t) => s + 2 * layoutShape(t.layout, p.dim, form.hidden).reduce((a, b) => a * b, 1), 0);
}

/** FLOPs per token of a router's score stage. */
export function routerFlops(op: Extract<IrOp, { op: "moe" }>): number {
  const score = op.router.stages[0];
  if (score?.name === "product") {
    const parts = Number(score.params["parts"] ?? 2);
    const size = Number(score.params["size"] ?? Math.round(op.router.numExperts ** (1 / parts)));
    return 2 * parts * size * op.router.dim;
  }
  return 2 * op.router.numExperts * op.router.dim;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Seeded unit-normal inputs for every float input of `program` (token ids: zeros). */
export function normalInputs(program: IrProgram, tokens: number, seed: number): Map<string, Float32Array | Int32Array> {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const inputs = new Map<string, Float32Array | Int32Array>();
  for (const inp of program.inputs) {
    const v = program.values.find((x) => x.id === inp.value)!;
    if (v.dtype === "i32") {
      inputs.set(inp.name, new Int32Array(tokens * v.width));
      continue;
    }
    const data = new Float32Array(tokens * v.width);
    for (let i = 0; i < data.length; i++) data[i] = Math.sqrt(-2 * Math.log(Math.max(uniform(), 1e-12))) * Math.cos(2 * Math.PI * uniform());
    inputs.set(inp.name, data);
  }
  return inputs;
}

/** Expert and router FLOPs per token, from the selections the GPU really made. */
async function countFlops(exec: Executor, inputs: Map<string, Float32Array | Int32Array>, tokens: number): Promise<{ experts: number; router: number }> {
  await exec.run(inputs, tokens, { returnRouting: true });
  const routing = exec.lastRouting ?? new Map();
  let experts = 0;
  let router = 0;
  for (const op of exec.program.ops) {
    if (op.op === "shared") {
      for (let e = 0; e < op.pool.count; e++) experts += tokens * expertFlops(op.pool, e);
    } else if (op.op === "moe") {
      router += tokens * routerFlops(op);
      const r = routing.get(op.router.key);
      if (!r) continue;
      for (let t = 0; t < tokens; t++) {
        for (let s = 0; s < r.counts[t]!; s++) experts += expertFlops(op.pool, r.ids[t * r.maxPerToken + s]!);
      }
    } else if (op.op === "linear") {
      const inW = exec.program.values.find((v) => v.id === op.x)!.width;
      experts += 2 * tokens * inW * op.outDim;
    }
  }
  return { experts: experts / tokens, router: router / tokens };
}

export async function comparePrograms(
  ctx: GpuContext,
  entries: CompareEntry[],
  tokens: number,
  opts: { warmup?: number; iterations?: number; seed?: number } = {},
): Promise<CompareResult> {
  if (entries.length === 0) throw new Error("comparePrograms needs at least one entry");
  const warmup = opts.warmup ?? 2;
  const iterations = Math.max(1, opts.iterations ?? 10);
  const profile = ctx.features.timestamps;
  const execs: Executor[] = [];
  try {
    for (const e of entries) execs.push(await createExecutor(ctx, e.program, e.weights, e.options));
    const inputs = execs.map((x) => normalInputs(x.program, tokens, opts.seed ?? 1));
    const flops: { experts: number; router: number }[] = [];
    for (let i = 0; i < execs.length; i++) flops.push(await countFlops(execs[i]!, inputs[i]!, tokens));
    const run = async (i: number): Promise<{ ms: number; wall: number; info: RunInfo }> => {
      const t0 = performance.now();
      await execs[i]!.run(inputs[i]!, tokens, { profile });
      const wall = performance.now() - t0;
      const info = execs[i]!.lastRunInfo!;
      return { ms: profile && info.gpuNs !== undefined ? info.gpuNs / 1e6 : wall, wall, info };
    };
    for (let w = 0; w < warmup; w++) for (let i = 0; i < execs.length; i++) await run(i);
    const samples = execs.map(() => [] as { ms: number; wall: number; info: RunInfo }[]);
    for (let it = 0; it < iterations; it++) {
      for (let j = 0; j < execs.length; j++) {
        const i = (it + j) % execs.length;
        samples[i]!.push(await run(i));
      }
    }
    // Router vs pool time, from per-dispatch timestamps (router kernels are named `router…`).
    const breakdown: ({ routerMs: number; poolMs: number } | undefined)[] = [];
    for (let i = 0; i < execs.length; i++) {
      if (!profile) {
        breakdown.push(undefined);
        continue;
      }
      const r: number[] = [];
      const p: number[] = [];
      for (let it = 0; it < Math.min(5, iterations); it++) {
        await execs[i]!.run(inputs[i]!, tokens, { profile: "dispatch" });
        let rn = 0;
        let pn = 0;
        for (const k of execs[i]!.lastRunInfo!.kernels ?? []) if (k.kernel.startsWith("router")) rn += k.ns; else pn += k.ns;
        r.push(rn / 1e6);
        p.push(pn / 1e6);
      }
      breakdown.push({ routerMs: median(r), poolMs: median(p) });
    }
    const base = { ms: median(samples[0]!.map((s) => s.ms)), min: Math.min(...samples[0]!.map((s) => s.ms)) };
    const rows = entries.map((e, i): CompareRow => {
      const s = samples[i]!;
      const ms = median(s.map((x) => x.ms));
      const min = Math.min(...s.map((x) => x.ms));
      return {
        label: e.label,
        msPerRun: ms,
        minMsPerRun: min,
        wallMsPerRun: median(s.map((x) => x.wall)),
        dispatches: s[s.length - 1]!.info.dispatches,
        expertFlopsPerToken: flops[i]!.experts,
        routerFlopsPerToken: flops[i]!.router,
        timeRatio: ms / base.ms,
        minTimeRatio: min / base.min,
        ...(breakdown[i] ? { breakdown: breakdown[i] } : {}),
      };
    });
    return { tokens, timing: profile ? "gpu-timestamps" : "wall-clock", rows };
  } finally {
    for (const x of execs) x.dispose();
  }
}

/** A fixed-width table of a comparison, for terminals and RESULTS.md. */
export function formatComparison(r: CompareResult): string {
  const bd = r.rows.some((x) => x.breakdown);
  const base = r.rows[0]?.breakdown?.poolMs;
  const head = `| entry | median ms | min ms | × baseline (median / min) | dispatches | expert MFLOP/token | router MFLOP/token |${bd ? " router ms | pool ms | pool × baseline |" : ""}`;
  const rule = `| --- | ---: | ---: | ---: | ---: | ---: | ---: |${bd ? " ---: | ---: | ---: |" : ""}`;
  const lines = r.rows.map((x) => {
    const b = x.breakdown;
    const extra = bd ? ` ${b ? b.routerMs.toFixed(3) : "–"} | ${b ? b.poolMs.toFixed(3) : "–"} | ${b && base ? (b.poolMs / base).toFixed(2) : "–"} |` : "";
    return `| ${x.label} | ${x.msPerRun.toFixed(3)} | ${x.minMsPerRun.toFixed(3)} | ${x.timeRatio.toFixed(2)} / ${x.minTimeRatio.toFixed(2)} | ${x.dispatches} | ${(x.expertFlopsPerToken / 1e6).toFixed(3)} | ${(x.routerFlopsPerToken / 1e6).toFixed(3)} |${extra}`;
  });
  return [head, rule, ...lines].join("\n");
}
