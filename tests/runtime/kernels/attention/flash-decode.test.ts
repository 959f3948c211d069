// One-sequence flash-decoding (partials per group of query heads and chunk, then the merge)
// against a float64 attention over the cached positions: GQA groups computed together (2, 3 and
// 1 heads per workgroup), vec4 key loads (head size a multiple of 4) and scalar ones (6), a query
// across three 64-position chunks, a sliding window whose ring wraps, and an f16 cache.
import { afterAll, expect } from "vitest";
import { createBuffer, STORAGE_USAGE, uniformBuffer } from "../../../../runtime/gpu/buffers.js";
import type { GpuContext } from "../../../../runtime/gpu/device.js";
import { toF16, fromF16 } from "../../../../runtime/gpu/f16.js";
import {
  decodeChunks, decodeHeadsPerWorkgroup, decodePartialParams, decodeVec4, DECODE_CHUNK, flashDecodeMergeKernel, flashDecodePartialKernel,
} from "../../../../runtime/kernels/attention/flash-decode.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../../helpers/gpu-context.js";
import { rng } from "../../../helpers/random.js";
import { dispatch, readFloats } from "./kernel-harness.js";

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

interface Case {
  H: number;
  KV: number;
  HD: number;
  pos: number;
  window?: number;
  kv?: "f32" | "f16";
}

/** Float64 attention of every head's query over positions [lo, pos] (GQA h → h / (H / KV), scale 1/√HD). */
function reference(c: Case, q: Float32Array, row: (s: number) => Float32Array): Float64Array {
  const { H, KV, HD, pos } = c;
  const window = c.window ?? 0;
  const lo = window > 0 && pos + 1 > window ? pos + 1 - window : 0;
  const out = new Float64Array(H * HD);
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / (H / KV));
    const scores: number[] = [];
    for (let s = lo; s <= pos; s++) {
      let dot = 0;
      for (let d = 0; d < HD; d++) dot += q[h * HD + d]! * row(s)[g * HD + d]!;
      scores.push(dot / Math.sqrt(HD));
    }
    const m = Math.max(...scores);
    const e = scores.map((x) => Math.exp(x - m));
    const sum = e.reduce((a, x) => a + x, 0);
    for (let d = 0; d < HD; d++) {
      let acc = 0;
      for (let s = lo; s <= pos; s++) acc += e[s - lo]! * row(s)[KV * HD + g * HD + d]!;
      out[h * HD + d] = acc / sum;
    }
  }
  return out;
}

async function check(c: Case, seed: number): Promise<{ heads: number; vec4: boolean }> {
  const { device } = gpu;
  const { H, KV, HD, pos } = c;
  const window = c.window ?? 0;
  const kvDtype = c.kv ?? "f32";
  const ROW = 2 * KV * HD; // [k | v] per cached row
  const ring = window > 0 ? window : pos + 1;
  const maxChunks = Math.ceil(ring / DECODE_CHUNK);
  const r = rng(seed);
  // Position s sits at row s mod ring; the values each position holds, as the cache stores them.
  const rows = new Map<number, Float32Array>();
  const stored = (a: Float32Array) => (kvDtype === "f16" ? fromF16(toF16(a)) : a);
  const cacheData = new Float32Array(ring * ROW);
  for (let s = 0; s <= pos; s++) {
    const v = stored(Float32Array.from({ length: ROW }, () => r() * 2 - 1));
    rows.set(s, v);
    cacheData.set(v, (s % ring) * ROW);
  }
  const qv = Float32Array.from({ length: H * HD }, () => r() * 2 - 1);
  const bytes = kvDtype === "f16" ? toF16(cacheData) : cacheData;
  const cache = createBuffer(device, Math.max(16, Math.ceil(bytes.byteLength / 16) * 16), STORAGE_USAGE(), "test.cache");
  device.queue.writeBuffer(cache, 0, bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = createBuffer(device, H * HD * 4, STORAGE_USAGE(), "test.q");
  device.queue.writeBuffer(q, 0, qv);
  const part = createBuffer(device, H * maxChunks * (HD + 2) * 4, STORAGE_USAGE(), "test.part");
  const out = createBuffer(device, H * HD * 4, STORAGE_USAGE(), "test.out");
  const run = uniformBuffer(device, [1, pos, 0, 0], "test.run");
  try {
    const layout = { H, KV, qOff: 0, qHs: HD, cLd: ROW, kOff: 0, kHs: HD, vOff: KV * HD, vHs: HD, ring, window, maxChunks, scale: 1 / Math.sqrt(HD) };
    const heads = decodeHeadsPerWorkgroup(H / KV, HD);
    const vec4 = decodeVec4({ ...layout, QD: HD });
    const partial = flashDecodePartialKernel({ dtype: "f32", kvDtype, QD: HD, VD: HD, heads, vec4 });
    const merge = flashDecodeMergeKernel({ dtype: "f32", VD: HD });
    await dispatch(gpu, partial, partial.params(decodePartialParams(layout)), { q, cache, part }, run, (H / heads) * decodeChunks(pos, window));
    await dispatch(gpu, merge, merge.params({ window, max_chunks: maxChunks, o_off: 0, o_hs: HD }), { part, out }, run, H);
    const got = await readFloats(gpu, out, H * HD);
    const want = reference(c, qv, (s) => rows.get(s)!);
    for (let i = 0; i < H * HD; i++) expect(Math.abs(got[i]! - want[i]!), `${JSON.stringify(c)} element ${i}`).toBeLessThan(1e-5);
    return { heads, vec4 };
  } finally {
    for (const b of [cache, q, part, out, run]) b.destroy();
  }
}

describeGpu("flash-decoding of one sequence", () => {
  itGpu("GQA groups per workgroup, vec4 and scalar keys, three chunks, a wrapping window: |Δ| < 1e-5 of float64", async () => {
    // Two query heads per kv head, computed together with vec4 keys; positions 0, 63, 64 and 130.
    for (const pos of [0, 63, 64, 130]) expect(await check({ H: 4, KV: 2, HD: 8, pos }, pos + 1)).toEqual({ heads: 2, vec4: true });
    // A window of 8 over 70 positions: the ring wrapped eight times.
    await check({ H: 4, KV: 2, HD: 8, pos: 69, window: 8 }, 11);
    // Three heads over one kv head (MQA) with a head size of 6: scalar keys, all three in one workgroup.
    expect(await check({ H: 3, KV: 1, HD: 6, pos: 70 }, 12)).toEqual({ heads: 3, vec4: false });
    // No grouping (MHA).
    expect(await check({ H: 2, KV: 2, HD: 4, pos: 5 }, 13)).toEqual({ heads: 1, vec4: true });
  });

  itGpu("an f16 cache, read as vec4<f16> words", async () => {
    if (!gpu.features.f16) return;
    await check({ H: 4, KV: 2, HD: 8, pos: 66, kv: "f16" }, 14);
  });

  itGpu("heads per workgroup: the largest divisor of the group up to 4 whose queries fit 9 KiB", () => {
    expect([1, 2, 3, 4, 5, 6, 8, 16].map((g) => decodeHeadsPerWorkgroup(g, 128))).toEqual([1, 2, 3, 4, 1, 3, 4, 4]);
    // MLA's absorbed query (Rkv + Dr = 576 per head): 4 heads are 2,304 floats, 5 would not divide 128 anyway.
    expect(decodeHeadsPerWorkgroup(128, 576)).toBe(4);
    expect(decodeHeadsPerWorkgroup(8, 1024)).toBe(2);
  });
});
