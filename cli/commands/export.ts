// `moec export FORMAT …`: hands a model to other engines. `hf` writes a Hugging Face checkpoint
// directory (config.json, generation_config.json, safetensors shards and their index, tokenizer
// files) that transformers, vLLM and SGLang load; the family and its config come from
// compiler/hf/export, the shards from runtime/weights/write-checkpoint-dir.ts. `torch` writes a
// self-contained PyTorch package for any program moec runs (compiler/export/torch; runExportTorch
// below). `onnx` writes one ONNX file for ONNX Runtime (compiler/export/onnx; export-onnx.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import type { CommandSpec } from "../args.js";
import { parseArgs, parseSets, UsageError } from "../args.js";
import type { CliIO } from "../output.js";
import { outputDirProblem } from "../output-files.js";
import { checkpointNamesFor, loadCheckpointWeights } from "./model-weights.js";
import { intFlag } from "./run.js";
import { printDiagnostics } from "./print-diagnostics.js";
import { checkFiles, lowerEntry } from "../../compiler/driver.js";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import { displayPath } from "../../compiler/diagnostics/render.js";
import { EXPORT_MODEL_TYPES, exportHfConfig, HfExportRefusal } from "../../compiler/hf/export/export-config.js";
import { isCheckpointDir, openCheckpointDir } from "../../runtime/weights/checkpoint-dir.js";
import { openSafetensors } from "../../runtime/safetensors/reader.js";
import { SafetensorsError } from "../../runtime/safetensors/errors.js";
import { checkpointTensors } from "../../runtime/weights/checkpoint-tensors.js";
import { CheckpointWriteError, writeCheckpointDir } from "../../runtime/weights/write-checkpoint-dir.js";
import type { HostWeights } from "../../runtime/weights/host-weights.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import type { EntryInfo } from "../../compiler/driver.js";
import { cliPlugins } from "../../compiler/plugins/cli-plugins.js";
import { exportTorch, TorchExportRefusal } from "../../compiler/export/torch/export-torch.js";
import { runExportOnnx } from "./export-onnx.js";
import { exportSource } from "./export-source.js";

export const exportSpec: CommandSpec = {
  name: "export",
  summary: "write a model in another engine's format (hf: a Hugging Face checkpoint; torch: a PyTorch package; onnx: ONNX Runtime)",
  usage: [
    "moec export hf MODEL.moe|DIR [--entry NAME] [--set K=V …] (--weights FILE|DIR | --random-weights [--seed N]) -o OUT [--dtype bf16|f16|f32] [--shard-size SIZE] [--model-type TYPE] [--force]",
    "       moec export torch PROGRAM.moe [--entry NAME] [--set K=V …] [--weights FILE|DIR | --random-weights [--seed N]] -o OUT [--force]",
    "       moec export onnx MODEL.moe|DIR [--entry NAME] [--set K=V …] (--weights FILE|DIR | --random-weights [--seed N]) -o model.onnx [--force]",
  ].join("\n"),
  positionals: { name: "the format (hf, torch or onnx), then a .moe file (hf, onnx: or a Hugging Face checkpoint directory)", min: 1, max: 2 },
  flags: [
    { name: "output", short: "o", type: "string", value: "OUT", help: "the checkpoint directory (hf, torch) or .onnx file (onnx) to write (built under a temporary name, then renamed into place)" },
    { name: "entry", type: "string", value: "NAME", help: "the model to export (optional when the file has exactly one entry point)" },
    { name: "set", type: "multi", value: "NAME=VALUE", help: "override hyper-parameters of the entry, e.g. --set L=4 N=8" },
    { name: "weights", type: "string", value: "FILE|DIR", help: "the weights: a safetensors file under moec names (any §7 form) or a Hugging Face checkpoint directory (default: DIR itself when the model is a checkpoint directory)" },
    { name: "random-weights", type: "boolean", help: "export seeded N(0, 1/fan_in) weights instead of a checkpoint" },
    { name: "seed", type: "string", value: "N", help: "seed for --random-weights (default 1)" },
    { name: "dtype", type: "string", value: "bf16|f16|f32", help: "dtype of the written tensors (default: the source checkpoint's, f32 with --random-weights)" },
    { name: "shard-size", type: "string", value: "SIZE", help: "the most tensor bytes per shard, e.g. 5GB (the default, as transformers), 500MB, 2GiB or a byte count" },
    { name: "model-type", type: "string", value: "TYPE", help: `write this family only (${EXPORT_MODEL_TYPES.join(", ")}); default: the first family that expresses the program exactly` },
    { name: "force", type: "boolean", help: "replace OUT when it exists (a directory: when it is not empty)" },
    { name: "plugin", type: "multi", value: "PATH|PACKAGE", help: "torch: load a router plugin (repeatable; also from moec.config.json); its stages need a PyTorch reference" },
    { name: "help", short: "h", type: "boolean", help: "show this help" },
  ],
  details: [
    "Formats: hf (a Hugging Face checkpoint of a known family), torch (a PyTorch package for any layer or model) and",
    "onnx (one .onnx file for ONNX Runtime: opset 17 + com.microsoft, f32 initializers under moec's weight names, inputs",
    "and outputs [T, width] under the program's names, token ids int64 [T]; embed, rms/layer norm, attention as",
    "RotaryEmbedding + GroupQueryAttention, routed experts as com.microsoft.MoE with softmax top-k routing, shared",
    "experts and dense layers as Gemms; anything else refused with its location, codes ONNX001-ONNX005, docs/scale-out.md;",
    "weights of 2 GiB or more are refused: no external data is written).",
    "torch: OUT gets modeling_moec.py (MoecModel, a plain nn.Module needing only torch, and a transformers wrapper),",
    "configuration_moec.py, config.json with auto_map, and with --weights or --random-weights model.safetensors under",
    "the module's parameter names (f32). --dtype, --shard-size and --model-type are hf's only.",
    `Families: ${EXPORT_MODEL_TYPES.join(", ")}. The config is accepted only when \`moec import\` of it gives`,
    "the same computation with the same tensors; otherwise every construct that does not map is listed",
    "with its location (codes HF001-HF006, docs/huggingface.md).",
    "OUT gets config.json, generation_config.json, model-0000K-of-0000N.safetensors, model.safetensors.index.json,",
    "and the tokenizer files of the source directory (tokenizer.json, tokenizer_config.json, special_tokens_map.json, …).",
    "Exit status: 0 ok, 1 a program or checkpoint that cannot be exported, or OUT that cannot be written, 2 usage errors.",
  ].join("\n"),
};

/** Files of a checkpoint directory that travel with its weights (tokenizer, generation settings, chat template). */
export const COPIED_FILES = [
  "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "tokenizer.model",
  "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja", "chat_template.json",
];

const DTYPES: Record<string, "F32" | "F16" | "BF16"> = { f32: "F32", float32: "F32", f16: "F16", float16: "F16", bf16: "BF16", bfloat16: "BF16" };
const TORCH_DTYPE = { F32: "float32", F16: "float16", BF16: "bfloat16" } as const;
const UNITS: Record<string, number> = { "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** `5GB`, `500MB`, `2GiB`, `1000`: bytes (decimal units as transformers' max_shard_size reads them). */
export function parseShardSize(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new UsageError(`--shard-size takes a size such as 5GB, 500MB, 2GiB or a byte count, found \`${raw}\``);
  return bytes;
}

/** The float dtype most of a checkpoint's tensors have (undefined when it cannot be read; the loader reports why). */
function sourceDtype(weights: string): "F32" | "F16" | "BF16" | undefined {
  let dtypes: string[];
  try {
    if (isCheckpointDir(weights)) {
      const d = openCheckpointDir(weights);
      if (!d.ok) return undefined;
      dtypes = [...d.dir.tensors.values()].map((t) => t.dtype);
    } else dtypes = [...openSafetensors(weights).tensors.values()].map((t) => t.dtype);
  } catch (e) {
    if (e instanceof SafetensorsError) return undefined;
    throw e;
  }
  const counts = new Map<string, number>();
  for (const d of dtypes) if (d === "F32" || d === "F16" || d === "BF16") counts.set(d, (counts.get(d) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] as "F32" | "F16" | "BF16" | undefined;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, "utf8"));
    return v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The export's weights, each tensor read from its source only when it is written, never the whole
 * model at once: random weights drawn per tensor, a safetensors file bound from its header and
 * read on demand, a checkpoint directory streamed as `moec run` uploads it (a .gguf is read whole).
 * Undefined when they do not fit (the problems are reported).
 */
async function streamedWeights(io: CliIO, program: IrProgram, info: EntryInfo, weightsPath: string | undefined, seed: number): Promise<HostWeights | undefined> {
  const rt = await import("../../runtime/index.js");
  if (weightsPath === undefined) return new rt.RandomWeights(program, seed);
  if (!isCheckpointDir(weightsPath) && !weightsPath.toLowerCase().endsWith(".gguf")) {
    const r = rt.streamWeights(program, weightsPath);
    if (r.ok) return r.weights;
    io.err(`moec export: the weights do not fit \`${program.entry}\`:\n${r.errors.map((x) => "  - " + x.message).join("\n")}`);
    return undefined;
  }
  const names = isCheckpointDir(weightsPath) ? checkpointNamesFor(io, "export", program, info, weightsPath, undefined) : [];
  if (names === undefined) return undefined;
  return loadCheckpointWeights(io, "export", rt, program, { weights: weightsPath, checkpointNames: names }, displayPath(weightsPath, io.cwd), false);
}

export async function runExport(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, exportSpec);
  const [format, modelArg] = args.positionals as [string, string | undefined];
  if (format === "onnx") return runExportOnnx(args, modelArg, io);
  if (format === "torch") return runExportTorch(args, modelArg, io);
  if (format !== "hf") throw new UsageError(`unknown format \`${format}\`; known: hf, torch, onnx`);
  if (modelArg === undefined) throw new UsageError("give the model: moec export hf MODEL.moe|DIR -o OUT");
  const f = args.flags;
  if (f.output === undefined) throw new UsageError("give the output directory with -o OUT");
  if (f.weights !== undefined && f["random-weights"]) throw new UsageError("--weights and --random-weights exclude each other");
  if (outputDirFails(io, f)) return 1;
  const dtypeFlag = f.dtype === undefined ? undefined : DTYPES[String(f.dtype).toLowerCase()];
  if (f.dtype !== undefined && !dtypeFlag) throw new UsageError(`--dtype takes bf16, f16 or f32, found \`${String(f.dtype)}\``);
  const shardBytes = f["shard-size"] === undefined ? 5e9 : parseShardSize(String(f["shard-size"]));
  const seed = intFlag(f.seed, "seed") ?? 1;

  const source = await exportSource(io, modelArg, f);
  if (source === 1) return 1;
  const { input, sourceDir, weightsPath } = source;

  const opts = { entry: f.entry as string | undefined, set: parseSets(f.set as string[] | undefined), host: input.host };
  const lowered = lowerEntry([input.file], opts);
  printDiagnostics(lowered.diagnostics, undefined, io, false);
  if (hasErrors(lowered.diagnostics) || !lowered.program || !lowered.info) return 1;
  const { program, info } = lowered;
  // The text files of a checkpoint directory: the weights' directory, else the model's.
  const textDir = weightsPath !== undefined && isCheckpointDir(weightsPath) ? weightsPath : sourceDir;
  const sourceConfig = textDir ? readJson(path.join(textDir, "config.json")) : undefined;

  const compilation = checkFiles([input.file], opts);
  let exported;
  try {
    exported = await exportHfConfig(program, info, compilation, { modelType: f["model-type"] as string | undefined, sourceConfig });
  } catch (e) {
    if (!(e instanceof HfExportRefusal)) throw e;
    printDiagnostics(e.problems, compilation, io, false);
    io.err(`moec export: \`${info.name}\` cannot be written as a Hugging Face checkpoint: ${e.problems.length} construct${e.problems.length === 1 ? " does" : "s do"} not map (listed above)`);
    return 1;
  }

  const weights = await streamedWeights(io, program, info, weightsPath, seed);
  if (!weights) return 1;
  const dtype = dtypeFlag ?? (weightsPath !== undefined ? sourceDtype(weightsPath) : undefined) ?? "F32";

  const files: Record<string, string | Uint8Array> = {};
  const copied: string[] = [];
  for (const name of COPIED_FILES) {
    if (textDir === undefined) break;
    const src = path.join(textDir, name);
    if (fs.existsSync(src) && fs.statSync(src).isFile()) {
      files[name] = fs.readFileSync(src);
      copied.push(name);
    }
  }
  const config = Object.fromEntries(Object.entries({ ...exported.config, torch_dtype: TORCH_DTYPE[dtype] }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  files["config.json"] = JSON.stringify(config, null, 2) + "\n";
  if (!files["generation_config.json"]) {
    const ids = Object.fromEntries(["bos_token_id", "eos_token_id", "pad_token_id"].filter((k) => sourceConfig?.[k] !== undefined).map((k) => [k, sourceConfig![k]]));
    files["generation_config.json"] = JSON.stringify({ _from_model_config: true, ...ids }, null, 2) + "\n";
  }

  const out = path.resolve(io.cwd, String(f.output));
  const shown = displayPath(out, io.cwd);
  let written;
  try {
    written = writeCheckpointDir(out, checkpointTensors(program, weights, exported.names), { dtype, shardBytes, files, force: Boolean(f.force) }, shown);
  } catch (e) {
    if (!(e instanceof CheckpointWriteError)) throw e;
    io.err(`moec export: ${e.message}`);
    return 1;
  }
  io.err(`wrote ${shown} (model_type ${exported.modelType}, ${exported.names.tensors.length} tensors ${dtype} in ${written.shards.length} shard${written.shards.length === 1 ? "" : "s"}, ${written.totalBytes} bytes${copied.length ? `; copied ${copied.join(", ")}` : ""})`);
  return 0;
}

/** Checks -o before any work (so a bad one costs nothing); true when it was refused, said on stderr. */
function outputDirFails(io: CliIO, f: Record<string, unknown>): boolean {
  const problem = outputDirProblem(path.resolve(io.cwd, String(f.output)), "-o", io.cwd, Boolean(f.force));
  if (problem) io.err(`moec export: ${problem}`);
  return problem !== undefined;
}

/** `moec export torch PROGRAM.moe -o OUT`: the PyTorch package, written atomically. */
async function runExportTorch(args: ReturnType<typeof parseArgs>, modelArg: string | undefined, io: CliIO): Promise<number> {
  const f = args.flags;
  if (modelArg === undefined) throw new UsageError("give the program: moec export torch PROGRAM.moe -o OUT");
  if (f.output === undefined) throw new UsageError("give the output directory with -o OUT");
  if (f.weights !== undefined && f["random-weights"]) throw new UsageError("--weights and --random-weights exclude each other");
  for (const hfOnly of ["dtype", "shard-size", "model-type"]) if (f[hfOnly] !== undefined) throw new UsageError(`--${hfOnly} is an option of \`moec export hf\`; \`export torch\` writes f32 weights in one model.safetensors`);
  if (outputDirFails(io, f)) return 1;
  const seed = intFlag(f.seed, "seed") ?? 1;
  const file = path.resolve(io.cwd, modelArg);
  const pl = await cliPlugins(io.cwd, f.plugin);
  printDiagnostics(pl.diagnostics, undefined, io, false);
  if (hasErrors(pl.diagnostics)) return 1;
  const opts = { entry: f.entry as string | undefined, set: parseSets(f.set as string[] | undefined), registry: pl.registry };
  const lowered = lowerEntry([file], opts);
  printDiagnostics(lowered.diagnostics, undefined, io, false);
  if (hasErrors(lowered.diagnostics)) return 1;
  if (lowered.decodingGraph) {
    io.err(`moec export: \`${lowered.info?.name}\` is a decoding graph, which has no module of its own; export each agent's model with --entry`);
    return 1;
  }
  if (!lowered.program || lowered.unsupported.length) {
    io.err(`moec export: \`${lowered.info?.name ?? modelArg}\` does not lower to IR, so it cannot be exported${lowered.unsupported.length ? `: ${lowered.unsupported.map((u) => u.message).join("; ")}` : ""}`);
    return 1;
  }
  const program = lowered.program;
  let pkg;
  try {
    pkg = exportTorch(program, displayPath(file, io.cwd));
  } catch (e) {
    if (!(e instanceof TorchExportRefusal)) throw e;
    for (const p of e.problems) io.err(`moec export: ${p}`);
    io.err(`moec export: \`${program.entry}\` cannot be written as a PyTorch package (${e.problems.length} problem${e.problems.length === 1 ? "" : "s"} above)`);
    return 1;
  }
  let weights: HostWeights | undefined;
  if (f["random-weights"] || f.weights !== undefined) {
    weights = await streamedWeights(io, program, lowered.info!, f.weights === undefined ? undefined : path.resolve(io.cwd, String(f.weights)), seed);
    if (!weights) return 1;
  }
  const w = weights;
  const tensors = w ? pkg.tensors.filter((t) => w.has(t.name)).map((t) => ({ name: t.name, shape: t.shape, values: () => w.get(t.name)! })) : [];
  const out = path.resolve(io.cwd, String(f.output));
  const shown = displayPath(out, io.cwd);
  try {
    writeCheckpointDir(out, tensors, { dtype: "F32", shardBytes: Infinity, files: pkg.files, force: Boolean(f.force), singleFile: true }, shown);
  } catch (e) {
    if (!(e instanceof CheckpointWriteError)) throw e;
    io.err(`moec export: ${e.message}`);
    return 1;
  }
  io.err(`wrote ${shown} (PyTorch package of \`${program.entry}\`${w ? `, ${tensors.length} tensors f32 in model.safetensors` : ", no weights"})`);
  return 0;
}
