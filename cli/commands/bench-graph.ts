// `moec bench GRAPH --decode` for a decoding graph (LANGUAGE.md §11.2; runtime/bench/graph-bench.ts):
// seeded random weights per agent (named `i.…`, as `moec generate --random-weights`), a random
// prompt, one timed generation of the form (tokens per second), and the form's step comparison:
// Group Think's batched step of N threads against single steps, `mean`/`vote`'s n agents' steps
// in one command buffer against apart.
import type { DecodingGraph } from "../../compiler/ir/decoding-graph.js";
import { UsageError } from "../args.js";
import type { CliIO } from "../output.js";
import { adapterName, withGpu } from "./gpu-commands.js";

export interface GraphBenchFlags {
  context: number;
  steps: number;
  warmup: number;
  dtype: "f32" | "f16";
  seed: number;
}

const ms = (x: number) => `${x.toFixed(2)} ms`;

export async function runGraphBench(io: CliIO, f: Record<string, unknown>, graph: DecodingGraph, o: GraphBenchFlags): Promise<number> {
  if (f["kv-dtype"] !== undefined) throw new UsageError("--kv-dtype applies to a model's --decode; a decoding graph's agents keep f32 KV caches");
  if (f.batch !== undefined) throw new UsageError("--batch applies to a model's --decode; a decoding graph's batch is its form (`concurrent`'s threads)");
  const prompt = o.context - o.steps - o.warmup;
  if (prompt < 1) throw new UsageError(`--context ${o.context} leaves no prompt before ${o.warmup} warm-up and ${o.steps} timed steps (--warmup, --tokens); give a context above ${o.steps + o.warmup}`);
  const rt = await import("../../runtime/index.js");
  const { benchmarkGraph } = await import("../../runtime/bench/graph-bench.js");
  return withGpu(io, "bench", { adapter: f.adapter as string | undefined, requireF16: o.dtype === "f16" }, async (gpu) => {
    const adapter = adapterName(gpu);
    if (process.stderr.isTTY) io.err(`moec bench: ${graph.name} (${graph.form.kind}, ${graph.agents.length} agent${graph.agents.length === 1 ? "" : "s"}): compiling, a prompt of ${prompt} tokens, ${o.steps} new tokens, then the step comparison…`);
    const weights = graph.agents.map((a) => rt.randomWeights(a.program, o.seed, `${a.index}.`));
    const r = await benchmarkGraph(gpu, graph, weights, { prompt, steps: o.steps, warmup: o.warmup, seed: o.seed, dtype: o.dtype });
    if (f.json) {
      io.out(JSON.stringify({ adapter, dtype: o.dtype, ...r }, null, 2));
      return 0;
    }
    const g = r.generate;
    const threads = graph.form.kind === "concurrent" ? `, ${graph.form.threads} threads` : "";
    const lines = [
      `${r.graph}: ${r.form}, ${r.agents} agent${r.agents === 1 ? "" : "s"}${threads}, prompt ${r.promptTokens} tokens, ${o.steps} new tokens, ${o.dtype}, ${adapter} (wall clock)`,
      `  generate   ${g.writtenTokens} tokens written (${g.outputTokens} in the output) in ${g.seconds.toFixed(3)} s: ${g.writtenPerSec.toFixed(2)} written tokens/s, ${g.outputPerSec.toFixed(2)} output tokens/s`,
      ...g.agents.map((a) => `  agent ${a.agent} (${a.model}): ${a.positions} positions in ${a.seconds.toFixed(3)} s, ${a.tokens_per_s.toFixed(2)} positions/s`),
    ];
    const s = r.step;
    if (s?.kind === "threads") {
      lines.push(
        `  one batched step of ${s.n} threads ${ms(s.togetherMs)}, one single-sequence step ${ms(s.oneMs)} (medians of ${o.steps})`,
        `  batched / one = ${s.ratio.toFixed(2)}×; batched / ${s.n} single steps = ${s.ratioToN!.toFixed(2)}×`,
      );
    } else if (s) {
      lines.push(
        `  one step of ${s.n} agents in one command buffer ${ms(s.togetherMs)}, their ${s.n} steps apart ${ms(s.oneMs)} (medians of ${o.steps}, alternating)`,
        `  together / apart = ${s.ratio.toFixed(2)}×`,
      );
    }
    io.out(lines.join("\n"));
    return 0;
  });
}
