// Canonical weights → the tensors of a checkpoint under another convention's names (the
// CheckpointNames the compiler computed, e.g. a Hugging Face family's): each checkpoint tensor is
// the moec file-form tensor it names (a routed expert's per-member tensor, a shared pool's
// concatenation; canonical-to-file.ts makes them), checked against the shape the names promise.
// Tensors are made one at a time, when written: each reads only the canonical tensor it comes
// from, kept just until the last checkpoint tensor made from it is (a stacked pool tensor is read
// once for all its members), so the host never holds the whole model.
import type { CheckpointNames } from "../../compiler/ir/checkpoint-names.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import { fileFormParts, type FileFormPart } from "./canonical-to-file.js";
import { fmtShape } from "./canonical-layout.js";
import type { HostWeights } from "./host-weights.js";
import type { CheckpointTensor } from "./write-checkpoint-dir.js";

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** The checkpoint's tensors in `names` order; each one's values are made when asked for. */
export function checkpointTensors(program: IrProgram, weights: HostWeights, names: CheckpointNames): CheckpointTensor[] {
  const parts = new Map(fileFormParts(program, "coarse").map((p) => [p.name, p]));
  const partOf = (moec: string, file: string): FileFormPart => {
    // A one-member shared pool is named per member (`S.0.w_up`); its concatenation is that member.
    const p = parts.get(moec) ?? parts.get(moec.replace(/\.0\.([^.]+)$/, ".$1"));
    if (!p) throw new Error(`checkpointTensors: no moec tensor ${moec} for ${file} (${names.convention})`);
    return p;
  };
  // How many checkpoint tensors still need each canonical source; a source is dropped at zero.
  const pending = new Map<string, number>();
  for (const t of names.tensors) {
    const s = partOf(t.moec, t.file).source;
    pending.set(s, (pending.get(s) ?? 0) + 1);
  }
  const held = new Map<string, Float32Array>();
  const source = (p: FileFormPart): Float32Array => {
    let src = held.get(p.source);
    if (!src) {
      src = weights.get(p.source);
      if (!src) throw new Error(`checkpointTensors: the weights have no canonical tensor ${p.source}`);
      const n = p.sourceShape.reduce((a, d) => a * d, 1);
      if (src.length !== n) throw new Error(`checkpointTensors: ${p.source} has ${src.length} values; its shape ${fmtShape(p.sourceShape)} needs ${n}`);
    }
    const left = pending.get(p.source)! - 1;
    pending.set(p.source, left);
    if (left > 0) held.set(p.source, src);
    else held.delete(p.source);
    return src;
  };
  return names.tensors.map((t) => ({
    name: t.file,
    shape: t.shape,
    values() {
      const p = partOf(t.moec, t.file);
      if (!sameShape(p.shape, t.shape)) throw new Error(`checkpointTensors: ${t.moec} has shape ${fmtShape(p.shape)}; ${t.file} needs ${fmtShape(t.shape)}`);
      return p.make(source(p));
    },
  }));
}
