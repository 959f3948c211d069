// Files → canonical weights: reads the weights (and state) safetensors files and binds them.
// A file that cannot be read or parsed becomes one more binder error (tensor "" unless the
// problem is in one tensor's header entry), so callers handle one list.

import type { IrProgram } from "../../compiler/ir/ir.js";
import { SafetensorsError } from "../safetensors/errors.js";
import { openSafetensors, readSafetensors, type LazySafetensorsFile, type SafetensorsFile } from "../safetensors/reader.js";
import { bindWeights, bindWeightsLazy, type BindError, type BindResult } from "./bind-weights.js";
import { StreamedWeights } from "./host-weights.js";

export function loadWeights(program: IrProgram, weightsPath: string, statePath?: string): BindResult {
  const errors = [];
  let weights: SafetensorsFile | undefined, state: SafetensorsFile | undefined;
  for (const [path, set] of [[weightsPath, (f: SafetensorsFile) => (weights = f)], [statePath, (f: SafetensorsFile) => (state = f)]] as const) {
    if (path === undefined) continue;
    try {
      set(readSafetensors(path));
    } catch (e) {
      if (!(e instanceof SafetensorsError)) throw e;
      errors.push({ tensor: e.tensor ?? "", message: e.message });
    }
  }
  if (errors.length || !weights) return { ok: false, errors };
  return bindWeights(program, weights, state);
}

/** loadWeights without reading the data: the headers are bound now (every problem reported),
 *  each canonical tensor read from the files when asked for (`moec export hf`). */
export function streamWeights(program: IrProgram, weightsPath: string, statePath?: string): { ok: true; weights: StreamedWeights } | { ok: false; errors: BindError[] } {
  const errors: BindError[] = [];
  let weights: LazySafetensorsFile | undefined, state: LazySafetensorsFile | undefined;
  for (const [path, set] of [[weightsPath, (f: LazySafetensorsFile) => (weights = f)], [statePath, (f: LazySafetensorsFile) => (state = f)]] as const) {
    if (path === undefined) continue;
    try {
      set(openSafetensors(path));
    } catch (e) {
      if (!(e instanceof SafetensorsError)) throw e;
      errors.push({ tensor: e.tensor ?? "", message: e.message });
    }
  }
  if (errors.length || !weights) return { ok: false, errors };
  const r = bindWeightsLazy(program, weights, state);
  return r.ok ? { ok: true, weights: new StreamedWeights(r.weights) } : r;
}
