// Inputs and outputs of a run (LANGUAGE.md §8): inputs by parameter name from safetensors
// (floats as f32/f16/bf16, token ids as I32/I64), outputs written as f32 — a single output as `y`,
// a record's outputs under its keys.
import type { IrProgram } from "../compiler/ir/ir.js";
import { readSafetensors } from "./safetensors/reader.js";
import { SafetensorsError } from "./safetensors/errors.js";
import { writeSafetensors } from "./safetensors/writer.js";
import type { TensorData } from "./safetensors/writer.js";
import { RunInputError, type RunInputs } from "./run-inputs.js";

export { RunInputError, idInputs, normalSampler, randomInputs, type RunInputs } from "./run-inputs.js";

/** Reads and validates the entry's inputs from a safetensors file. */
export function readInputs(program: IrProgram, file: string): RunInputs {
  let st;
  try {
    st = readSafetensors(file);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new RunInputError(e.message);
    throw e;
  }
  const values = new Map<string, Float32Array | Int32Array>();
  let tokens: number | undefined;
  let tokensFrom = "";
  for (const input of program.inputs) {
    const v = program.values[input.value]!;
    const t = st.tensors.get(input.name);
    if (!t) {
      throw new RunInputError(`${file}: the entry \`${program.entry}\` takes an input \`${input.name}\` of shape [T${v.dtype === "i32" ? "" : `, ${v.width}`}], but the file has no tensor named \`${input.name}\`${st.tensors.size ? ` (it has: ${[...st.tensors.keys()].join(", ")})` : ""}`);
    }
    const ids = v.dtype === "i32";
    const shapeOk = ids ? t.shape.length === 1 : t.shape.length === 2 && t.shape[1] === v.width;
    if (!shapeOk) {
      throw new RunInputError(`${file}: input \`${input.name}\` must have shape [T${ids ? "" : `, ${v.width}`}], found [${t.shape.join(", ")}]`);
    }
    const T = t.shape[0]!;
    if (T < 1) throw new RunInputError(`${file}: input \`${input.name}\` has no tokens (T = 0)`);
    if (tokens !== undefined && T !== tokens) {
      throw new RunInputError(`${file}: inputs disagree on the number of tokens: \`${tokensFrom}\` has ${tokens}, \`${input.name}\` has ${T}`);
    }
    tokens = T;
    tokensFrom = input.name;
    if (ids) {
      if (t.dtype !== "I32" && t.dtype !== "I64") throw new RunInputError(`${file}: input \`${input.name}\` holds token ids and must be I32 or I64, found ${t.dtype}`);
      values.set(input.name, st.getI32(input.name));
    } else {
      if (t.dtype !== "F32" && t.dtype !== "F16" && t.dtype !== "BF16") throw new RunInputError(`${file}: input \`${input.name}\` must be F32, F16 or BF16, found ${t.dtype}`);
      values.set(input.name, st.getF32(input.name));
    }
  }
  const ignored = [...st.tensors.keys()].filter((k) => !program.inputs.some((i) => i.name === k));
  if (tokens === undefined) throw new RunInputError(`the entry \`${program.entry}\` takes no inputs`);
  return { tokens, values, ignored };
}

export function writeOutputs(program: IrProgram, outputs: Map<string, Float32Array>, tokens: number, file: string): void {
  const entries: Record<string, TensorData> = {};
  for (const o of program.outputs) {
    const data = outputs.get(o.name);
    if (!data) continue;
    // Rows from the data: a model run with lastLogits writes `logits [1, V]`.
    const width = program.values[o.value]!.width;
    entries[o.name] = { dtype: "F32", shape: [data.length === tokens * width ? tokens : data.length / width, width], data };
  }
  writeSafetensors(file, entries, { producer: "moec", entry: program.entry });
}

/** Writes a run's inputs as safetensors that `readInputs` reads back: float inputs F32 [T, width],
 *  token ids I32 [T]. */
export function writeInputs(program: IrProgram, inputs: Map<string, Float32Array | Int32Array>, tokens: number, file: string): void {
  const entries: Record<string, TensorData> = {};
  for (const i of program.inputs) {
    const data = inputs.get(i.name);
    if (!data) continue;
    const v = program.values[i.value]!;
    entries[i.name] = v.dtype === "i32" ? { dtype: "I32", shape: [tokens], data } : { dtype: "F32", shape: [tokens, v.width], data };
  }
  writeSafetensors(file, entries, { producer: "moec", entry: program.entry });
}
