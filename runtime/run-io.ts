// Inputs and outputs of a run (LANGUAGE.md §8): inputs by parameter name from safetensors
// (floats as f32/f16/bf16, token ids as I32/I64), outputs written as f32 — a single output as `y`,
// a record's outputs under its keys.
import type { IrProgram } from "../compiler/ir/ir.js";
import { readSafetensors } from "./safetensors/reader.js";
import { SafetensorsError } from "./safetensors/errors.js";
import { writeSafetensors } from "./safetensors/writer.js";
import type { TensorData } from "./safetensors/writer.js";

export class RunInputError extends Error {
  override name = "RunInputError";
}

export interface RunInputs {
  tokens: number;
  values: Map<string, Float32Array | Int32Array>;
  /** Tensors in the file that the entry does not take (reported as a warning). */
  ignored: string[];
}

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

/** The vocabulary token ids `value` must index: the smallest of the embeddings that read it. */
function vocabOf(program: IrProgram, value: number): number | undefined {
  const sizes = program.ops.flatMap((op) => (op.op === "embed" && op.ids === value ? [op.vocab] : []));
  return sizes.length ? Math.min(...sizes) : undefined;
}

/** Seeded inputs of T tokens (for `--tokens T` without `--input`): unit normals, and token ids
 *  drawn uniformly from the vocabulary of the embedding that reads them. */
export function randomInputs(program: IrProgram, tokens: number, seed: number): RunInputs {
  const rand = normalSampler(seed);
  const values = new Map<string, Float32Array | Int32Array>();
  for (const input of program.inputs) {
    const v = program.values[input.value]!;
    if (v.dtype === "i32") {
      const V = vocabOf(program, input.value);
      if (V === undefined) throw new RunInputError(`input \`${input.name}\` takes token ids, but no embedding reads them; give them with --input`);
      // A uniform id from the normal draws' fractional parts keeps one generator per run.
      values.set(input.name, Int32Array.from({ length: tokens }, () => Math.floor((Math.abs(rand()) * 1e6) % V)));
      continue;
    }
    const a = new Float32Array(tokens * v.width);
    for (let i = 0; i < a.length; i++) a[i] = rand();
    values.set(input.name, a);
  }
  return { tokens, values, ignored: [] };
}

/** Token ids given inline (`--input-ids 1,2,3`) for the program's one token-id input. */
export function idInputs(program: IrProgram, text: string): RunInputs {
  const ids = program.inputs.filter((i) => program.values[i.value]!.dtype === "i32");
  if (ids.length !== 1 || program.inputs.length !== 1) {
    throw new RunInputError(`--input-ids gives the token ids of a model; \`${program.entry}\` takes ${program.inputs.map((i) => `\`${i.name}\``).join(", ") || "no inputs"}`);
  }
  const parts = text.split(",").map((x) => x.trim());
  const values = parts.map((x, t) => {
    if (!/^\d+$/.test(x)) throw new RunInputError(`--input-ids: token ${t} is \`${x}\`, not a non-negative integer`);
    const n = Number(x);
    if (n > 0x7fffffff) throw new RunInputError(`--input-ids: token ${t} is ${x}, above the largest id 2147483647`);
    return n;
  });
  return { tokens: values.length, values: new Map([[ids[0]!.name, Int32Array.from(values)]]), ignored: [] };
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

/** Box–Muller over a 32-bit mulberry generator: deterministic across platforms. */
export function normalSampler(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const w = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * w);
    return r * Math.cos(2 * Math.PI * w);
  };
}
