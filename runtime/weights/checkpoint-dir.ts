// A checkpoint directory on disk (Node): its files read through open-checkpoint.ts, which holds
// every check (index, shards, config.json).

import { statSync } from "node:fs";
import * as path from "node:path";
import { openSafetensors } from "../safetensors/reader.js";
import type { CheckpointFiles } from "./checkpoint-files.js";
import { diskTextFiles } from "../text/disk-text-files.js";
import { openCheckpoint, type CheckpointDirResult } from "./open-checkpoint.js";

export { CONFIG_FILE, INDEX_FILE, SINGLE_FILE, openCheckpoint, type CheckpointDir, type CheckpointDirResult } from "./open-checkpoint.js";

/** Is `p` a directory (rather than a safetensors file)? */
export function isCheckpointDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The files of directory `dir`, shown in messages as `label/NAME`. */
export function diskCheckpointFiles(dir: string, label = dir): CheckpointFiles {
  return { ...diskTextFiles(dir, label), openSafetensors: (name) => openSafetensors(path.join(dir, name), path.join(label, name)) };
}

/** Opens a checkpoint directory: headers only, every shard checked against the index. */
export function openCheckpointDir(dir: string, label = dir): CheckpointDirResult {
  if (!isCheckpointDir(dir)) return { ok: false, errors: [{ tensor: "", message: `${label}: not a checkpoint directory (no such directory).` }] };
  return openCheckpoint(diskCheckpointFiles(dir, label));
}
