// Group Think's shared-cache decode attention (batch-decode.ts `shared`, group-decode.ts) against
// hand-built masks: the rows each thread's query reads at a step are written out by hand from
// LANGUAGE.md §11.2 (the prompt, every thread's tokens of earlier steps — a stopped thread's only
// up to its length — and the query's own row), and the kernel's output is compared with float64
// attention over exactly those rows. The new rows go in through the shared cache-write kernel,
// so its row placement (P + k·N + n) is checked too. One set of 3 pipelines for every case.
import { afterAll, expect } from "vitest";
import { createBuffer, STORAGE_USAGE, uniformBuffer } from "../../../../runtime/gpu/buffers.js";
import type { GpuContext } from "../../../../runtime/gpu/device.js";
import {
  batchDecodePartialParams, batchDecodePartialSize, batchFlashDecodeMergeKernel, batchFlashDecodePartialKernel,
  batchKvCacheWriteKernel, BATCH_KV_WRITE_WG,
} from "../../../../runtime/kernels/attention/batch-decode.js";
import { DECODE_CHUNK } from "../../../../runtime/kernels/attention/flash-decode.js";
import { groupStepState } from "../../../../runtime/kernels/attention/group-decode.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../../helpers/gpu-context.js";
import { rng } from "../../../helpers/random.js";
import { dispatch, readFloats } from "./kernel-harness.js";

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

const H = 2, KV = 1, HD = 8;
const ROW = 2 * KV * HD;
const QW = H * HD;
const CONTEXT = 80;

/** Deterministic [k | v] values of cache row r. */
function kvRow(r: number): Float32Array {
  const g = rng(31 * r + 5);
  return Float32Array.from({ length: ROW }, () => g() * 2 - 1);
}

/** Float64 attention of query q (row b of qs) over exactly the cache rows `rows`. */
function reference(qs: Float32Array, b: number, rows: readonly number[]): Float64Array {
  const out = new Float64Array(QW);
  for (let h = 0; h < H; h++) {
    const scores = rows.map((r) => {
      let d0 = 0;
      for (let d = 0; d < HD; d++) d0 += qs[b * QW + h * HD + d]! * kvRow(r)[d]!;
      return d0 / Math.sqrt(HD);
    });
    const m = Math.max(...scores);
    const e = scores.map((x) => Math.exp(x - m));
    const sum = e.reduce((a, x) => a + x, 0);
    for (let d = 0; d < HD; d++) out[h * HD + d] = rows.reduce((a, r, i) => a + e[i]! * kvRow(r)[KV * HD + d]!, 0) / sum;
  }
  return out;
}

interface Case {
  P: number;
  N: number;
  /** Per step k (0…K): each thread's `seen` count at that step. */
  seen: number[][];
  window: number;
  /** At the last step, per thread: the cache rows its query reads (hand-built). */
  reads: number[][];
}

/** Writes the prompt rows, then each step's N rows through the kernel, and attends at the last step. */
async function runCase(c: Case): Promise<void> {
  const { device } = gpu;
  const { P, N } = c;
  const maxChunks = Math.ceil(CONTEXT / DECODE_CHUNK);
  const run = uniformBuffer(device, [N, 0, 0, 0], "test.run");
  const pos = createBuffer(device, N * 4, STORAGE_USAGE(), "test.pos");
  const grp = createBuffer(device, (3 + N) * 4, STORAGE_USAGE(), "test.grp");
  const src = createBuffer(device, N * ROW * 4, STORAGE_USAGE(), "test.src");
  const cache = createBuffer(device, CONTEXT * ROW * 4, STORAGE_USAGE(), "test.cache");
  const q = createBuffer(device, N * QW * 4, STORAGE_USAGE(), "test.q");
  const part = createBuffer(device, batchDecodePartialSize(N, H, maxChunks, HD) * 4, STORAGE_USAGE(), "test.part");
  const out = createBuffer(device, N * QW * 4, STORAGE_USAGE(), "test.out");
  const write = batchKvCacheWriteKernel("f32", "f32", true);
  const partial = batchFlashDecodePartialKernel({ dtype: "f32", kvDtype: "f32", QD: HD, VD: HD, shared: true });
  const merge = batchFlashDecodeMergeKernel({ dtype: "f32", VD: HD, shared: true });
  try {
    const prompt = new Float32Array(CONTEXT * ROW);
    for (let r = 0; r < P; r++) prompt.set(kvRow(r), r * ROW);
    device.queue.writeBuffer(cache, 0, prompt);
    const K = c.seen.length - 1;
    for (let k = 0; k <= K; k++) {
      device.queue.writeBuffer(grp, 0, groupStepState(P, N, k, c.seen[k]!));
      device.queue.writeBuffer(pos, 0, Uint32Array.from({ length: N }, () => P + k));
      // The values the kernel must place at row P + k·N + n.
      const rows = new Float32Array(N * ROW);
      for (let n = 0; n < N; n++) rows.set(kvRow(P + k * N + n), n * ROW);
      device.queue.writeBuffer(src, 0, rows);
      await dispatch(gpu, write, write.params({ src_ld: ROW, src_off: 0, dst_ld: ROW, dst_off: 0, n: ROW, ring: CONTEXT }), { pos, grp, src, cache }, run, Math.ceil((N * ROW) / BATCH_KV_WRITE_WG));
    }
    const qv = Float32Array.from({ length: N * QW }, rng(99));
    device.queue.writeBuffer(q, 0, qv);
    const layout = { H, KV, qLd: QW, qOff: 0, qHs: HD, cLd: ROW, kOff: 0, kHs: HD, vOff: KV * HD, vHs: HD, ring: CONTEXT, window: c.window, maxChunks, scale: 1 / Math.sqrt(HD) };
    await dispatch(gpu, partial, partial.params(batchDecodePartialParams(layout)), { pos, grp, q, cache, part }, run, N * H * maxChunks);
    await dispatch(gpu, merge, merge.params({ H, window: c.window, max_chunks: maxChunks, o_ld: QW, o_off: 0, o_hs: HD }), { pos, grp, part, out }, run, N * H);
    const got = await readFloats(gpu, out, N * QW);
    for (let n = 0; n < N; n++) {
      const want = reference(qv, n, c.reads[n]!);
      for (let i = 0; i < QW; i++) expect(Math.abs(got[n * QW + i]! - want[i]!), `thread ${n} at step ${K}, element ${i}`).toBeLessThan(1e-5);
    }
  } finally {
    for (const b of [run, pos, grp, src, cache, q, part, out]) b.destroy();
  }
}

describeGpu("Group Think decode attention (shared cache, §11.2 mask)", () => {
  itGpu("every thread reads the prompt, all threads' earlier steps and its own row; a stopped thread's tokens stay visible, its later rows are not", async () => {
    // P = 2, N = 2. Rows: 0 1 prompt | 2 3 step 0 | 4 5 step 1 | 6 7 step 2. Thread 1 stopped
    // after one token (its step-0 row 3): rows 5 and 7 hold nothing another thread may read.
    await runCase({
      P: 2, N: 2, window: 0, seen: [[0, 0], [1, 1], [2, 1]],
      reads: [[0, 1, 2, 3, 4, 6], [0, 1, 2, 3, 4, 7]],
    });
    // Both running at step 1: each reads step 0 of both and only its own step-1 row.
    await runCase({ P: 2, N: 2, window: 0, seen: [[0, 0], [1, 1]], reads: [[0, 1, 2, 3, 4], [0, 1, 2, 3, 5]] });
  }, 120_000);

  itGpu("a sliding window counts positions (P + k), not cache rows", async () => {
    // Window 2 at step 2 (query position 4): positions 3 and 4 only, i.e. step 1's rows 4, 5 and its own step-2 row.
    await runCase({ P: 2, N: 2, window: 2, seen: [[0, 0], [1, 1], [2, 2]], reads: [[4, 5, 6], [4, 5, 7]] });
  }, 120_000);

  itGpu("three threads past one 64-row chunk", async () => {
    // P = 60, N = 3, step 3 (rows up to 71): thread 2 stopped after 2 tokens (rows 62, 65).
    const prompt = Array.from({ length: 60 }, (_, s) => s);
    const earlier = [60, 61, 62, 63, 64, 65, 66, 67]; // steps 0, 1 (all three) and step 2 of threads 0, 1 (row 68 is thread 2's, stopped)
    await runCase({
      P: 60, N: 3, window: 0, seen: [[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 2]],
      reads: [[...prompt, ...earlier, 69], [...prompt, ...earlier, 70], [...prompt, ...earlier, 71]],
    });
  }, 120_000);
});
