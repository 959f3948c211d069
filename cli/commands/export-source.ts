// What `moec export hf` and `moec export onnx` read: the program (a .moe file, or a checkpoint
// directory / config.json imported in memory) and where its weights come from (`--weights`, else
// the checkpoint directory the program was imported from, else `--random-weights`).
import * as path from "node:path";
import { UsageError } from "../args.js";
import { CheckpointInputError, programInput, type ProgramInput } from "../checkpoint-input.js";
import type { CliIO } from "../output.js";
import { hasCheckpointWeights } from "./model-weights.js";

export interface ExportSource {
  input: ProgramInput;
  /** The directory the program was imported from, when it was. */
  sourceDir: string | undefined;
  /** The weights to export (absolute), or undefined for random weights. */
  weightsPath: string | undefined;
}

/** The export's program and weights, or 1 after printing why the program cannot be read. */
export async function exportSource(io: CliIO, modelArg: string, f: Record<string, unknown>): Promise<ExportSource | 1> {
  let input: ProgramInput;
  try {
    input = await programInput(modelArg, io.cwd);
  } catch (e) {
    if (!(e instanceof CheckpointInputError)) throw e;
    io.err(`moec export: ${e.message}`);
    return 1;
  }
  const sourceDir = input.imported ? path.dirname(input.imported.configFile) : undefined;
  let weightsPath = f.weights !== undefined ? path.resolve(io.cwd, String(f.weights)) : undefined;
  if (weightsPath === undefined && !f["random-weights"]) {
    if (sourceDir === undefined || !hasCheckpointWeights(sourceDir)) throw new UsageError("give the weights with --weights FILE|DIR, or export --random-weights");
    weightsPath = sourceDir;
  }
  return { input, sourceDir, weightsPath };
}
