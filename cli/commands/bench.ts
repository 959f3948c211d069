// `moec bench`: the fused kernels against a straightforward unfused lowering of the same layer,
// on the same device and inputs in one process, reported as a ratio (absolute times on a shared or
// CPU adapter mean little; the ratio is what to compare). A model entry is timed as a prefill
// against moec's own dense GEMM of equal FLOPs instead (bench-model.ts).
import { hostRunProblem } from "../host-fit.js";
import { WEIGHT_FORMAT_FLAG, weightFormatFlag } from "./weight-format.js";
import { parseSchedule, SCHEDULE_FLAG, scheduleFlag, type Schedule } from "./schedule-flag.js";
import type { CommandSpec } from "../args.js";
import { parseArgs, UsageError } from "../args.js";
import type { CliIO } from "../output.js";
import { lowerForGenerate, lowerForRun, withGpu, adapterName } from "./gpu-commands.js";
import { MAX_RUN_TOKENS, intFlag } from "./run.js";
import { commandProgramInput } from "../checkpoint-input.js";
import { runModelBench } from "./bench-model.js";
import { runDecodeBench } from "./bench-decode.js";
import { runGraphBench } from "./bench-graph.js";

export const benchSpec: CommandSpec = {
  name: "bench",
  summary: "time a layer's fused kernels against an unfused lowering, a model's prefill against a dense GEMM of equal FLOPs, its decode against a streaming read, or a decoding graph's generation",
  usage: "moec bench FILE|DIR --tokens T [--entry NAME | --compare ENTRY[@SCHEDULE],…] [--set NAME=VALUE ...] [--dtype f32|f16] [--schedule S] [--last-logits] [--iterations N] [--json]\n       moec bench MODEL --decode [--context C] [--tokens N] [--batch B] [--kv-dtype f32|f16] [--set NAME=VALUE ...] [--dtype f32|f16] [--weight-format q8_0|q4_0|fp8_e4m3] [--schedule S] [--json]\n       moec bench GRAPH --decode [--entry NAME] [--context C] [--tokens N] [--dtype f32|f16] [--json]",
  positionals: { name: "a .moe file, or a Hugging Face checkpoint directory or config.json (imported; random weights)", min: 1, max: 1 },
  flags: [
    { name: "tokens", type: "string", value: "T", help: "tokens per run (required); with --decode, the timed decode steps (default 16)" },
    { name: "decode", type: "boolean", help: "a model: time decode steps (greedy, GPU sampler) against a streaming read of the device; a decoding graph: its generation and its form's step comparison" },
    { name: "context", type: "string", value: "C", help: "with --decode: KV-cache positions; the timed steps are its last N (default 128)" },
    { name: "kv-dtype", type: "string", value: "f32|f16", help: "with --decode: storage of the KV cache (default f32)" },
    { name: "batch", type: "string", value: "B", help: "with --decode: sequences decoded together, one command buffer per step for all B (default 1; MLA models: 1)" },
    { name: "entry", type: "string", value: "NAME", help: "the layer, graph or model (optional when the file has exactly one entry point)" },
    {
      name: "compare",
      type: "string",
      value: "A,B,…",
      help: "time these entries fused against the first (fine vs coarse pools); ENTRY@auto|token|expert|dense picks that entry's schedule of routed pools (else --schedule's)",
    },
    { name: "set", type: "multi", value: "NAME=VALUE", help: "override hyper-parameters, e.g. --set D=64 I=128" },
    { name: "dtype", type: "string", value: "f32|f16", help: "storage precision (default f32)" },
    { ...SCHEDULE_FLAG, help: `${SCHEDULE_FLAG.help}; a layer's fused side, a model's prefill or decode, each --compare entry without @SCHEDULE` },
    { ...WEIGHT_FORMAT_FLAG, help: `with --decode (a model): ${WEIGHT_FORMAT_FLAG.help}; the bytes per step count those matrices as blocks` },
    { name: "last-logits", type: "boolean", help: "a model: compute the LM head for the last position only (its FLOPs counted so)" },
    { name: "iterations", type: "string", value: "N", help: "timed runs per side, alternating (default 10)" },
    { name: "warmup", type: "string", value: "N", help: "untimed runs per side first (default 2); with --decode, untimed steps (at least 1)" },
    { name: "seed", type: "string", value: "N", help: "seed of the random weights and inputs (default 1)" },
    { name: "adapter", type: "string", value: "NAME", help: "pick the WebGPU adapter whose name contains NAME" },
    { name: "json", type: "boolean", help: "print the measurements as JSON" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: "Times are GPU timestamps summed over compute passes where the adapter has timestamp-query, else wall clock.\nThe unfused baseline routes with small kernels, reads the selection back and loops over experts on the host.\n--compare runs every listed entry fused on the same inputs, round-robin, and prints each one's time as a multiple of the first's,\nwith the expert and router FLOPs per token of the experts really selected (bench/fine-vs-coarse.moe holds layers at equal FLOPs).\nA model entry (seeded random weights and token ids) is timed as a prefill of T tokens, alternating with a chain of moec's dense GEMMs\n[T, D] × [D, D] (D the model's width) of about the same FLOPs: tokens/s, GFLOP/s (the compiler's count: weights × T plus attention's\ncausal products), dispatches per decoder layer by kind, command buffers and read-backs per forward, the GFLOP/s ratio to the GEMM,\nand the peak resident memory of the process.\nWith --decode (a model): a random prompt (B of them with --batch B) fills the KV cache to C − N − warmup positions, then N greedy decode steps (model and GPU sampler,\none command buffer and an 8·B-byte read-back each) run at positions C − N … C − 1, each alternating with a plain read kernel over at least\nthe bytes a step reads. Printed: tokens/s, host time per step (the JS that records the step, until queue.submit is called; the submit call\nis shown apart) and its share of the step, bytes read per step (active weights at the storage dtype, one embedding row, plus the KV rows read at each\nposition; with --batch B, B sequences per step: the experts counted at most B times, an upper bound), the achieved bandwidth, the read kernel's, and their ratio. Times are wall clock (decode steps carry no timestamps).\nWith --decode on a decoding graph (LANGUAGE.md §11.2; agents' random weights named i.…): a random prompt of C − N − warmup tokens, one untimed\nand one timed greedy generation of N new tokens (written and output tokens/s, each agent's positions/s), then the form's step comparison:\nconcurrent: one batched step of its threads over the shared cache against one single-sequence step, and against as many single steps as\nthreads; mean and vote: one step of the n agents in one command buffer against the same agents' steps one by one, summed, alternating step by step (medians of N).\n--kv-dtype and --batch apply to a model only.",
};

export async function runBench(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, benchSpec);
  const f = args.flags;
  if (f.decode) return runDecode(io, args.positionals, f);
  for (const name of ["context", "kv-dtype", "batch", "weight-format"]) if (f[name] !== undefined) throw new UsageError(`--${name} applies to --decode`);
  const tokens = intFlag(f.tokens, "tokens", 1, MAX_RUN_TOKENS);
  if (tokens === undefined) throw new UsageError("give the tokens per run with --tokens T");
  const dtype = (f.dtype as string | undefined) ?? "f32";
  if (dtype !== "f32" && dtype !== "f16") throw new UsageError(`--dtype takes f32 or f16, found \`${dtype}\``);
  const iterations = intFlag(f.iterations, "iterations", 1) ?? 10;
  const warmup = intFlag(f.warmup, "warmup", 0) ?? 2;
  const seed = intFlag(f.seed, "seed") ?? 1;
  const schedule = scheduleFlag(f);
  if (f.compare !== undefined) {
    if (f["last-logits"]) throw new UsageError("--last-logits times a model's prefill; it does not combine with --compare");
    if (f.entry !== undefined) throw new UsageError("give either --entry or --compare, not both");
    return runCompare(io, args.positionals[0]!, f, { tokens, dtype, iterations, warmup, seed, schedule: schedule ?? "auto" });
  }
  const input = await commandProgramInput("bench", args.positionals, io);
  if (!input) return 1;
  const program = lowerForRun(io, input.files[0]!, f, undefined, input.host);
  if (!program) return 1;
  // The inputs and outputs (a layer's fused and unfused outputs both; a model's logits unless --last-logits).
  const tooBig = f["last-logits"] ? undefined : hostRunProblem(program, tokens, program.model ? 1 : 2);
  if (tooBig) {
    io.err(`moec bench: ${tooBig}`);
    return 1;
  }
  if (program.model) return runModelBench(io, input.files[0]!, f, program, { tokens, dtype, iterations, warmup, seed, ...(schedule ? { schedule } : {}) }, input.host);
  if (f["last-logits"]) throw new UsageError(`--last-logits applies to a model; \`${program.entry}\` is a layer or graph`);
  const rt = await import("../../runtime/index.js");
  const { benchmarkProgram } = await import("../../runtime/bench/benchmark.js");
  return withGpu(io, "bench", { adapter: f.adapter as string | undefined, requireF16: dtype === "f16" }, async (gpu) => {
    const adapter = adapterName(gpu);
    io.err(`moec bench: ${program.entry} at ${tokens} tokens on ${adapter}: compiling both lowerings, ${warmup} warm-up and ${iterations} timed runs each…`);
    const weights = rt.randomWeights(program, seed);
    const r = await benchmarkProgram(gpu, program, weights, tokens, { warmup, iterations, dtype, seed, ...(schedule ? { fineSchedule: schedule } : {}) });
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

/** `--decode`: the flags checked, then the model's decode steps (bench-decode.ts). */
async function runDecode(io: CliIO, positionals: string[], f: Record<string, unknown>): Promise<number> {
  if (f.compare !== undefined) throw new UsageError("--decode times one model; it does not combine with --compare");
  if (f["last-logits"]) throw new UsageError("--decode computes only the last position's logits already; drop --last-logits");
  if (f.iterations !== undefined) throw new UsageError("with --decode, --tokens N gives the timed decode steps; --iterations applies to a prefill");
  const batch = intFlag(f.batch, "batch", 1) ?? 1;
  const dtype = (f.dtype as string | undefined) ?? "f32";
  if (dtype !== "f32" && dtype !== "f16") throw new UsageError(`--dtype takes f32 or f16, found \`${dtype}\``);
  const kvDtype = (f["kv-dtype"] as string | undefined) ?? "f32";
  if (kvDtype !== "f32" && kvDtype !== "f16") throw new UsageError(`--kv-dtype takes f32 or f16, found \`${kvDtype}\``);
  const o = {
    context: intFlag(f.context, "context", 2) ?? 128,
    steps: intFlag(f.tokens, "tokens", 1, MAX_RUN_TOKENS) ?? 16,
    // Untimed decode steps after the prompt's prefill (which draws the first token).
    warmup: intFlag(f.warmup, "warmup", 1) ?? 2,
    batch,
    seed: intFlag(f.seed, "seed") ?? 1,
    dtype: dtype as "f32" | "f16",
    kvDtype: kvDtype as "f32" | "f16",
    weightFormat: weightFormatFlag(f),
    schedule: scheduleFlag(f),
  };
  const input = await commandProgramInput("bench", positionals, io);
  if (!input) return 1;
  // A decoding graph (§11.2): its generation and its form's step comparison (bench-graph.ts).
  const lowered = lowerForGenerate(io, input.files[0]!, f, undefined, input.host);
  if (!lowered) return 1;
  if (lowered.decodingGraph && o.weightFormat) throw new UsageError("--weight-format applies to a model's decode; decoding graphs do not take it yet");
  if (lowered.decodingGraph && o.schedule) throw new UsageError("--schedule applies to a model's decode; decoding graphs do not take it yet");
  if (lowered.decodingGraph) return runGraphBench(io, f, lowered.decodingGraph, { context: o.context, steps: o.steps, warmup: o.warmup, seed: o.seed, dtype: o.dtype });
  if (!lowered.program) return 1;
  if (!lowered.program.model) throw new UsageError(`--decode applies to a model; \`${lowered.program.entry}\` is a layer or graph`);
  if (batch > 1 && lowered.program.ops.some((op) => op.op === "mla")) throw new UsageError(`--batch ${batch}: \`${lowered.program.entry}\` has MLA attention, which has no batched decode form yet; use --batch 1`);
  return runDecodeBench(io, f, lowered.program, lowered.info, o);
}

/** `--compare A,B@token,…`: each entry fused on the same inputs, timed against the first in one process. */
async function runCompare(
  io: CliIO,
  fileArg: string,
  f: Record<string, unknown>,
  o: { tokens: number; dtype: "f32" | "f16"; iterations: number; warmup: number; seed: number; schedule: Schedule },
): Promise<number> {
  const items = String(f.compare).split(",").map((x) => x.trim()).filter(Boolean);
  if (items.length < 2) throw new UsageError("--compare takes at least two entries, separated by commas (the first is the baseline)");
  const programs: { label: string; program: NonNullable<ReturnType<typeof lowerForRun>>; schedule: Schedule }[] = [];
  for (const item of items) {
    const [entry, given] = item.split("@") as [string, string | undefined];
    const schedule = given === undefined ? o.schedule : parseSchedule(given, `\`${item}\``);
    const program = lowerForRun(io, fileArg, { ...f, entry });
    if (!program) return 1;
    programs.push({ label: item, program, schedule });
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
