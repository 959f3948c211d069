// Writes a Hugging Face checkpoint directory as save_pretrained lays it out, one tensor in memory
// at a time (runtime/safetensors/stream-writer.ts): safetensors shards of
// at most `shardBytes` each (`model-0000K-of-0000N.safetensors`, tensors in the given order, a
// tensor larger than the cap alone in its shard), `model.safetensors.index.json` (total_size and
// the weight_map), and the small files beside them (config.json, tokenizer files…). The directory
// is built under a temporary name next to OUT and renamed into place, so a failure at any point
// leaves neither a partial OUT nor the temporary directory; `force` replaces a non-empty OUT.
import * as fs from "node:fs";
import * as path from "node:path";
import { DTYPE_SIZE } from "../safetensors/dtype.js";
import { writeSafetensorsStreamed } from "../safetensors/stream-writer.js";
import { INDEX_FILE } from "./checkpoint-dir.js";

export interface CheckpointTensor {
  name: string;
  shape: number[];
  /** Produces the values when it is written (so only one tensor is in memory at a time). */
  values(): Float32Array;
}

export interface WriteCheckpointDirOptions {
  dtype: "F32" | "F16" | "BF16";
  /** The most bytes of tensor data in one shard. */
  shardBytes: number;
  /** Files written beside the shards: name → text or bytes. */
  files?: Record<string, string | Uint8Array>;
  /** Replace OUT when it exists and is not empty. */
  force?: boolean;
  /** One `model.safetensors` and no index, whatever the size (the PyTorch export's form). */
  singleFile?: boolean;
}

export interface WrittenCheckpoint {
  shards: string[];
  totalBytes: number;
}

/** A checkpoint directory that could not be written; nothing was left behind. */
export class CheckpointWriteError extends Error {}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Consecutive tensors grouped so that each group's bytes stay within the cap (transformers' rule). */
export function planShards(tensors: readonly { name: string; shape: readonly number[] }[], bytesPerValue: number, shardBytes: number): number[][] {
  const shards: number[][] = [];
  let current: number[] = [], size = 0;
  tensors.forEach((t, i) => {
    const b = numel(t.shape) * bytesPerValue;
    if (current.length && size + b > shardBytes) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(i);
    size += b;
  });
  if (current.length) shards.push(current);
  return shards;
}

export const shardName = (k: number, n: number) => `model-${String(k + 1).padStart(5, "0")}-of-${String(n).padStart(5, "0")}.safetensors`;

function why(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}${err.path ? ` (${err.path})` : ""}` : err.message;
}

/** Fails unless OUT can be created or replaced: it must not be a file, nor a non-empty directory without `force`. */
function checkTarget(target: string, shown: string, force: boolean): "absent" | "empty" | "full" {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    return "absent";
  }
  if (!stat.isDirectory()) throw new CheckpointWriteError(`\`${shown}\` exists and is not a directory`);
  if (fs.readdirSync(target).length === 0) return "empty";
  if (!force) throw new CheckpointWriteError(`\`${shown}\` exists and is not empty; give --force to replace it`);
  return "full";
}

export function writeCheckpointDir(out: string, tensors: readonly CheckpointTensor[], opts: WriteCheckpointDirOptions, shown = out): WrittenCheckpoint {
  const target = path.resolve(out);
  const state = checkTarget(target, shown, opts.force ?? false);
  const parent = path.dirname(target);
  const tmp = path.join(parent, `.${path.basename(target)}.export-${process.pid}.tmp`);
  try {
    fs.mkdirSync(tmp);
  } catch (e) {
    throw new CheckpointWriteError(`cannot write \`${shown}\`: ${why(e)}`);
  }
  const bpv = DTYPE_SIZE[opts.dtype];
  try {
    const plan = opts.singleFile ? (tensors.length ? [tensors.map((_, i) => i)] : []) : planShards(tensors, bpv, opts.shardBytes);
    const weightMap: Record<string, string> = {};
    const shards: string[] = [];
    let total = 0;
    plan.forEach((members, k) => {
      const file = opts.singleFile ? "model.safetensors" : shardName(k, plan.length);
      // Tensor by tensor: each is produced, converted to the dtype and written, then let go.
      const list = members.map((i) => tensors[i]!);
      for (const t of list) weightMap[t.name] = file;
      total += writeSafetensorsStreamed(path.join(tmp, file), list, opts.dtype, { format: "pt" }, path.join(shown, file));
      shards.push(file);
    });
    const sortedMap = Object.fromEntries(Object.keys(weightMap).sort().map((n) => [n, weightMap[n]!]));
    if (!opts.singleFile) fs.writeFileSync(path.join(tmp, INDEX_FILE), JSON.stringify({ metadata: { total_size: total }, weight_map: sortedMap }, null, 2) + "\n");
    for (const [name, content] of Object.entries(opts.files ?? {})) fs.writeFileSync(path.join(tmp, name), content);
    install(tmp, target, state);
    return { shards, totalBytes: total };
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (e instanceof CheckpointWriteError) throw e;
    throw new CheckpointWriteError(`cannot write \`${shown}\`: ${why(e)}`);
  }
}

/** Renames the finished directory into place; a replaced OUT is moved aside first and restored if that fails. */
function install(tmp: string, target: string, state: "absent" | "empty" | "full"): void {
  if (state === "empty") fs.rmdirSync(target);
  if (state !== "full") {
    fs.renameSync(tmp, target);
    return;
  }
  const old = `${tmp}.old`;
  fs.renameSync(target, old);
  try {
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.renameSync(old, target);
    throw e;
  }
  fs.rmSync(old, { recursive: true, force: true });
}
