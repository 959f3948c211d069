// An opened checkpoint → streamed canonical weights, with no file system: translate the names
// (moec's own, or a Hugging Face map the caller computed) and plan the binding from headers alone.
// Nothing but headers is read until the device upload asks for a tensor. load-checkpoint.ts opens
// directories on disk for it; a page opens the Files of a directory picker.

import type { CheckpointNames } from "../../compiler/ir/checkpoint-names.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import type { LazySafetensorsFile } from "../safetensors/reader.js";
import type { BindError } from "./bind-messages.js";
import { bindWeightsLazy } from "./bind-weights.js";
import type { CheckpointDir } from "./open-checkpoint.js";
import { nameCheckpoint } from "./checkpoint-names.js";
import { StreamedWeights, type LoadProgress } from "./host-weights.js";

export interface CheckpointBindOptions {
  /** Name maps to consider (see nameCheckpoint); none: moec names only. */
  names?: readonly CheckpointNames[];
  /** Use names[0] whatever matches. */
  forceNames?: boolean;
  onProgress?: (p: LoadProgress) => void;
}

export type CheckpointLoad =
  | { ok: true; weights: StreamedWeights; convention: string; unused: string[]; config?: Record<string, unknown> }
  | { ok: false; errors: BindError[] };

/** config.json fields that make the directory unreadable (quantization_config is read by quantized-checkpoint.ts). */
export function configProblems(config: Record<string, unknown> | undefined, label: string): BindError[] {
  if (!config) return [];
  const out: BindError[] = [];
  const mt = config["model_type"];
  if (mt !== undefined && typeof mt !== "string") out.push({ tensor: "", message: `${label}/config.json: model_type must be a string; found ${JSON.stringify(mt)}.` });
  return out;
}

/** Binds an opened checkpoint, with router state from an opened file. */
export function bindOpenedCheckpoint(program: IrProgram, dir: CheckpointDir, opts: CheckpointBindOptions & { state?: LazySafetensorsFile } = {}): CheckpointLoad {
  const named = nameCheckpoint(program, dir, opts.names ?? [], opts.forceNames);
  if (!named.ok) return named;
  const bound = bindWeightsLazy(program, named.source, opts.state);
  if (!bound.ok) return bound;
  return {
    ok: true, weights: new StreamedWeights(bound.weights, opts.onProgress), convention: named.convention, unused: named.unused,
    ...(dir.config ? { config: dir.config } : {}),
  };
}
