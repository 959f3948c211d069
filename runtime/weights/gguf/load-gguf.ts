// A GGUF file → streamed canonical weights: open it (gguf-file.ts), read its tensor names as
// Hugging Face names through its architecture's conventions (gguf-names.ts: stacked experts
// become one lazy tensor per expert, reading only that expert's blocks; llama-architecture q/k
// rows are un-permuted back to HF's rotary layout), then bind exactly as a checkpoint directory
// is bound (the family map's names, shapes checked from the infos). Each tensor is dequantized
// to f32 on the host when the device upload asks for it and is not kept.

import type { IrProgram } from "../../../compiler/ir/ir.js";
import type { LazySafetensorsTensor } from "../../safetensors/reader.js";
import type { BindError } from "../bind-messages.js";
import type { CheckpointDir } from "../checkpoint-dir.js";
import { bindCheckpoint, type CheckpointLoad, type CheckpointLoadOptions } from "../load-checkpoint.js";
import { GgufError } from "./gguf-error.js";
import { openGguf, type GgufFile, type GgufTensor } from "./gguf-file.js";
import { GGUF_ARCHITECTURES, ggufArchitecture, ggufToHf, permuteRotaryRows } from "./gguf-names.js";

const numel = (s: readonly number[]) => s.reduce((a, d) => a * d, 1);
const asBytes = (v: Float32Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/** `path` names a GGUF file (by extension: the loader's only way to pick a reader for a file). */
export function isGgufPath(path: string): boolean {
  return /\.gguf$/i.test(path);
}

/** The attention head count a permuted q or k projection was split by, from the file's metadata. */
function ropeHeads(file: GgufFile, t: GgufTensor, which: "q" | "k"): number {
  const arch = file.architecture!;
  const kvField = `${arch}.attention.head_count_kv`;
  // k is split by the kv heads; a file without head_count_kv has as many as query heads.
  const field = which === "k" && file.metadata[kvField] !== undefined ? kvField : `${arch}.attention.head_count`;
  const raw = file.metadata[field];
  const heads = Number(raw);
  if (!Number.isInteger(heads) || heads < 1) throw new GgufError(file.label, `${file.label}: tensor ${t.name} is stored in llama.cpp's permuted rotary order, which needs ${field} (a positive integer); found ${raw === undefined ? "nothing" : String(raw)}.`, t.name);
  if (t.shape[0]! % (2 * heads) !== 0) throw new GgufError(file.label, `${file.label}: tensor ${t.name} has ${t.shape[0]} rows, which ${field} = ${heads} heads cannot split into heads of whole rotary pairs.`, t.name);
  return heads;
}

/** The file's tensors under HF names (tensors it has no HF name for keep their GGUF names). */
export function ggufAsCheckpoint(file: GgufFile): CheckpointDir {
  const arch = file.architecture;
  if (arch === undefined) throw new GgufError(file.label, `${file.label}: no general.architecture in its metadata; moec needs it to read the tensor names (architectures: ${GGUF_ARCHITECTURES.map((a) => a.name).join(", ")}).`);
  const conv = ggufArchitecture(arch);
  if (!conv) {
    const why = arch === "deepseek2" ? " (DeepSeek's MLA tensors are laid out differently in llama.cpp's files and are not read yet)" : "";
    throw new GgufError(file.label, `${file.label}: general.architecture is ${JSON.stringify(arch)}${why}; moec reads GGUF files of architectures ${GGUF_ARCHITECTURES.map((a) => a.name).join(", ")}.`);
  }
  const tensors = new Map<string, LazySafetensorsTensor>();
  const lazy = (name: string, shape: number[], read: () => Float32Array): LazySafetensorsTensor => ({
    name, dtype: "F32", shape, byteLength: numel(shape) * 4, file: file.label, read: () => asBytes(read()),
  });
  for (const t of file.tensors.values()) {
    const meaning = ggufToHf(t.name, conv);
    if (!meaning) {
      tensors.set(t.name, lazy(t.name, t.shape, () => file.readF32(t)));
    } else if (meaning.kind === "plain") {
      const rope = meaning.rope;
      if (rope) {
        const heads = ropeHeads(file, t, rope);
        const rows = t.shape[0]!, cols = numel(t.shape.slice(1));
        tensors.set(meaning.hf, lazy(meaning.hf, t.shape, () => permuteRotaryRows(file.readF32(t), rows, cols, heads, true)));
      } else {
        tensors.set(meaning.hf, lazy(meaning.hf, t.shape, () => file.readF32(t)));
      }
    } else {
      if (t.shape.length !== 3) throw new GgufError(file.label, `${file.label}: tensor ${t.name} stacks experts and must have 3 dimensions [experts, rows, cols]; it has shape [${t.shape.join(", ")}].`, t.name);
      const [experts, ...one] = t.shape as [number, number, number];
      const per = numel(one);
      for (let j = 0; j < experts; j++) {
        const hf = meaning.hfOfExpert(j);
        tensors.set(hf, lazy(hf, one, () => file.readF32(t, j * per, per)));
      }
    }
  }
  return { label: file.label, tensors, shards: [file.label] };
}

/** Loads the GGUF at `path` for `program` (names: the family maps to try, as for a directory). */
export async function loadGgufFile(program: IrProgram, path: string, opts: CheckpointLoadOptions = {}): Promise<CheckpointLoad> {
  let dir: CheckpointDir;
  try {
    dir = ggufAsCheckpoint(await openGguf(path));
  } catch (e) {
    if (!(e instanceof GgufError)) throw e;
    const err: BindError = { tensor: e.tensor ?? "", message: e.message };
    return { ok: false, errors: [err] };
  }
  return bindCheckpoint(program, dir, opts);
}
