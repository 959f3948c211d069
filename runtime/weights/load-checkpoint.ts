// A checkpoint directory → streamed canonical weights: open every shard's header, translate the
// names (moec's own, or a Hugging Face map the caller computed), plan the binding from headers
// alone. Nothing but headers is read until the device upload asks for a tensor.

import type { CheckpointNames } from "../../compiler/ir/checkpoint-names.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import { SafetensorsError } from "../safetensors/errors.js";
import { openSafetensors, type LazySafetensorsFile } from "../safetensors/reader.js";
import type { BindError } from "./bind-messages.js";
import { bindWeightsLazy } from "./bind-weights.js";
import { openCheckpointDir, type CheckpointDir } from "./checkpoint-dir.js";
import { nameCheckpoint } from "./checkpoint-names.js";
import { dequantizedCheckpoint } from "./quantized-checkpoint.js";
import { StreamedWeights, type LoadProgress } from "./host-weights.js";

export interface CheckpointLoadOptions {
  /** Name maps to consider (see nameCheckpoint); none: moec names only. */
  names?: readonly CheckpointNames[];
  /** Use names[0] whatever matches. */
  forceNames?: boolean;
  /** A separate state file (e_bias, BatchNorm statistics), under moec names. */
  state?: string;
  onProgress?: (p: LoadProgress) => void;
}

export type CheckpointLoad =
  | { ok: true; weights: StreamedWeights; convention: string; unused: string[]; config?: Record<string, unknown> }
  | { ok: false; errors: BindError[] };

/** config.json fields that make the directory unreadable (quantization_config is read by quantized-checkpoint.ts). */
function configProblems(config: Record<string, unknown> | undefined, label: string): BindError[] {
  if (!config) return [];
  const out: BindError[] = [];
  const mt = config["model_type"];
  if (mt !== undefined && typeof mt !== "string") out.push({ tensor: "", message: `${label}/config.json: model_type must be a string; found ${JSON.stringify(mt)}.` });
  return out;
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
  const named = nameCheckpoint(program, dir, opts.names ?? [], opts.forceNames);
  if (!named.ok) return named;
  let state: LazySafetensorsFile | undefined;
  if (opts.state !== undefined) {
    try {
      state = openSafetensors(opts.state);
    } catch (e) {
      if (!(e instanceof SafetensorsError)) throw e;
      return { ok: false, errors: [{ tensor: e.tensor ?? "", message: e.message }] };
    }
  }
  const bound = bindWeightsLazy(program, named.source, state);
  if (!bound.ok) return bound;
  return {
    ok: true, weights: new StreamedWeights(bound.weights, opts.onProgress), convention: named.convention, unused: named.unused,
    ...(dir.config ? { config: dir.config } : {}),
  };
}
