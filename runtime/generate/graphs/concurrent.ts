// `concurrent(A, threads = N)` (§11.2, Group Think): N threads of one model over ONE KV cache,
// decoded as one batch of N rows per step (Executor.decodeGroup: one command buffer, the MoE
// layers routing the N rows together). The prompt is prefilled once; thread n's token of step k
// sits at position |p| + k and reads the prompt, every thread's tokens of steps < k and itself.
// Choices: thread n draws from its own stream seeded seed + n (thread 0 uses agent 0's seed), its
// repetition penalty over the tokens it reads; a thread stops on its own (its stop token stays
// visible to the others; it writes nothing after it); the run ends when every thread has stopped.
import type { SamplingOptions } from "../../kernels/sampling/sampling-options.js";
import type { StopReason } from "../generate.js";
import { CpuSampler } from "./cpu-sampler.js";
import { stopAfter, type Continuation, type GraphRun } from "./graph-run.js";

export async function runConcurrent(run: GraphRun, agent: number, threads: number, prompt: readonly number[], sampling: SamplingOptions): Promise<Continuation[]> {
  const ctx = run.agents[agent]!;
  const exec = ctx.exec;
  exec.ensureGroup({ threads, context: prompt.length + threads * run.maxNew });
  const samplers = Array.from({ length: threads }, (_, n) => new CpuSampler(sampling, n));
  const out: number[][] = Array.from({ length: threads }, () => []);
  const stops: (StopReason | undefined)[] = new Array(threads).fill(undefined);
  const t0 = performance.now();
  const first = await exec.prefillGroup(Int32Array.from(prompt));
  ctx.positions += prompt.length;
  // Tokens every thread's step-k token reads besides itself: the prompt and all steps < k.
  const common = new Set(prompt);
  const choose = (n: number, logits: ArrayLike<number>, own: number | undefined): void => {
    const seen = own === undefined || common.has(own) ? common : new Set([...common, own]);
    const id = samplers[n]!.pick(logits, seen);
    out[n]!.push(id);
    ctx.written++;
    stops[n] = stopAfter(run, id, out[n]!.length);
  };
  for (let n = 0; n < threads; n++) choose(n, first, undefined);
  const V = first.length;
  for (let k = 0; stops.some((s) => s === undefined); k++) {
    // Thread n's row carries its step-k token while it has one (its stop token included).
    const live = out.map((c) => c.length > k);
    const ids = Int32Array.from(out, (c) => c[Math.min(k, c.length - 1)]!);
    const logits = await exec.decodeGroup(ids, live);
    ctx.positions += live.filter(Boolean).length;
    for (let n = 0; n < threads; n++) if (stops[n] === undefined) choose(n, logits.subarray(n * V, (n + 1) * V), out[n]![k]!);
    for (let n = 0; n < threads; n++) if (live[n]) common.add(out[n]![k]!);
  }
  ctx.seconds += (performance.now() - t0) / 1000;
  return out.map((tokens, n) => ({ tokens, stop: stops[n]! }));
}
