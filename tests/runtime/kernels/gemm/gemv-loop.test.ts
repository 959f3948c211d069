// The few-row (`gemv`) loop of the GEMM generator against float64 products computed here: one
// row and a few, rows not a multiple of the row group, K not a multiple of 4 (scalar loads) and a
// multiple (vec4 loads), one lane and several per column, weight chunks [g0, g1) with offsets,
// a column span of a wider A, bias and residual epilogues, SwiGLU's gated up projection, the
// shared pool's expert-concatenated down projection, f16 storage where the adapter has it, and the
// register tile over transposed [K, N] weights (kn-loop.ts).

import { afterAll, expect } from "vitest";
import { type StorageDtype, uniformBuffer } from "../../../../runtime/gpu/buffers.js";
import type { GpuContext } from "../../../../runtime/gpu/device.js";
import { fromF16, toF16 } from "../../../../runtime/gpu/f16.js";
import type { GemmKernel } from "../../../../runtime/kernels/gemm/gemm-kernel.js";
import { ffnDownKernel, ffnDownParams, ffnUpKernel, ffnUpParams } from "../../../../runtime/kernels/gemm/ffn-gemms.js";
import type { GemvShape } from "../../../../runtime/kernels/gemm/gemv-loop.js";
import { denseGrid, linearKernel, linearParams } from "../../../../runtime/kernels/gemm/linear-gemm.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../../helpers/gpu-context.js";
import { expectClose } from "../../../helpers/numerics.js";
import { normals, rng } from "../../../helpers/random.js";

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

const gemv = (rows: number, lanes: number, cols: number, vec4: boolean): GemvShape => ({ kind: "gemv", rows, lanes, cols, vec4 });

/** Runs one dispatch of `kernel` over T rows; returns buffer `read` as f32. */
async function dispatch(kernel: GemmKernel, values: Record<string, number>, data: Record<string, Float32Array>, read: string, T: number, ntn: number, shape: GemvShape | undefined, dtype: StorageDtype): Promise<Float32Array> {
  const { device } = gpu;
  const owned: GPUBuffer[] = [];
  const buf = (a: Float32Array) => {
    const bytes = dtype === "f16" ? toF16(a) : a;
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(bytes.byteLength / 16) * 16), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    device.queue.writeBuffer(b, 0, bytes.buffer, bytes.byteOffset, bytes.byteLength);
    owned.push(b);
    return b;
  };
  try {
    const res: Record<string, GPUBuffer> = { run: uniformBuffer(device, [T, 0, 0, 0], "run"), params: uniformBuffer(device, kernel.params(values), "params") };
    owned.push(res["run"]!, res["params"]!);
    for (const [name, a] of Object.entries(data)) res[name] = buf(a);
    const { pipeline, layout } = await gpu.pipelines.get(kernel.spec);
    const bindGroup = device.createBindGroup({ layout, entries: kernel.spec.bindings.map((b, i) => ({ binding: i, resource: { buffer: res[b.name]! } })) });
    const n = data[read]!.length;
    const bytes = Math.ceil((n * (dtype === "f16" ? 2 : 4)) / 4) * 4;
    const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    owned.push(staging);
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...denseGrid(ntn, shape, gpu.limits.maxComputeWorkgroupsPerDimension)(T));
    pass.end();
    enc.copyBufferToBuffer(res[read]!, 0, staging, 0, bytes);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const raw = staging.getMappedRange().slice(0);
    staging.unmap();
    return dtype === "f16" ? fromF16(new Uint16Array(raw, 0, n)) : new Float32Array(raw, 0, n);
  } finally {
    for (const b of owned) b.destroy();
  }
}

/** f16 storage rounds inputs; the reference reads the same rounded values. */
const stored = (a: Float32Array, dtype: StorageDtype) => (dtype === "f16" ? fromF16(toF16(a)) : a);

interface LinearCase {
  T: number;
  N: number;
  K: number;
  shape: GemvShape;
  dtype?: StorageDtype;
  /** A is the K columns at aOff of rows of lda; W a chunk holding rows [g0, g1) at wOff; out rows of ld from outOff. */
  lda?: number;
  aOff?: number;
  g0?: number;
  g1?: number;
  wOff?: number;
  ld?: number;
  outOff?: number;
  bias?: boolean;
  residual?: boolean;
}

async function checkLinear(c: LinearCase, seed: number): Promise<void> {
  const dtype = c.dtype ?? "f32";
  const r = rng(seed);
  const lda = c.lda ?? c.K;
  const aOff = c.aOff ?? 0;
  const g0 = c.g0 ?? 0;
  const g1 = c.g1 ?? c.N;
  const wOff = c.wOff ?? 0;
  const ld = c.ld ?? c.N;
  const outOff = c.outOff ?? 0;
  const a = stored(normals(r, c.T * lda), dtype);
  const w = stored(normals(r, wOff + (g1 - g0) * c.K), dtype);
  const bias = stored(normals(r, c.N), dtype);
  const res = stored(normals(r, c.T * ld), dtype);
  const out0 = stored(normals(r, c.T * ld), dtype); // what the output held: columns outside the chunk keep it
  const p = linearParams({ rows: 0, N: c.N, K: c.K, g0, g1, wOff, bias: c.bias ?? false, ld, outOff, lda, aOff, shape: c.shape, ...(c.residual !== undefined ? { residual: c.residual } : {}) });
  // A `kn` shape reads the chunk transposed, [K, g1 − g0] (what WeightStore.transposedChunks uploads).
  const n = g1 - g0;
  const wKN = new Float32Array(c.K * n);
  for (let col = 0; col < n; col++) for (let k = 0; k < c.K; k++) wKN[k * n + col] = w[wOff + col * c.K + k]!;
  const data: Record<string, Float32Array> = { a, weight: c.shape.layout === "kn" ? wKN : w, b: bias, out: out0.slice() };
  if (c.residual !== undefined) data["res"] = res;
  const got = await dispatch(linearKernel(dtype, c.residual !== undefined, c.shape), p.values, data, "out", c.T, p.ntn, c.shape, dtype);
  const want = Float64Array.from(out0);
  for (let t = 0; t < c.T; t++) {
    for (let n = g0; n < g1; n++) {
      let s = 0;
      for (let k = 0; k < c.K; k++) s += a[t * lda + aOff + k]! * w[wOff + (n - g0) * c.K + k]!;
      if (c.bias) s += bias[n]!;
      if (c.residual) s += res[t * ld + outOff + n]!;
      want[t * ld + outOff + n] = s;
    }
  }
  const tol = dtype === "f16" ? 2e-2 : 2e-5;
  expectClose(got, want, tol, tol, `linear T=${c.T} N=${c.N} K=${c.K} ${JSON.stringify(c.shape)} ${dtype}`);
}

describeGpu("the gemv loop (few-row GEMMs) vs float64", () => {
  itGpu("linear: one row and several, scalar and vec4 loads, one lane and several, chunks, spans, bias and residual", async () => {
    // vec4, the CPU default shape: one row, N not a multiple of the 32-column block.
    await checkLinear({ T: 1, N: 100, K: 64, shape: gemv(1, 4, 2, true), bias: true }, 1);
    // Rows: 3 of a 4-row group, and 7 rows over two groups (the second partial).
    await checkLinear({ T: 3, N: 37, K: 48, shape: gemv(4, 4, 2, true) }, 2);
    await checkLinear({ T: 7, N: 37, K: 48, shape: gemv(4, 4, 2, true), bias: true }, 3);
    // Scalar loads (K = 33), one lane per column with four columns, and 16 lanes with one.
    await checkLinear({ T: 2, N: 21, K: 33, shape: gemv(2, 1, 4, false), bias: true }, 4);
    await checkLinear({ T: 1, N: 9, K: 70, shape: gemv(1, 16, 1, false) }, 5);
    // A weight chunk [g0, g1) at an offset, A as a column span of a wider row, written into a wider output, plus a residual.
    await checkLinear({ T: 2, N: 50, K: 32, g0: 16, g1: 41, wOff: 8, lda: 44, aOff: 12, ld: 60, outOff: 4, shape: gemv(2, 4, 2, true), residual: true }, 6);
    // The residual variant with its flag off adds nothing.
    await checkLinear({ T: 1, N: 24, K: 32, shape: gemv(1, 4, 2, true), residual: false }, 7);
  });

  itGpu("linear over [K, N] weights (kn-loop.ts): 1, 3 and 37 rows, N not a multiple of the tile, chunks, spans, bias and residual", async () => {
    const kn = (rows: number, cols: number): GemvShape => ({ kind: "gemv", rows, lanes: 1, cols, vec4: true, layout: "kn" });
    await checkLinear({ T: 1, N: 100, K: 64, shape: kn(1, 2), bias: true }, 11);
    await checkLinear({ T: 3, N: 36, K: 12, shape: kn(4, 2) }, 12);
    // 37 rows over 8-row groups (the last partial), 2 column tiles of 512 with the second partial.
    await checkLinear({ T: 37, N: 548, K: 20, shape: kn(8, 2), bias: true }, 13);
    await checkLinear({ T: 5, N: 44, K: 8, shape: kn(8, 1) }, 14);
    // A chunk [g0, g1) of 4-column multiples, A a column span of a wider row, a wider output, a residual.
    await checkLinear({ T: 9, N: 64, K: 16, g0: 12, g1: 40, lda: 28, aOff: 8, ld: 72, outOff: 4, shape: kn(8, 2), residual: true }, 15);
    await checkLinear({ T: 2, N: 24, K: 32, shape: kn(2, 4), residual: false }, 16);
  });

  itGpu("f16 storage, vec4 loads (f32 accumulation)", async () => {
    if (!gpu.features.f16) return;
    await checkLinear({ T: 1, N: 70, K: 64, shape: gemv(1, 4, 2, true), dtype: "f16", bias: true }, 8);
    await checkLinear({ T: 10, N: 72, K: 64, shape: { kind: "gemv", rows: 8, lanes: 1, cols: 2, vec4: true, layout: "kn" }, dtype: "f16", bias: true }, 17);
  });

  itGpu("a shared pool's gated up projection and expert-concatenated down projection, in weight chunks", async () => {
    const r = rng(9);
    const T = 2, D = 16, I = 8, N = 3;
    const shape = gemv(2, 4, 2, true);
    const x = normals(r, T * D);
    const wUp = normals(r, N * I * D);
    const wGate = normals(r, N * I * D);
    const silu = (v: number) => v / (1 + Math.exp(-v));
    // Up: h [T, N·I] = silu(x·W_gateᵀ) ⊙ (x·W_upᵀ), the [N·I, D] matrix bound as two chunks.
    const h = new Float32Array(T * N * I);
    const split = 13;
    for (const [g0, g1] of [[0, split], [split, N * I]] as const) {
      const p = ffnUpParams({ D, I, N, maxK: 1, mode: "dense", chunk: { g0, g1 }, act: "swiglu", bias: false, shape });
      const data = { x, w_up: wUp.slice(g0 * D, g1 * D), w_gate: wGate.slice(g0 * D, g1 * D), b_up: new Float32Array(4), b_gate: new Float32Array(4), h: h.slice() };
      const got = await dispatch(ffnUpKernel({ dtype: "f32", gated: true, mode: "dense", shape }), p.values, data, "h", T, p.ntn, shape, "f32");
      for (let t = 0; t < T; t++) for (let col = g0; col < g1; col++) h[t * N * I + col] = got[t * N * I + col]!;
    }
    const hRef = new Float64Array(T * N * I);
    for (let t = 0; t < T; t++) {
      for (let col = 0; col < N * I; col++) {
        let u = 0, g = 0;
        for (let k = 0; k < D; k++) {
          u += x[t * D + k]! * wUp[col * D + k]!;
          g += x[t * D + k]! * wGate[col * D + k]!;
        }
        hRef[t * N * I + col] = silu(g) * u;
      }
    }
    expectClose(h, hRef, 2e-5, 2e-5, "dense gated up");

    // Down: out [T, D] = Σ_e h_e · W_down,eᵀ, W_down [N·D, I] bound as two chunks (the second accumulates).
    const wDown = normals(r, N * D * I);
    let out = new Float32Array(T * D);
    const cut = 20; // inside expert 1's rows [16, 32)
    for (const [c, [g0, g1]] of ([[0, cut], [cut, N * D]] as const).entries()) {
      const p = ffnDownParams({ D, I, N, mode: "dense", chunk: { g0, g1 }, first: c === 0, bias: false, shape });
      const data = { h, w_down: wDown.slice(g0 * I, g1 * I), b_down_sum: new Float32Array(4), out };
      out = await dispatch(ffnDownKernel({ dtype: "f32", mode: "dense", shape }), p.values, data, "out", T, p.ntn, shape, "f32");
    }
    const outRef = new Float64Array(T * D);
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let e = 0; e < N; e++) for (let i = 0; i < I; i++) s += h[t * N * I + e * I + i]! * wDown[(e * D + d) * I + i]!;
        outRef[t * D + d] = s;
      }
    }
    expectClose(out, outRef, 2e-5, 2e-5, "dense down over expert-concat chunks");
  });

  itGpu("rejects a shape the loop cannot take (named internal errors)", () => {
    expect(() => linearKernel("f32", false, gemv(9, 4, 2, true))).toThrow(/rows 9 outside 1…8/);
    expect(() => linearKernel("f32", false, gemv(1, 3, 2, true))).toThrow(/lanes 3/);
    expect(() => linearKernel("f32", false, gemv(1, 4, 5, true))).toThrow(/cols 5/);
    expect(() => linearKernel("f32", false, { ...gemv(8, 2, 2, true), layout: "kn" })).toThrow(/one lane and vec4 loads/);
    expect(() => linearKernel("f32", false, { ...gemv(8, 1, 2, false), layout: "kn" })).toThrow(/one lane and vec4 loads/);
    expect(() => linearParams({ rows: 0, N: 16, K: 8, wOff: 8, bias: false, shape: { ...gemv(8, 1, 2, true), layout: "kn" } })).toThrow(/own chunk buffer/);
    expect(() => linearParams({ rows: 0, N: 18, K: 8, bias: false, shape: { ...gemv(8, 1, 2, true), layout: "kn" } })).toThrow(/multiple of 4 columns/);
  });
});
