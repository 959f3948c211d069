// `moec export onnx MODEL.moe|DIR (--weights W | --random-weights) -o model.onnx`: one ONNX file for
// ONNX Runtime (compiler/export/onnx), weights as initializers, written atomically (a temporary
// file beside the target, renamed over it). Refusals are located diagnostics (ONNX001–ONNX005).
import * as fs from "node:fs";
import * as path from "node:path";
import { parseSets, UsageError, type parseArgs } from "../args.js";
import type { CliIO } from "../output.js";
import { checkpointNamesFor, loadCheckpointWeights } from "./model-weights.js";
import { intFlag } from "./run.js";
import { printDiagnostics } from "./print-diagnostics.js";
import { onnxExportable, onnxModelBytes } from "./onnx-model.js";
import { exportSource } from "./export-source.js";
import { lowerEntry } from "../../compiler/driver.js";
import { hasErrors } from "../../compiler/diagnostics/diagnostic.js";
import { displayPath } from "../../compiler/diagnostics/render.js";
import { isCheckpointDir } from "../../runtime/weights/checkpoint-dir.js";
import type { HostWeights } from "../../runtime/weights/host-weights.js";

export async function runExportOnnx(args: ReturnType<typeof parseArgs>, modelArg: string | undefined, io: CliIO): Promise<number> {
  const f = args.flags;
  if (modelArg === undefined) throw new UsageError("give the model: moec export onnx MODEL.moe|DIR -o model.onnx");
  if (f.output === undefined) throw new UsageError("give the output file with -o model.onnx");
  if (f.weights !== undefined && f["random-weights"]) throw new UsageError("--weights and --random-weights exclude each other");
  for (const hfOnly of ["dtype", "shard-size", "model-type"]) if (f[hfOnly] !== undefined) throw new UsageError(`--${hfOnly} is an option of \`moec export hf\`; \`export onnx\` writes f32 initializers in one .onnx file`);
  if (f.plugin !== undefined) throw new UsageError("--plugin is an option of `moec export torch`; a plugin's router stages have no ONNX Runtime operator");
  const seed = intFlag(f.seed, "seed") ?? 1;
  const out = path.resolve(io.cwd, String(f.output));
  const shown = displayPath(out, io.cwd);
  // Checked before any work, so a bad -o costs nothing.
  const outProblem = outputProblem(out, shown, Boolean(f.force), io.cwd);
  if (outProblem) {
    io.err(`moec export: ${outProblem}`);
    return 1;
  }

  const source = await exportSource(io, modelArg, f);
  if (source === 1) return 1;
  const { input, weightsPath } = source;
  const opts = { entry: f.entry as string | undefined, set: parseSets(f.set as string[] | undefined), host: input.host };
  const lowered = lowerEntry([input.file], opts);
  printDiagnostics(lowered.diagnostics, undefined, io, false);
  if (hasErrors(lowered.diagnostics) || !lowered.info) return 1;
  if (lowered.decodingGraph) {
    io.err(`moec export: \`${lowered.info.name}\` is a decoding graph, which has no single model; export each agent's model with --entry`);
    return 1;
  }
  if (!lowered.program || lowered.unsupported.length) {
    io.err(`moec export: \`${lowered.info.name}\` does not lower to IR, so it cannot be exported${lowered.unsupported.length ? `: ${lowered.unsupported.map((u) => u.message).join("; ")}` : ""}`);
    return 1;
  }
  const { program, info } = lowered;
  if (!onnxExportable(io, "export", program, info, input.file, opts)) return 1;

  let weights: HostWeights | undefined;
  const rt = await import("../../runtime/index.js");
  if (weightsPath === undefined) weights = rt.randomWeights(program, seed);
  else {
    const names = isCheckpointDir(weightsPath) ? checkpointNamesFor(io, "export", program, info, weightsPath, undefined) : [];
    if (names === undefined) return 1;
    weights = await loadCheckpointWeights(io, "export", rt, program, { weights: weightsPath, checkpointNames: names }, displayPath(weightsPath, io.cwd), false);
    if (!weights) return 1;
  }
  const bytes = onnxModelBytes(program, weights);
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    io.err(`moec export: cannot write \`${shown}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return 1;
  }
  const ins = program.inputs.map((i) => `${i.name} ${program.values[i.value]!.dtype === "i32" ? "int64 [T]" : `float [T, ${program.values[i.value]!.width}]`}`);
  const outs = program.outputs.map((o) => `${o.name} float [T, ${program.values[o.value]!.width}]`);
  io.err(`wrote ${shown} (ONNX opset 17 + com.microsoft 1, ${bytes.length} bytes; inputs ${ins.join(", ")}; outputs ${outs.join(", ")})`);
  return 0;
}

/** Why `out` cannot be the output file, if it cannot: a directory, a missing parent, or an existing file without --force. */
function outputProblem(out: string, shown: string, force: boolean, cwd: string): string | undefined {
  const parent = path.dirname(out);
  if (!fs.existsSync(parent) || !fs.statSync(parent).isDirectory()) return `cannot write \`${shown}\`: the directory ${displayPath(parent, cwd)} does not exist`;
  if (!fs.existsSync(out)) return undefined;
  if (fs.statSync(out).isDirectory()) return `\`${shown}\` is a directory; -o names the .onnx file to write`;
  return force ? undefined : `\`${shown}\` exists; pass --force to replace it`;
}
