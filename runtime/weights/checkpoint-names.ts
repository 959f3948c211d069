// Applies a checkpoint's name translation (compiler/ir/checkpoint-names.ts) to an opened
// checkpoint directory: picks the convention its tensors follow (moec's own §7 names, or one of
// the candidate Hugging Face maps, by how many names match), checks every translated tensor's
// presence, shape and dtype from the headers — naming the checkpoint's tensor and its shard —
// and yields a weight source under moec names for the binder.

import type { CheckpointNames } from "../../compiler/ir/checkpoint-names.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import { isFloatDtype } from "../safetensors/dtype.js";
import type { LazySafetensorsTensor } from "../safetensors/reader.js";
import type { BindError } from "./bind-messages.js";
import type { LazyTensorLike, WeightSource } from "./bind-weights.js";
import { canonicalLayout, fmtShape, poolOwns } from "./canonical-layout.js";
import type { CheckpointDir } from "./checkpoint-dir.js";

export type NamedCheckpoint =
  | { ok: true; source: WeightSource; convention: string; unused: string[] }
  | { ok: false; errors: BindError[] };

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const listed = (names: string[], n = 4) => (names.length > n ? `${names.slice(0, n).join(", ")} and ${names.length - n} more` : names.join(", "));

/** How many of the directory's tensors are weights of `program` under moec's own names. */
function moecHits(program: IrProgram, dir: CheckpointDir): number {
  const layout = canonicalLayout(program);
  const plain = new Set(layout.tensors.map((t) => t.name));
  let n = 0;
  for (const name of dir.tensors.keys()) if (plain.has(name) || layout.pools.some((p) => poolOwns(p, name))) n++;
  return n;
}

/**
 * `candidates`: name maps to consider (empty: moec names only); `forced`: use candidates[0]
 * whatever matches (`--weights-as hf:FAMILY`).
 */
export function nameCheckpoint(program: IrProgram, dir: CheckpointDir, candidates: readonly CheckpointNames[], forced = false): NamedCheckpoint {
  let chosen: CheckpointNames | undefined;
  if (forced && candidates[0]) chosen = candidates[0];
  else {
    const own = moecHits(program, dir);
    let best = own;
    for (const c of candidates) {
      const hits = c.tensors.filter((t) => dir.tensors.has(t.file)).length;
      if (hits > best) [best, chosen] = [hits, c];
    }
    if (best === 0) {
      const names = [...dir.tensors.keys()];
      const conventions = candidates.map((c) => c.convention).join(", ");
      return {
        ok: false,
        errors: [{
          tensor: names[0] ?? "",
          message: `${dir.label}: none of its ${names.length} tensors (${listed(names, 3)}) is a weight of \`${program.entry}\` under moec names (LANGUAGE.md §7)${conventions ? ` or the Hugging Face names of ${conventions}` : ""}; for a checkpoint of another family say which with --weights-as hf:FAMILY.`,
        }],
      };
    }
  }
  if (!chosen) return { ok: true, source: { label: dir.label, tensors: dir.tensors }, convention: "moec", unused: [] };

  const errors: BindError[] = [];
  const renamed = new Map<string, LazyTensorLike>();
  const used = new Set<string>();
  const how = `${chosen.convention} names, as ${chosen.source} defines them`;
  for (const t of chosen.tensors) {
    const found: LazySafetensorsTensor | undefined = dir.tensors.get(t.file);
    if (!found) {
      // Router state may be absent: its init value applies (LANGUAGE.md §7).
      if (!t.state) errors.push({ tensor: t.file, message: `Missing tensor ${t.file} in ${dir.label} (moec ${t.moec}; ${how}); expected shape ${fmtShape(t.shape)}, dtype F32, F16 or BF16.` });
      continue;
    }
    used.add(t.file);
    if (!isFloatDtype(found.dtype)) {
      errors.push({ tensor: t.file, message: `Tensor ${t.file} in ${found.file} has dtype ${found.dtype}; weights must be F32, F16 or BF16.` });
    } else if (!sameShape(found.shape, t.shape)) {
      errors.push({ tensor: t.file, message: `Tensor ${t.file} in ${found.file} has shape ${fmtShape(found.shape)}; expected ${fmtShape(t.shape)} (moec ${t.moec}).` });
    } else {
      renamed.set(t.moec, found);
    }
  }
  if (errors.length) return { ok: false, errors };
  const unused = [...dir.tensors.keys()].filter((n) => !used.has(n));
  return { ok: true, source: { label: dir.label, tensors: renamed }, convention: chosen.convention, unused };
}
