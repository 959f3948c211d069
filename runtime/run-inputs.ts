// A run's inputs without files: seeded random inputs (`--tokens T` without `--input`), token ids
// given inline, and the one seeded sampler — the same values in Node and in a browser.
import type { IrProgram } from "../compiler/ir/ir.js";

export class RunInputError extends Error {
  override name = "RunInputError";
}

export interface RunInputs {
  tokens: number;
  values: Map<string, Float32Array | Int32Array>;
  /** Tensors in the file that the entry does not take (reported as a warning). */
  ignored: string[];
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

/** Host bytes a run of `tokens` tokens holds in its inputs and outputs (f32 values, i32 ids). */
export function runIoBytes(program: IrProgram, tokens: number): number {
  let perToken = 0;
  for (const i of program.inputs) {
    const v = program.values[i.value]!;
    perToken += v.dtype === "i32" ? 4 : 4 * v.width;
  }
  for (const o of program.outputs) perToken += 4 * program.values[o.value]!.width;
  return perToken * tokens;
}
