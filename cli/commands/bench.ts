// `moec bench`: the fused kernels against a straightforward unfused lowering of the same layer,
// on the same device and inputs in one process, reported as a ratio (absolute times on a shared or
// CPU adapter mean little; the ratio is what to compare). A model entry is timed as a prefill
// against moec's own dense GEMM of equal FLOPs instead (bench-model.ts).
import type { CommandSpec } from "../args.js";
import { parseArgs, UsageError } from "../args.js";
import type { CliIO } from "../output.js";
import { lowerForRun, withGpu, adapterName } from "./gpu-commands.js";
import { intFlag } from "./run.js";
import { commandProgramInput } from "../checkpoint-input.js";
import { runModelBench } from "./bench-model.js";

export const benchSpec: CommandSpec = {
  name: "bench",
  summary: "time a layer's fused kernels against an unfused lowering, or a model's prefill against a dense GEMM of equal FLOPs",
  usage: "moec bench FILE|DIR --tokens T [--entry NAME | --compare ENTRY[@SCHEDULE],…] [--set NAME=VALUE ...] [--dtype f32|f16] [--last-logits] [--iterations N] [--json]",
  positionals: { name: "a .moe file, or a Hugging Face checkpoint directory or config.json (imported; random weights)", min: 1, max: 1 },
  flags: [
    { name: "tokens", type: "string", value: "T", help: "tokens per run (required)" },
    { name: "entry", type: "string", value: "NAME", help: "the layer, graph or model (optional when the file has exactly one entry point)" },
    {
      name: "compare",
      type: "string",
      value: "A,B,…",
      help: "time these entries fused against the first (fine vs coarse pools); ENTRY@token|expert|dense picks the schedule of fine pools",
    },
    { name: "set", type: "multi", value: "NAME=VALUE", help: "override hyper-parameters, e.g. --set D=64 I=128" },
    { name: "dtype", type: "string", value: "f32|f16", help: "storage precision (default f32)" },
    { name: "last-logits", type: "boolean", help: "a model: compute the LM head for the last position only (its FLOPs counted so)" },
    { name: "iterations", type: "string", value: "N", help: "timed runs per side, alternating (default 10)" },
    { name: "warmup", type: "string", value: "N", help: "untimed runs per side first (default 2)" },
    { name: "seed", type: "string", value: "N", help: "seed of the random weights and inputs (default 1)" },
    { name: "adapter", type: "string", value: "NAME", help: "pick the WebGPU adapter whose name contains NAME" },
    { name: "json", type: "boolean", help: "print the measurements as JSON" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: "Times are GPU timestamps summed over compute passes where the adapter has timestamp-query, else wall clock.\nThe unfused baseline routes with small kernels, reads the selection back and loops over experts on the host.\n--compare runs every listed entry fused on the same inputs, round-robin, and prints each one's time as a multiple of the first's,\nwith the expert and router FLOPs per token of the experts really selected (bench/fine-vs-coarse.moe holds layers at equal FLOPs).\nA model entry (seeded random weights and token ids) is timed as a prefill of T tokens, alternating with a chain of moec's dense GEMMs\n[T, D] × [D, D] (D the model's width) of about the same FLOPs: tokens/s, GFLOP/s (the compiler's count: weights × T plus attention's\ncausal products), dispatches per decoder layer by kind, command buffers and read-backs per forward, the GFLOP/s ratio to the GEMM,\nand the peak resident memory of the process.",
};

export async function runBench(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, benchSpec);
  const f = args.flags;
  const tokens = intFlag(f.tokens, "tokens", 1);
  if (tokens === undefined) throw new UsageError("give the tokens per run with --tokens T");
  const dtype = (f.dtype as string | undefined) ?? "f32";
  if (dtype !== "f32" && dtype !== "f16") throw new UsageError(`--dtype takes f32 or f16, found \`${dtype}\``);
  const iterations = intFlag(f.iterations, "iterations", 1) ?? 10;
  const warmup = intFlag(f.warmup, "warmup", 0) ?? 2;
  const seed = intFlag(f.seed, "seed") ?? 1;
  if (f.compare !== undefined) {
    if (f["last-logits"]) throw new UsageError("--last-logits times a model's prefill; it does not combine with --compare");
    if (f.entry !== undefined) throw new UsageError("give either --entry or --compare, not both");
    return runCompare(io, args.positionals[0]!, f, { tokens, dtype, iterations, warmup, seed });
  }
  const input = await commandProgramInput("bench", args.positionals, io);
  if (!input) return 1;
  const program = lowerForRun(io, input.files[0]!, f, undefined, input.host);
  if (!program) return 1;
  if (program.model) return runModelBench(io, input.files[0]!, f, program, { tokens, dtype, iterations, warmup, seed }, input.host);
  if (f["last-logits"]) throw new UsageError(`--last-logits applies to a model; \`${program.entry}\` is a layer or graph`);
  const rt = await import("../../runtime/index.js");
  const { benchmarkProgram } = await import("../../runtime/bench/benchmark.js");
  return withGpu(io, "bench", { adapter: f.adapter as string | undefined, requireF16: dtype === "f16" }, async (gpu) => {
    const adapter = adapterName(gpu);
    io.err(`moec bench: ${program.entry} at ${tokens} tokens on ${adapter}: compiling both lowerings, ${warmup} warm-up and ${iterations} timed runs each…`);
    const weights = rt.randomWeights(program, seed);
    const r = await benchmarkProgram(gpu, program, weights, tokens, { warmup, iterations, dtype, seed });
    if (f.json) {
      io.out(JSON.stringify({ entry: program.entry, adapter, dtype, ...r }, null, 2));
      return 0;
    }
    const row = (name: string, s: typeof r.fused) =>
      `  ${name.padEnd(8)} ${s.msPerRun.toFixed(3).padStart(9)} ms  ${Math.round(s.tokensPerSec).toLocaleString("en-US").padStart(10)} tokens/s  ${s.gflops.toFixed(2).padStart(7)} GFLOP/s  ${String(s.dispatches).padStart(4)} dispatches  ${s.commandBuffers} cmd buf  ${s.readbacks} read-back`;
    io.out([
      `${program.entry}: ${tokens} tokens, ${dtype}, ${adapter} (${r.timing}, median of ${iterations})`,
      row("fused", r.fused),
      row("unfused", r.unfused),
      `  unfused / fused = ${r.ratio.toFixed(2)}× (fastest runs ${r.minRatio.toFixed(2)}×, wall clock ${r.wallRatio.toFixed(2)}×)`,
    ].join("\n"));
    return 0;
  });
}

const SCHEDULES = ["auto", "token", "expert", "dense"] as const;

/** `--compare A,B@token,…`: each entry fused on the same inputs, timed against the first in one process. */
async function runCompare(
  io: CliIO,
  fileArg: string,
  f: Record<string, unknown>,
  o: { tokens: number; dtype: "f32" | "f16"; iterations: number; warmup: number; seed: number },
): Promise<number> {
  const items = String(f.compare).split(",").map((x) => x.trim()).filter(Boolean);
  if (items.length < 2) throw new UsageError("--compare takes at least two entries, separated by commas (the first is the baseline)");
  const programs: { label: string; program: NonNullable<ReturnType<typeof lowerForRun>>; schedule: (typeof SCHEDULES)[number] }[] = [];
  for (const item of items) {
    const [entry, schedule = "auto"] = item.split("@") as [string, string | undefined];
    if (!(SCHEDULES as readonly string[]).includes(schedule)) throw new UsageError(`unknown schedule \`${schedule}\` in \`${item}\`; use ${SCHEDULES.join(", ")}`);
    const program = lowerForRun(io, fileArg, { ...f, entry });
    if (!program) return 1;
    programs.push({ label: item, program, schedule: schedule as (typeof SCHEDULES)[number] });
  }
  const rt = await import("../../runtime/index.js");
  const { comparePrograms, formatComparison } = await import("../../runtime/bench/compare-programs.js");
  return withGpu(io, "bench", { adapter: f.adapter as string | undefined, requireF16: o.dtype === "f16" }, async (gpu) => {
    const adapter = adapterName(gpu);
    io.err(`moec bench: ${items.length} entries at ${o.tokens} tokens on ${adapter}: compiling, ${o.warmup} warm-up and ${o.iterations} timed runs each…`);
    const entries = programs.map((p) => ({
      label: p.label,
      program: p.program,
      weights: rt.randomWeights(p.program, o.seed),
      options: { dtype: o.dtype, fineSchedule: p.schedule },
    }));
    const r = await comparePrograms(gpu, entries, o.tokens, { warmup: o.warmup, iterations: o.iterations, seed: o.seed });
    if (f.json) io.out(JSON.stringify({ adapter, dtype: o.dtype, ...r }, null, 2));
    else io.out(`${o.tokens} tokens, ${o.dtype}, ${adapter} (${r.timing}, median of ${o.iterations}); baseline ${items[0]}\n${formatComparison(r)}`);
    return 0;
  });
}
