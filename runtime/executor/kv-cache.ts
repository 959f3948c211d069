// The KV cache of a generation (docs/generation.md): one GPU buffer per attention block, allocated
// once, when the executor is created with `decode: { context }`, never per step. Layout, in the
// cache dtype (f32 or f16): `attention` rows [k | v] of 2·KV·hd values (keys after q/k norm and
// rotary, kv heads in order); `mla` rows [c_kv (after kv_norm) | k_pe (rotated)] of Rkv + Dr
// values, DeepSeek's decode form. Position s sits at row s mod ring: ring = the context C, or
// min(W, C) under a sliding window of W (only the window is kept). The lowerings in generation
// mode read them through `GenerationBuild` (build-context.ts).

import type { IrProgram } from "../../compiler/ir/ir.js";
import { bytesPer, createBuffer, STORAGE_USAGE, type StorageDtype } from "../gpu/buffers.js";
import type { GpuContext } from "../gpu/device.js";
import { DeviceMemoryError } from "./device-fit.js";

export interface KvCacheBlock {
  /** The block's weight prefix (`layers.0.self_attn`). */
  key: string;
  buffer: GPUBuffer;
  /** Values per cached row. */
  rowWidth: number;
  /** Rows per slot: the position s is at row s mod ring (of slot b: b·ring + s mod ring). */
  ring: number;
}

export interface KvCache {
  context: number;
  /** Sequences it holds (batched decoding: one slot per row; else 1). */
  slots: number;
  dtype: StorageDtype;
  blocks: Map<string, KvCacheBlock>;
  /** Bytes of all blocks together. */
  bytes: number;
  dispose(): void;
}

/** The ring of a block: the whole context, or a sliding window's last W positions. */
export function cacheRing(context: number, window: number): number {
  return window > 0 ? Math.min(window, context) : context;
}

/** Every attention block's cache: its row width, ring rows and bytes (nothing allocated). */
function cacheBlocks(program: IrProgram, context: number, dtype: StorageDtype, slots: number, keepAll: boolean): { key: string; rowWidth: number; ring: number; size: number }[] {
  const out: { key: string; rowWidth: number; ring: number; size: number }[] = [];
  for (const op of program.ops) {
    if (op.op !== "attention" && op.op !== "mla") continue;
    const rowWidth = op.op === "attention" ? 2 * op.attn.kvHeads * op.attn.headDim : op.attn.kvRank + op.attn.ropeDim;
    const ring = op.op === "attention" && !keepAll ? cacheRing(context, op.attn.window) : context;
    out.push({ key: op.attn.key, rowWidth, ring, size: slots * ring * rowWidth * bytesPer(dtype) });
  }
  return out;
}

/** Bytes of the KV cache `allocateKvCache` would allocate (for the device-fit check before it). */
export function kvCacheBytes(program: IrProgram, context: number, dtype: StorageDtype, slots = 1, keepAll = false): number {
  return cacheBlocks(program, context, dtype, slots, keepAll).reduce((n, b) => n + b.size, 0);
}

/** `keepAll`: every block keeps all `context` rows, windowed or not (Group Think's shared cache, whose rows are not positions). */
export function allocateKvCache(gpu: GpuContext, program: IrProgram, context: number, dtype: StorageDtype, slots = 1, keepAll = false): KvCache {
  const blocks = new Map<string, KvCacheBlock>();
  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  const plan = cacheBlocks(program, context, dtype, slots, keepAll);
  const over = plan.find((b) => b.size > limit);
  if (over) {
    throw new DeviceMemoryError(
      `decode: the KV cache of '${over.key}' needs ${over.size} bytes for a context of ${context} (${slots > 1 ? `${slots} slots of ` : ""}${over.ring} rows of ${over.rowWidth} ${dtype} values), above the adapter's binding limit of ${limit} bytes; use a smaller context or an f16 cache`,
      over.size, limit,
    );
  }
  let bytes = 0;
  const dispose = () => { for (const b of blocks.values()) b.buffer.destroy(); };
  try {
    for (const b of plan) {
      blocks.set(b.key, { key: b.key, rowWidth: b.rowWidth, ring: b.ring, buffer: createBuffer(gpu.device, b.size, STORAGE_USAGE(), `kv cache ${b.key}`) });
      bytes += b.size;
    }
  } catch (e) {
    dispose();
    throw e;
  }
  return { context, slots, dtype, blocks, bytes, dispose };
}
