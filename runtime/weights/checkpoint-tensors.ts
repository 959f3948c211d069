// Canonical weights → the tensors of a checkpoint under another convention's names (the
// CheckpointNames the compiler computed, e.g. a Hugging Face family's): each checkpoint tensor is
// the moec file-form tensor it names (a routed expert's per-member tensor, a shared pool's
// concatenation; canonical-to-file.ts makes them), checked against the shape the names promise.
import type { CheckpointNames } from "../../compiler/ir/checkpoint-names.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import { canonicalToFile } from "./canonical-to-file.js";
import { fmtShape } from "./canonical-layout.js";
import type { HostWeights } from "./host-weights.js";
import type { CheckpointTensor } from "./write-checkpoint-dir.js";

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** The checkpoint's tensors in `names` order; values are assembled on first use (the whole model, in f32). */
export function checkpointTensors(program: IrProgram, weights: HostWeights, names: CheckpointNames): CheckpointTensor[] {
  let fileForm: ReturnType<typeof canonicalToFile> | undefined;
  const form = () => {
    if (!fileForm) {
      const all = new Map<string, Float32Array>();
      for (const k of weights.keys()) all.set(k, weights.get(k)!);
      fileForm = canonicalToFile(program, all, "coarse");
    }
    return fileForm;
  };
  return names.tensors.map((t) => ({
    name: t.file,
    shape: t.shape,
    values() {
      // A one-member shared pool is named per member (`S.0.w_up`); its concatenation is that member.
      const v = form().get(t.moec) ?? form().get(t.moec.replace(/\.0\.([^.]+)$/, ".$1"));
      if (!v) throw new Error(`checkpointTensors: no moec tensor ${t.moec} for ${t.file} (${names.convention})`);
      if (!sameShape(v.shape, t.shape)) throw new Error(`checkpointTensors: ${t.moec} has shape ${fmtShape(v.shape)}; ${t.file} needs ${fmtShape(t.shape)}`);
      return v.data instanceof Float32Array ? v.data : Float32Array.from(v.data as ArrayLike<number>);
    },
  }));
}
