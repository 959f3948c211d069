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

/** `keepAll`: every block keeps all `context` rows, windowed or not (Group Think's shared cache, whose rows are not positions). */
export function allocateKvCache(gpu: GpuContext, program: IrProgram, context: number, dtype: StorageDtype, slots = 1, keepAll = false): KvCache {
  const blocks = new Map<string, KvCacheBlock>();
  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  let bytes = 0;
  const dispose = () => { for (const b of blocks.values()) b.buffer.destroy(); };
  try {
    for (const op of program.ops) {
      if (op.op !== "attention" && op.op !== "mla") continue;
      const a = op.attn;
      const rowWidth = op.op === "attention" ? 2 * op.attn.kvHeads * op.attn.headDim : op.attn.kvRank + op.attn.ropeDim;
      const ring = op.op === "attention" && !keepAll ? cacheRing(context, op.attn.window) : context;
      const size = slots * ring * rowWidth * bytesPer(dtype);
      if (size > limit) {
        throw new Error(`decode: the KV cache of '${a.key}' needs ${size} bytes for a context of ${context} (${slots > 1 ? `${slots} slots of ` : ""}${ring} rows of ${rowWidth} ${dtype} values), above the adapter's binding limit of ${limit} bytes; use a smaller context or an f16 cache`);
      }
      blocks.set(a.key, { key: a.key, rowWidth, ring, buffer: createBuffer(gpu.device, size, STORAGE_USAGE(), `kv cache ${a.key}`) });
      bytes += size;
    }
  } catch (e) {
    dispose();
    throw e;
  }
  return { context, slots, dtype, blocks, bytes, dispose };
}
