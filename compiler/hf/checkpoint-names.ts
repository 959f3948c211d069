// The Hugging Face name map of a model (map.ts) as the runtime's CheckpointNames data: each HF
// tensor to the moec file-form name the weight binder reads (per-member names for routed
// experts, which the binder stacks; the concatenated name for shared experts, which it splits).
import type { CheckpointNames } from "../ir/checkpoint-names.js";
import type { Instance } from "../semantic/instance.js";
import { HF_FAMILIES, type HfFamilyName } from "./families.js";
import { HfMapError, detectFamily, hfMap, resolveFamily, type HfMap } from "./map.js";

export function checkpointNamesOf(map: HfMap): CheckpointNames {
  return {
    convention: `hf:${map.family.name}`,
    source: map.family.modeling,
    tensors: map.tensors.map((t) => ({
      file: t.hf,
      // A shared pool stored concatenated: `S.0.w_up` + `S.1.w_up` → the whole-pool name `S.w_up`.
      moec: t.moec.length > 1 ? t.moec[0]!.name.replace(/\.0\.([^.]+)$/, ".$1") : t.moec[0]!.name,
      shape: t.shape,
      ...(t.state ? { state: true } : {}),
    })),
  };
}

/**
 * Candidate name maps of a model entry for reading a checkpoint: the forced family alone, else
 * every family that can place the model, the preferred one (config.json's model_type, else the
 * one detected from the program) first. Throws HfMapError for an unknown or unplaceable family.
 */
export function hfCheckpointNames(inst: Instance, entryName: string, opts: { family?: string; modelType?: string } = {}): CheckpointNames[] {
  if (opts.family !== undefined) return [checkpointNamesOf(hfMap(inst, resolveFamily(opts.family)))];
  let preferred: HfFamilyName = detectFamily(inst, entryName);
  if (opts.modelType !== undefined) {
    try {
      preferred = resolveFamily(opts.modelType).name;
    } catch {
      // A model_type moec has no map for: fall back to the detected family.
    }
  }
  const order = [preferred, ...(Object.keys(HF_FAMILIES) as HfFamilyName[]).filter((f) => f !== preferred)];
  const out: CheckpointNames[] = [];
  for (const f of order) {
    try {
      out.push(checkpointNamesOf(hfMap(inst, HF_FAMILIES[f])));
    } catch (e) {
      if (!(e instanceof HfMapError)) throw e;
    }
  }
  return out;
}
