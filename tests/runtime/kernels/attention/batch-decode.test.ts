// Batched decode attention against a float64 reference: B = 3 rows at different positions (one
// of them past a 64-position chunk), each writing its own key/value rows into its own cache slot
// step by step, then attending over its own positions — full attention and a sliding window of
// 8 (a ring that wraps), GQA (4 query heads over 2 kv heads). All cases share 3 pipelines.
import { afterAll, expect } from "vitest";
import { createBuffer, STORAGE_USAGE, uniformBuffer } from "../../../../runtime/gpu/buffers.js";
import type { GpuContext } from "../../../../runtime/gpu/device.js";
import {
  batchDecodePartialParams, batchDecodePartialSize, batchFlashDecodeMergeKernel, batchFlashDecodePartialKernel,
  batchKvCacheWriteKernel, BATCH_KV_WRITE_WG,
} from "../../../../runtime/kernels/attention/batch-decode.js";
import { DECODE_CHUNK } from "../../../../runtime/kernels/attention/flash-decode.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../../helpers/gpu-context.js";
import { rng } from "../../../helpers/random.js";
import { dispatch, readFloats } from "./kernel-harness.js";

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

const B = 3, H = 4, KV = 2, HD = 8;
const ROW = 2 * KV * HD; // [k | v] per cached row
const QW = H * HD;

/** Deterministic values for (row b, position s): its cached [k | v] row. */
function kvRow(b: number, s: number): Float32Array {
  const r = rng(1000 * b + s + 1);
  return Float32Array.from({ length: ROW }, () => r() * 2 - 1);
}

/** Float64 attention of row b's query over positions [lo, last] of that row (GQA, scale 1/√hd). */
function reference(q: Float32Array, b: number, last: number, window: number): Float64Array {
  const out = new Float64Array(QW);
  const lo = window > 0 && last + 1 > window ? last + 1 - window : 0;
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / (H / KV));
    const scores: number[] = [];
    for (let s = lo; s <= last; s++) {
      const kv = kvRow(b, s);
      let dot = 0;
      for (let d = 0; d < HD; d++) dot += q[b * QW + h * HD + d]! * kv[g * HD + d]!;
      scores.push(dot / Math.sqrt(HD));
    }
    const m = Math.max(...scores);
    const e = scores.map((x) => Math.exp(x - m));
    const sum = e.reduce((a, x) => a + x, 0);
    for (let d = 0; d < HD; d++) {
      let acc = 0;
      for (let s = lo; s <= last; s++) acc += e[s - lo]! * kvRow(b, s)[KV * HD + g * HD + d]!;
      out[h * HD + d] = acc / sum;
    }
  }
  return out;
}

/** Fills each row's slot up to `finals[b]` one step at a time (all rows in one write per step), then attends. */
async function runBatch(finals: number[], context: number, window: number, checkAt: number[]): Promise<void> {
  const { device } = gpu;
  const ring = window > 0 ? Math.min(window, context) : context;
  const maxChunks = Math.ceil(ring / DECODE_CHUNK);
  const run = uniformBuffer(device, [B, 0, 0, 0], "test.run");
  const pos = createBuffer(device, B * 4, STORAGE_USAGE(), "test.pos");
  const src = createBuffer(device, B * ROW * 4, STORAGE_USAGE(), "test.src");
  const cache = createBuffer(device, B * ring * ROW * 4, STORAGE_USAGE(), "test.cache");
  const q = createBuffer(device, B * QW * 4, STORAGE_USAGE(), "test.q");
  const part = createBuffer(device, batchDecodePartialSize(B, H, maxChunks, HD) * 4, STORAGE_USAGE(), "test.part");
  const out = createBuffer(device, B * QW * 4, STORAGE_USAGE(), "test.out");
  const write = batchKvCacheWriteKernel("f32", "f32");
  const partial = batchFlashDecodePartialKernel({ dtype: "f32", kvDtype: "f32", QD: HD, VD: HD });
  const merge = batchFlashDecodeMergeKernel({ dtype: "f32", VD: HD });
  const r = rng(7 + window);
  try {
    const steps = Math.max(...finals);
    for (let k = 0; k <= steps; k++) {
      // Row b stays at its last position once there (rewriting the same row is harmless).
      const at = finals.map((f) => Math.min(k, f));
      device.queue.writeBuffer(pos, 0, Uint32Array.from(at));
      const rows = new Float32Array(B * ROW);
      at.forEach((s, b) => rows.set(kvRow(b, s), b * ROW));
      device.queue.writeBuffer(src, 0, rows);
      await dispatch(gpu, write, write.params({ src_ld: ROW, src_off: 0, dst_ld: ROW, dst_off: 0, n: ROW, ring }), { pos, src, cache }, run, Math.ceil((B * ROW) / BATCH_KV_WRITE_WG));
      if (!checkAt.includes(k) && k !== steps) continue;
      const qv = Float32Array.from({ length: B * QW }, () => r() * 2 - 1);
      device.queue.writeBuffer(q, 0, qv);
      const layout = { H, KV, qLd: QW, qOff: 0, qHs: HD, cLd: ROW, kOff: 0, kHs: HD, vOff: KV * HD, vHs: HD, ring, window, maxChunks, scale: 1 / Math.sqrt(HD) };
      await dispatch(gpu, partial, partial.params(batchDecodePartialParams(layout)), { pos, q, cache, part }, run, B * H * maxChunks);
      await dispatch(gpu, merge, merge.params({ H, window, max_chunks: maxChunks, o_ld: QW, o_off: 0, o_hs: HD }), { pos, part, out }, run, B * H);
      const got = await readFloats(gpu, out, B * QW);
      for (let b = 0; b < B; b++) {
        const want = reference(qv, b, at[b]!, window);
        for (let i = 0; i < QW; i++) expect(Math.abs(got[b * QW + i]! - want[i]!), `step ${k}, row ${b} at position ${at[b]}, element ${i}`).toBeLessThan(1e-5);
      }
    }
  } finally {
    for (const b of [run, pos, src, cache, q, part, out]) b.destroy();
  }
}

describeGpu("batched decode attention", () => {
  itGpu("each row writes and attends over its own slot at its own position (full attention, two chunks)", async () => {
    await runBatch([1, 4, 70], 80, 0, [0, 3, 64]);
  }, 120_000);

  itGpu("under a sliding window of 8 each row's ring wraps independently", async () => {
    await runBatch([2, 9, 70], 80, 8, [5, 12]);
  }, 120_000);
});
