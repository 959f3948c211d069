// A checkpoint directory as Hugging Face writes it (LANGUAGE.md §13.3): `model.safetensors`, or
// `model.safetensors.index.json` naming the shard of every tensor; `config.json` when present.
// Only headers are read here (each shard's, fully validated); a tensor's bytes are read later,
// on demand. Every problem names the directory's file and, where there is one, the tensor; all
// shards are checked, so one pass reports every broken one. The files come through
// CheckpointFiles: checkpoint-dir.ts's from disk, or a page's from a directory picker.

import { SafetensorsError } from "../safetensors/errors.js";
import type { LazySafetensorsTensor } from "../safetensors/reader.js";
import type { BindError } from "./bind-messages.js";
import type { CheckpointFiles } from "./checkpoint-files.js";

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";
export const CONFIG_FILE = "config.json";

export interface CheckpointDir {
  /** The directory, as given (for messages). */
  label: string;
  /** Every tensor of every shard, by its name in the checkpoint. */
  tensors: Map<string, LazySafetensorsTensor>;
  /** The safetensors files read, in order. */
  shards: string[];
  /** `config.json`, when present. */
  config?: Record<string, unknown>;
}

export type CheckpointDirResult = { ok: true; dir: CheckpointDir } | { ok: false; errors: BindError[] };

const describe = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)}`;

/** Opens a checkpoint from its files: headers only, every shard checked against the index. */
export function openCheckpoint(files: CheckpointFiles): CheckpointDirResult {
  const errors: BindError[] = [];
  const fail = (message: string, tensor = ""): CheckpointDirResult => ({ ok: false, errors: [...errors, { tensor, message }] });
  const shown = (f: string) => files.shown(f);
  const label = files.label;

  let config: Record<string, unknown> | undefined;
  if (files.exists(CONFIG_FILE)) {
    const parsed = readJsonObject(files, CONFIG_FILE);
    if (typeof parsed === "string") errors.push({ tensor: "", message: parsed });
    else config = parsed;
  }

  const tensors = new Map<string, LazySafetensorsTensor>();
  const shards: string[] = [];
  const openShard = (file: string): Map<string, LazySafetensorsTensor> | undefined => {
    try {
      const f = files.openSafetensors(file);
      shards.push(file);
      return f.tensors;
    } catch (e) {
      if (!(e instanceof SafetensorsError)) throw e;
      errors.push({ tensor: e.tensor ?? "", message: e.message });
      return undefined;
    }
  };

  if (files.exists(SINGLE_FILE)) {
    // transformers reads model.safetensors before an index when both are present; so do we.
    const t = openShard(SINGLE_FILE);
    if (t) for (const [name, tensor] of t) tensors.set(name, tensor);
  } else if (files.exists(INDEX_FILE)) {
    const index = readIndex(files, INDEX_FILE);
    if (typeof index === "string") return fail(index);
    for (const [shard, listed] of index) {
      const where = shown(shard);
      if (!files.exists(shard)) {
        const first = listed[0]!;
        errors.push({ tensor: first, message: `${shown(INDEX_FILE)} lists shard ${shard} for ${listed.length} tensor${listed.length === 1 ? "" : "s"} (${first}${listed.length > 1 ? ", …" : ""}), but ${where} is absent.` });
        continue;
      }
      const t = openShard(shard);
      if (!t) continue;
      const want = new Set(listed);
      for (const name of listed) {
        const tensor = t.get(name);
        if (!tensor) errors.push({ tensor: name, message: `${shown(INDEX_FILE)} puts tensor ${name} in ${shard}, but ${where} does not hold it.` });
        else tensors.set(name, tensor);
      }
      for (const name of t.keys()) {
        if (!want.has(name)) errors.push({ tensor: name, message: `${where} holds tensor ${name}, which ${shown(INDEX_FILE)} does not list (a stale index?).` });
      }
    }
  } else {
    return fail(`${label}: no ${SINGLE_FILE} or ${INDEX_FILE} in the directory; a Hugging Face checkpoint directory has one of them.`);
  }
  if (errors.length) return { ok: false, errors };
  return { ok: true, dir: { label, tensors, shards, ...(config ? { config } : {}) } };
}

/** A JSON file holding an object, or the sentence saying why it is not one. */
function readJsonObject(files: CheckpointFiles, name: string): Record<string, unknown> | string {
  const shown = files.shown(name);
  let text: string;
  try {
    text = files.readText(name);
  } catch (e) {
    return `${shown}: cannot read it (${(e as Error).message}).`;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `${shown}: not valid JSON (${(e as Error).message}).`;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return `${shown}: must hold a JSON object; found ${describe(v)}.`;
  return v as Record<string, unknown>;
}

/** The index's shards, each with the tensors it lists (in index order), or why it cannot be used. */
function readIndex(files: CheckpointFiles, name: string): Map<string, string[]> | string {
  const shown = files.shown(name);
  const index = readJsonObject(files, name);
  if (typeof index === "string") return index;
  const map = index["weight_map"];
  if (map === null || typeof map !== "object" || Array.isArray(map)) return `${shown}: "weight_map" must be an object from tensor names to shard files; found ${map === undefined ? "nothing" : describe(map)}.`;
  const shards = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== "string" || shard === "") return `${shown}: "weight_map" entry ${JSON.stringify(name)} must name a shard file; found ${describe(shard)}.`;
    // A shard is a file in the directory itself: no paths out of it.
    if (shard.includes("/") || shard === "." || shard === ".." || shard.includes("\\")) {
      return `${shown}: "weight_map" entry ${JSON.stringify(name)} names ${JSON.stringify(shard)}; shards must be files in the checkpoint directory itself.`;
    }
    let list = shards.get(shard);
    if (!list) shards.set(shard, (list = []));
    list.push(name);
  }
  if (shards.size === 0) return `${shown}: "weight_map" lists no tensors.`;
  return shards;
}
