// `moec run`: compile the entry, bind weights, run it on the GPU (or with `--backend onnxruntime`
// through ONNX Runtime, onnx-backend.ts), write the outputs (§8).
import { hostRunProblem } from "../host-fit.js";
import * as path from "node:path";
import type { CommandSpec } from "../args.js";
import { parseArgs, UsageError } from "../args.js";
import { statusLine, type CliIO } from "../output.js";
import { lowerForGenerate, withGpu, adapterName } from "./gpu-commands.js";
import { runRunGraph } from "./run-graph.js";
import { parseWeightsAs } from "./weights-as.js";
import { checkpointNamesFor, hasCheckpointWeights, loadCheckpointWeights, loadProgress } from "./model-weights.js";
import { isCheckpointDir } from "../../runtime/weights/checkpoint-dir.js";
import { isGgufPath } from "../../runtime/weights/gguf/load-gguf.js";
import type { HostWeights } from "../../runtime/weights/host-weights.js";
import { displayPath } from "../../compiler/diagnostics/render.js";
import * as fs from "node:fs";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import { printDiagnostics } from "./print-diagnostics.js";
import { CheckpointInputError, programInput, type ProgramInput } from "../checkpoint-input.js";
import { cliPlugins } from "../../compiler/plugins/cli-plugins.js";
import { formatStatsJson, statsFile, type RouterStats } from "../../runtime/stats/router-stats.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import { parseSets } from "../args.js";
import { onnxExportable } from "./onnx-model.js";
import { backendFlag, runOnOnnxRuntime } from "./onnx-backend.js";
import { writeOrPrintOutputs } from "./run-outputs.js";
import { OutputWriteError, outputPathProblem, StagedOutputs } from "../output-files.js";
import { WEIGHT_FORMAT_FLAG, weightFormatFlag } from "./weight-format.js";
import { SCHEDULE_FLAG, scheduleFlag } from "./schedule-flag.js";

export const runSpec: CommandSpec = {
  name: "run",
  summary: "run a layer, model or graph on the GPU",
  usage: "moec run FILE|DIR [--entry NAME] (--weights W.safetensors|DIR|W.gguf [--weights-as hf[:FAMILY]] | --random-weights [--seed N]) (--input X.safetensors | --input-ids 1,2,3 | --tokens T) [--output Y.safetensors] [options]",
  positionals: { name: "a .moe file, or a Hugging Face checkpoint directory or config.json (imported on the fly as `moec import` would)", min: 1, max: 1 },
  flags: [
    { name: "entry", type: "string", value: "NAME", help: "the layer/graph to run (optional when the file has exactly one entry point)" },
    { name: "weights", type: "string", value: "FILE|DIR", help: "safetensors checkpoint (f32, f16 or bf16; any weight form of LANGUAGE.md §7), a checkpoint directory (model.safetensors or model.safetensors.index.json and its shards, streamed; LANGUAGE.md §13.3), or a .gguf file (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K tensors, dequantized to f32 as they are uploaded; docs/quantization.md)" },
    { name: "weights-as", type: "string", value: "hf[:FAMILY]", help: "read the checkpoint directory (or the .gguf file, its names translated) under Hugging Face names of FAMILY (mixtral, olmoe, qwen2_moe, qwen3_moe, deepseek, llama, mistral, qwen2, qwen3); without it moec's and each family's names are tried and the best match is used" },
    { name: "device-memory", type: "string", value: "BYTES", help: "device memory the model may use; a model that needs more is refused before any upload (default: the host's memory on a CPU adapter, else unchecked)" },
    { name: "state", type: "string", value: "FILE", help: "router state (e_bias, BatchNorm statistics, plugin state); default: the weights file, else its init" },
    { name: "random-weights", type: "boolean", help: "run without a checkpoint, with seeded N(0, 1/fan_in) weights" },
    { name: "seed", type: "string", value: "N", help: "seed for --random-weights and random inputs (default 1)" },
    { name: "input", type: "string", value: "FILE", help: "inputs by parameter name (`x` [T, D] as f32/f16/bf16; token ids as I32/I64)" },
    { name: "input-ids", type: "string", value: "ID,ID,…", help: "a model's token ids, inline (instead of --input)" },
    { name: "tokens", type: "string", value: "T", help: "without --input: run on T tokens (at most 1,048,576) of seeded N(0, 1) inputs (token ids: uniform over the vocabulary)" },
    { name: "output", short: "o", type: "string", value: "FILE", help: "write outputs as f32 safetensors (`y`, or a record's keys)" },
    { name: "dtype", type: "string", value: "f32|f16", help: "storage precision on the GPU (f16 needs shader-f16; accumulation is f32)" },
    WEIGHT_FORMAT_FLAG,
    SCHEDULE_FLAG,
    { name: "set", type: "multi", value: "NAME=VALUE", help: "override hyper-parameters of the entry, e.g. --set D=64 I=96" },
    { name: "adapter", type: "string", value: "NAME", help: "pick the WebGPU adapter whose name contains NAME (or MOEC_ADAPTER)" },
    { name: "plugin", type: "multi", value: "PATH|PACKAGE", help: "load a router plugin (repeatable; also from moec.config.json)" },
    { name: "stats", type: "string", value: "FILE", help: "write routing statistics (LANGUAGE.md §10) per router as JSON" },
    { name: "state-out", type: "string", value: "FILE", help: "write the router state after the run (e.g. updated e_bias) as safetensors" },
    { name: "save-weights", type: "string", value: "FILE", help: "with --random-weights: also write the drawn weights as safetensors (for --weights FILE later)" },
    { name: "save-input", type: "string", value: "FILE", help: "also write the run's inputs as safetensors (for --input FILE later)" },
    { name: "allow-nonfinite", type: "boolean", help: "run on inputs with NaN or Inf values (refused otherwise) and do not warn of such weights" },
    { name: "last-logits", type: "boolean", help: "a model: compute the logits of the last position only, written as `logits` [1, V]" },
    { name: "backend", type: "string", value: "webgpu|onnxruntime", help: "webgpu (the default): moec's kernels on a WebGPU adapter; onnxruntime: the model exported as by `moec export onnx` and run by ONNX Runtime's CPU kernels (needs the optional onnxruntime-node package; no --stats, --state-out, --update-state, --dtype f16, --adapter or --device-memory)" },
    { name: "update-state", type: "boolean", help: "a model: update router state (the aux-free bias, …) after the forward; by default a model's state is read-only (LANGUAGE.md §13.0)" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: [
    "A decoding graph (LANGUAGE.md §11.2) whose form has per-position logits runs each agent's full forward over the ids and",
    "writes `logits` [T, V]: `mean` gives log(mean_i softmax(l_i)), `cascade` A's logits where A's top probability is ≥ θ, else B's.",
    "Its --weights is one safetensors file with agent I's tensors named `I.…`; --random-weights names them so when drawing.",
  ].join("\n"),
};

export function intFlag(v: unknown, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} takes an integer ≥ ${min}, found \`${String(v)}\``);
  if (n > max) throw new UsageError(`--${name} takes at most ${max.toLocaleString("en-US")}, found \`${String(v)}\``);
  return n;
}

/** Random inputs of more tokens than this are refused before anything is drawn (2^20: a million-token forward). */
export const MAX_RUN_TOKENS = 2 ** 20;

export async function runRun(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, runSpec);
  const f = args.flags;
  let input: ProgramInput;
  try {
    input = await programInput(args.positionals[0]!, io.cwd);
  } catch (e) {
    if (!(e instanceof CheckpointInputError)) throw e;
    io.err(`moec run: ${e.message}`);
    return 1;
  }
  const file = input.file;
  // `moec run DIR`: the directory is the program and, unless told otherwise, the weights too.
  if (input.imported && f.weights === undefined && !f["random-weights"] && hasCheckpointWeights(path.dirname(input.imported.configFile))) {
    f.weights = path.dirname(input.imported.configFile);
  }
  const dtype = (f.dtype as string | undefined) ?? "f32";
  if (dtype !== "f32" && dtype !== "f16") throw new UsageError(`--dtype takes f32 or f16, found \`${dtype}\``);
  if (f.weights === undefined && !f["random-weights"]) {
    throw new UsageError(input.imported
      ? `${displayPath(input.imported.configFile, io.cwd)} has no model.safetensors or model.safetensors.index.json beside it; give the weights with --weights FILE|DIR, or run with --random-weights`
      : "give a checkpoint with --weights FILE, or run with --random-weights");
  }
  if (f.weights !== undefined && f["random-weights"]) throw new UsageError("--weights and --random-weights exclude each other");
  const given = ["input", "input-ids", "tokens"].filter((n) => f[n] !== undefined);
  if (given.length === 0) throw new UsageError("give inputs with --input FILE (or --input-ids 1,2,3 for a model), or --tokens T for random inputs");
  if (given.length > 1) throw new UsageError(`--${given[0]} and --${given[1]} exclude each other (each fixes the inputs and T)`);
  const backend = backendFlag(f, "run");
  const weightFormat = weightFormatFlag(f);
  if (weightFormat && backend === "onnxruntime") throw new UsageError("--weight-format applies to the WebGPU backend; drop --backend onnxruntime");
  const schedule = scheduleFlag(f);
  if (schedule && backend === "onnxruntime") throw new UsageError("--schedule applies to the WebGPU backend; drop --backend onnxruntime");
  // Every output path is checked before any work, so a bad one costs nothing.
  if (f["save-weights"] !== undefined && !f["random-weights"]) throw new UsageError("--save-weights writes drawn weights; use it with --random-weights");
  if (backend === "onnxruntime" && (f["save-weights"] !== undefined || f["save-input"] !== undefined)) throw new UsageError("--save-weights and --save-input are written by the WebGPU backend's run; drop --backend onnxruntime");
  const outputFlags = (["output", "stats", "state-out", "save-weights", "save-input"] as const).filter((n) => f[n] !== undefined);
  const outputPaths = outputFlags.map((n) => path.resolve(io.cwd, f[n] as string));
  for (let i = 0; i < outputFlags.length; i++) {
    const problem = outputPathProblem(outputPaths[i]!, `--${outputFlags[i]}`, io.cwd);
    if (problem) {
      io.err(`moec run: ${problem}`);
      return 1;
    }
    const twice = outputPaths.indexOf(outputPaths[i]!);
    if (twice !== i) throw new UsageError(`--${outputFlags[twice]} and --${outputFlags[i]} name the same file, ${displayPath(outputPaths[i]!, io.cwd)}`);
  }
  const seed = intFlag(f.seed, "seed") ?? 1;
  const tokens = intFlag(f.tokens, "tokens", 1, MAX_RUN_TOKENS);
  const deviceMemory = intFlag(f["device-memory"], "device-memory", 1);
  const weightsAs = parseWeightsAs(f["weights-as"]);
  const weightsPath = f.weights !== undefined ? path.resolve(io.cwd, f.weights as string) : undefined;
  const weightsDir = weightsPath !== undefined && isCheckpointDir(weightsPath);
  // A GGUF file's tensors are read under Hugging Face names, so it takes the same name maps.
  const namedWeights = weightsDir || (weightsPath !== undefined && isGgufPath(weightsPath));
  if (weightsAs && !namedWeights) throw new UsageError("--weights-as reads a checkpoint directory or a .gguf file; give one with --weights DIR|FILE.gguf");

  const pl = await cliPlugins(io.cwd, f.plugin);
  printDiagnostics(pl.diagnostics, undefined, io, false);
  if (hasErrors(pl.diagnostics)) return 1;
  statusLine(io, input.imported ? `moec run: importing ${displayPath(input.imported.configFile, io.cwd)} (${input.imported.modelType})…` : `moec run: compiling ${displayPath(file, io.cwd)}…`);
  const lowered = lowerForGenerate(io, file, f, pl.registry, input.host);
  if (!lowered) return 1;
  // A decoding graph (§11.2): its form's per-position logits from its agents' forwards.
  if (lowered.decodingGraph && weightFormat) throw new UsageError("--weight-format is not supported for decoding graphs yet; run a model or layer with it");
  if (lowered.decodingGraph && schedule) throw new UsageError("--schedule is not supported for decoding graphs yet; run a model or layer with it");
  if (lowered.decodingGraph) return runRunGraph(io, f, lowered.decodingGraph, { seed, tokens, dtype });
  if (!lowered.program) return 1;
  const { program, info } = lowered;
  if (backend === "onnxruntime" && !onnxExportable(io, "run", program, info, file, { entry: f.entry as string | undefined, set: parseSets(f.set as string[] | undefined), registry: pl.registry, host: input.host })) return 1;
  const rt = await import("../../runtime/index.js");

  if (tokens !== undefined && f.input === undefined) {
    const tooBig = hostRunProblem(program, tokens);
    if (tooBig) {
      io.err(`moec run: ${tooBig}`);
      return 1;
    }
  }
  let inputs;
  try {
    inputs = f.input !== undefined
      ? rt.readInputs(program, path.resolve(io.cwd, f.input as string))
      : f["input-ids"] !== undefined ? rt.idInputs(program, f["input-ids"] as string) : rt.randomInputs(program, tokens!, seed);
  } catch (e) {
    if (e instanceof rt.RunInputError) {
      io.err(`moec run: ${e.message}`);
      return 1;
    }
    throw e;
  }
  for (const name of inputs.ignored) io.err(`moec run: warning: the input file's tensor \`${name}\` is not an input of \`${program.entry}\`; ignored`);
  const allowNonFinite = f["allow-nonfinite"] === true;
  if (!allowNonFinite) {
    // An input's NaN or Inf is refused: it would flow through routing (a NaN score is never chosen) into a plausible-looking output.
    const bad = nonFiniteReport(rt, program, inputs.values);
    if (bad.length) {
      io.err(`moec run: ${bad.map((b) => `input ${b}`).join("; ")}${f.input !== undefined ? ` in ${displayPath(path.resolve(io.cwd, f.input as string), io.cwd)}` : ""}; give --allow-nonfinite to run on them anyway`);
      return 1;
    }
  }

  const checkpointNames = namedWeights ? checkpointNamesFor(io, "run", program, info, weightsPath!, weightsAs) : [];
  if (checkpointNames === undefined) return 1;

  let weights: HostWeights;
  let nonFiniteWeights: InstanceType<typeof rt.NonFiniteWeightsCheck> | undefined;
  let drawnWeights: Map<string, Float32Array> | undefined;
  const progress = loadProgress(io, "run");
  try {
    if (weightsPath === undefined) {
      statusLine(io, `moec run: drawing random weights (seed ${seed})…`);
      const drawn = rt.randomWeights(program, seed);
      // --state with random weights: the state file's tensors replace the drawn state (LANGUAGE.md §7).
      if (f.state !== undefined) {
        const problem = applyStateFile(rt, program, drawn, path.resolve(io.cwd, f.state as string));
        if (problem) {
          io.err(`moec run: ${problem}`);
          return 1;
        }
      }
      weights = drawn;
      drawnWeights = drawn;
    } else {
      const loaded = await loadCheckpointWeights(io, "run", rt, program, {
        weights: weightsPath, state: f.state !== undefined ? path.resolve(io.cwd, f.state as string) : undefined,
        checkpointNames, forceCheckpointNames: weightsAs !== undefined, onProgress: progress.update,
      }, f.weights as string);
      if (!loaded) return 1;
      // Checked as the upload reads them (no second read of the checkpoint); reported after it.
      weights = allowNonFinite ? loaded : (nonFiniteWeights = new rt.NonFiniteWeightsCheck(loaded));
    }
  } catch (e) {
    if (e instanceof rt.WeightsError) {
      io.err(`moec run: the weights do not fit \`${program.entry}\`:\n${e.errors.map((x) => "  - " + x.message).join("\n")}`);
      return 1;
    }
    throw e;
  }

  if (backend === "onnxruntime") return runOnOnnxRuntime(io, program, weights, inputs, f);
  return withGpu(io, "run", { adapter: f.adapter as string | undefined, requireF16: dtype === "f16" }, async (gpu) => {
    statusLine(io, `moec run: uploading weights and compiling kernels on ${adapterName(gpu)}…`);
    progress.start();
    const exec = await rt.createExecutor(gpu, program, weights, {
      dtype, stats: f.stats !== undefined, ...(f["update-state"] ? { updateState: true } : {}), ...(deviceMemory !== undefined ? { deviceMemoryBytes: deviceMemory } : {}),
      lastLogits: f["last-logits"] === true, ...(weightFormat ? { weightFormat } : {}), ...(schedule ? { fineSchedule: schedule } : {}),
    });
    progress.finish();
    for (const [name, n] of nonFiniteWeights?.found ?? []) io.err(`moec run: warning: weight ${rt.describeNonFinite(name, n)}`);
    const t0 = performance.now();
    const out = await exec.run(inputs.values, inputs.tokens);
    const ms = performance.now() - t0;
    const info = exec.lastRunInfo;
    // NaN or Inf in an output is said, whatever --allow-nonfinite says about the inputs.
    for (const b of nonFiniteReport(rt, program, out)) io.err(`moec run: warning: output ${b}`);
    statusLine(io, `moec run: ${inputs.tokens} token${inputs.tokens === 1 ? "" : "s"} in ${ms.toFixed(1)} ms (${info?.dispatches ?? "?"} dispatches, ${info?.commandBuffers ?? "?"} command buffer, ${info?.readbacks ?? "?"} read-back)`);
    // The outputs are staged and renamed into place together: a failure writing one leaves none.
    const staged = new StagedOutputs(io.cwd);
    const said: string[] = [];
    try {
      const wrote = writeOrPrintOutputs(io, rt, program, out, inputs.tokens, f, staged);
      if (wrote) said.push(wrote);
      if (f.stats !== undefined) said.push(writeStats(staged, io, path.resolve(io.cwd, f.stats as string), program.entry, inputs.tokens, exec.lastStats));
      if (f["state-out"] !== undefined) {
        const stateFile = path.resolve(io.cwd, f["state-out"] as string);
        const state = await exec.readState();
        staged.write(stateFile, (temp) => rt.writeSafetensors(temp, Object.fromEntries([...state].map(([k, v]) => [k, { dtype: "F32" as const, shape: [v.length], data: v }])), { producer: "moec", entry: program.entry }));
        said.push(state.size ? `moec run: wrote router state (${[...state.keys()].join(", ")}) to ${displayPath(stateFile, io.cwd)}` : `moec run: warning: \`${program.entry}\` has no router state; wrote an empty ${displayPath(stateFile, io.cwd)}`);
      }
      if (f["save-weights"] !== undefined) {
        const file = path.resolve(io.cwd, f["save-weights"] as string);
        staged.write(file, (temp) => rt.writeSafetensors(temp, rt.canonicalToFile(program, drawnWeights!, "per-member"), { producer: "moec", entry: program.entry, seed: String(seed) }));
        said.push(`moec run: wrote the drawn weights (seed ${seed}) to ${displayPath(file, io.cwd)}`);
      }
      if (f["save-input"] !== undefined) {
        const file = path.resolve(io.cwd, f["save-input"] as string);
        staged.write(file, (temp) => rt.writeInputs(program, inputs.values, inputs.tokens, temp));
        said.push(`moec run: wrote the inputs (${[...inputs.values.keys()].join(", ")}, ${inputs.tokens} tokens) to ${displayPath(file, io.cwd)}`);
      }
      staged.commit();
    } catch (e) {
      staged.discard();
      if (!(e instanceof OutputWriteError)) throw e;
      io.err(`moec run: ${e.message}`);
      return 1;
    } finally {
      exec.dispose();
    }
    for (const line of said) io.err(line);
    return 0;
  });
}

/** "`name` has N non-finite values (…)" for each float tensor of `values` (program inputs or outputs) that has some. */
function nonFiniteReport(rt: typeof import("../../runtime/index.js"), program: IrProgram, values: Map<string, Float32Array | Int32Array>): string[] {
  const widths = new Map([...program.inputs, ...program.outputs].map((x) => [x.name, program.values[x.value]!.width]));
  const found: string[] = [];
  for (const [name, v] of values) {
    if (!(v instanceof Float32Array)) continue;
    const n = rt.countNonFinite(v);
    if (n) found.push(rt.describeNonFinite(name, n, widths.get(name)));
  }
  return found;
}

function applyStateFile(rt: typeof import("../../runtime/index.js"), program: IrProgram, weights: Map<string, Float32Array>, file: string): string | undefined {
  let st;
  try {
    st = rt.readSafetensors(file);
  } catch (e) {
    return (e as Error).message;
  }
  const state = new Map(program.weights.filter((w) => w.role === "state").map((w) => [w.name, w]));
  for (const name of st.tensors.keys()) {
    const spec = state.get(name);
    if (!spec) return `${file}: \`${name}\` is not router state of \`${program.entry}\`${state.size ? ` (its state: ${[...state.keys()].join(", ")})` : " (it has none)"}`;
    const data = st.getF32(name);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) return `${file}: state \`${name}\` has ${data.length} values, expected [${spec.shape.join(", ")}]`;
    weights.set(name, data);
  }
  return undefined;
}

/** Stages the statistics file; returns the summary to print once the outputs are in place. */
function writeStats(staged: StagedOutputs, io: CliIO, file: string, entry: string, tokens: number, stats: Map<string, RouterStats> | undefined): string {
  const data = statsFile(entry, tokens, stats ?? new Map());
  staged.write(file, (temp) => fs.writeFileSync(temp, formatStatsJson(data)));
  const lines = Object.entries(data.routers).map(([k, s]) => `  ${k}: maxvio ${s.maxvio.toFixed(3)}, entropy ${s.entropy.toFixed(3)}, active_k ${s.active_k.mean.toFixed(2)}, drop_rate ${(100 * s.drop_rate).toFixed(1)}%${s.balance !== undefined ? `, loss balance ${s.balance.toPrecision(4)}` : ""}`);
  return `moec run: routing statistics of ${lines.length} router${lines.length === 1 ? "" : "s"} written to ${displayPath(file, io.cwd)}${lines.length ? "\n" + lines.join("\n") : ""}`;
}
