// The steps attention blocks share in a generation (docs/generation.md): writing this run's key
// and value rows into the block's KV cache, and attention of the one new position over the cache
// as flash-decoding (a partial pass split over the cached positions, then a merge).

import type { StorageDtype } from "../gpu/buffers.js";
import { decodeChunks, decodeHeadsPerWorkgroup, type DecodeLayout, DECODE_CHUNK, decodePartialParams, decodeVec4, flashDecodeMergeKernel, flashDecodePartialKernel } from "../kernels/attention/flash-decode.js";
import { KV_WRITE_WG, kvCacheWriteKernel } from "../kernels/attention/kv-cache-write.js";
import { BATCH_KV_WRITE_WG, batchDecodePartialParams, batchDecodePartialSize, batchFlashDecodeMergeKernel, batchFlashDecodePartialKernel, batchKvCacheWriteKernel } from "../kernels/attention/batch-decode.js";
import { grid2D } from "../kernels/wgsl-common.js";
import type { BuildContext, Step } from "./build-context.js";
import { elementwiseGrid } from "./grids.js";
import type { KvCacheBlock } from "./kv-cache.js";

/** Rows [t, src_off … src_off + n) of `src` (stride srcLd) into cache rows at `dstOff`, positions pos0 + t. */
export async function cacheWriteStep(b: BuildContext, blk: KvCacheBlock, kvDtype: StorageDtype, src: GPUBuffer, srcLd: number, srcOff: number, n: number, dstOff: number): Promise<Step> {
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const params = { src_ld: srcLd, src_off: srcOff, dst_ld: blk.rowWidth, dst_off: dstOff, n, ring: blk.ring };
  return b.step(kvCacheWriteKernel(b.dtype, kvDtype), params, { src, cache: blk.buffer }, (T) => elementwiseGrid(T * n, KV_WRITE_WG, maxDim));
}

/**
 * Attention of the step's one query (at position pos0, read by the kernels from the run uniform)
 * over the cached positions: 2 dispatches, writing out[o_off + h·o_hs + d] for every head.
 */
export async function decodeAttentionSteps(
  b: BuildContext,
  o: Omit<DecodeLayout, "maxChunks" | "ring" | "cLd"> & { QD: number; VD: number; q: GPUBuffer; blk: KvCacheBlock; out: GPUBuffer; oOff: number; oHs: number },
): Promise<Step[]> {
  const gen = b.generation!;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const maxChunks = Math.ceil(o.blk.ring / DECODE_CHUNK);
  const part = b.storage(o.H * maxChunks * (o.VD + 2), `${o.blk.key} decode partials`, 4);
  const layout: DecodeLayout = { ...o, cLd: o.blk.rowWidth, ring: o.blk.ring, maxChunks };
  const heads = decodeHeadsPerWorkgroup(o.H / o.KV, o.QD);
  const partial = await b.step(
    flashDecodePartialKernel({ dtype: b.dtype, kvDtype: gen.cache.dtype, QD: o.QD, VD: o.VD, heads, vec4: decodeVec4({ ...layout, QD: o.QD }) }),
    decodePartialParams(layout),
    { q: o.q, cache: o.blk.buffer, part },
    () => grid2D((o.H / heads) * decodeChunks(gen.position.pos0, o.window), maxDim),
  );
  const merge = await b.step(
    flashDecodeMergeKernel({ dtype: b.dtype, VD: o.VD }),
    { window: o.window, max_chunks: maxChunks, o_off: o.oOff, o_hs: o.oHs },
    { part, out: o.out },
    () => grid2D(o.H, maxDim),
  );
  return [partial, merge];
}

/** The `grp` binding of Group Think's shared form (none in slot form). */
function groupBinding(b: BuildContext): { shared: boolean; buffers: Record<string, GPUBuffer> } {
  const gen = b.generation!;
  return gen.mode === "group" ? { shared: true, buffers: { grp: gen.group! } } : { shared: false, buffers: {} };
}

/** Batched decoding: row t's span into cache slot t at position positions[t] (T = B rows); group: into thread t's row of the step. */
export async function batchCacheWriteStep(b: BuildContext, blk: KvCacheBlock, kvDtype: StorageDtype, src: GPUBuffer, srcLd: number, srcOff: number, n: number, dstOff: number): Promise<Step> {
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const params = { src_ld: srcLd, src_off: srcOff, dst_ld: blk.rowWidth, dst_off: dstOff, n, ring: blk.ring };
  const g = groupBinding(b);
  return b.step(batchKvCacheWriteKernel(b.dtype, kvDtype, g.shared), params, { pos: b.generation!.positions!, ...g.buffers, src, cache: blk.buffer }, (T) => elementwiseGrid(T * n, BATCH_KV_WRITE_WG, maxDim));
}

/** Batched decoding: each of the T = B rows' query over its own slot's positions (group: the shared cache under §11.2's mask); 2 dispatches. */
export async function batchDecodeAttentionSteps(
  b: BuildContext,
  o: Omit<DecodeLayout, "maxChunks" | "ring" | "cLd"> & { QD: number; VD: number; q: GPUBuffer; qLd: number; blk: KvCacheBlock; out: GPUBuffer; oLd: number; oOff: number; oHs: number },
): Promise<Step[]> {
  const gen = b.generation!;
  const pos = gen.positions!;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const maxChunks = Math.ceil(o.blk.ring / DECODE_CHUNK);
  const part = b.storage(batchDecodePartialSize(b.cap, o.H, maxChunks, o.VD), `${o.blk.key} batch decode partials`, 4);
  const layout = { ...o, cLd: o.blk.rowWidth, ring: o.blk.ring, maxChunks };
  const g = groupBinding(b);
  const partial = await b.step(
    batchFlashDecodePartialKernel({ dtype: b.dtype, kvDtype: gen.cache.dtype, QD: o.QD, VD: o.VD, shared: g.shared }),
    batchDecodePartialParams(layout),
    { pos, ...g.buffers, q: o.q, cache: o.blk.buffer, part },
    // Every chunk of the ring for every row (the kernel maps the grid by max_chunks); chunks past a row's position are empty.
    (T) => grid2D(T * o.H * maxChunks, maxDim),
  );
  const merge = await b.step(
    batchFlashDecodeMergeKernel({ dtype: b.dtype, VD: o.VD, shared: g.shared }),
    { H: o.H, window: o.window, max_chunks: maxChunks, o_ld: o.oLd, o_off: o.oOff, o_hs: o.oHs },
    { pos, ...g.buffers, part, out: o.out },
    (T) => grid2D(T * o.H, maxDim),
  );
  return [partial, merge];
}
