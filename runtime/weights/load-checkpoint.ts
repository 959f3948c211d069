// A checkpoint directory → streamed canonical weights: open every shard's header, translate the
// names (moec's own, or a Hugging Face map the caller computed), plan the binding from headers
// alone. Nothing but headers is read until the device upload asks for a tensor.

import type { IrProgram } from "../../compiler/ir/ir.js";
import { SafetensorsError } from "../safetensors/errors.js";
import { openSafetensors, type LazySafetensorsFile } from "../safetensors/reader.js";
import type { BindError } from "./bind-messages.js";
import { openCheckpointDir, type CheckpointDir } from "./checkpoint-dir.js";
import { dequantizedCheckpoint } from "./quantized-checkpoint.js";
import { bindOpenedCheckpoint, configProblems, type CheckpointBindOptions, type CheckpointLoad } from "./bind-checkpoint.js";

export { configProblems, type CheckpointLoad } from "./bind-checkpoint.js";

export interface CheckpointLoadOptions extends CheckpointBindOptions {
  /** A separate state file (e_bias, BatchNorm statistics), under moec names. */
  state?: string;
}

export function loadCheckpointDir(program: IrProgram, dirPath: string, opts: CheckpointLoadOptions = {}): CheckpointLoad {
  const opened = openCheckpointDir(dirPath);
  if (!opened.ok) return opened;
  const { dir } = opened;
  const bad = configProblems(dir.config, dir.label);
  if (bad.length) return { ok: false, errors: bad };
  // GPTQ, AWQ and FP8 weights become F32 views dequantized as they are read.
  const view = dequantizedCheckpoint(dir);
  if (!view.ok) return view;
  return bindCheckpoint(program, view.dir, opts);
}

/** An opened checkpoint (a directory, or a GGUF file read as HF names) → streamed canonical weights. */
export function bindCheckpoint(program: IrProgram, dir: CheckpointDir, opts: CheckpointLoadOptions = {}): CheckpointLoad {
  let state: LazySafetensorsFile | undefined;
  if (opts.state !== undefined) {
    try {
      state = openSafetensors(opts.state);
    } catch (e) {
      if (!(e instanceof SafetensorsError)) throw e;
      return { ok: false, errors: [{ tensor: e.tensor ?? "", message: e.message }] };
    }
  }
  return bindOpenedCheckpoint(program, dir, { ...opts, state });
}
