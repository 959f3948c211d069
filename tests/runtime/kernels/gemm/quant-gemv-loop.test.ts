// The fused-dequantization loop of the GEMM generator (quant-gemv-loop.ts) against float64
// products on the dequantized weights: the weights are ggml blocks (hand-packed with known values,
// or from ggml's reference encoders) or FP8 rows (the upload's encoder), the reference reads them
// through the CPU decoders of weights/quant/ (decodeQ8_0, decodeQ4_0), the hand-derived values or
// (FP8) the format's definition in tests/helpers/quant-packers.ts times the row scale, never
// through the shader's decode. Cases: one row, a few rows (the few-row shape, CPU and GPU lane counts), more than 8 rows
// (the register tile), a weight chunk [g0, g1), a column span of a wider A, bias and residual.

import { afterAll, describe, expect, it } from "vitest";
import { uniformBuffer } from "../../../../runtime/gpu/buffers.js";
import type { GpuContext } from "../../../../runtime/gpu/device.js";
import type { GemvShape } from "../../../../runtime/kernels/gemm/gemv-loop.js";
import { denseGrid, linearKernel, linearParams } from "../../../../runtime/kernels/gemm/linear-gemm.js";
import { type GpuBlocks, type GpuBlockFormat, quantizeForGpu, repackGgmlBlocks } from "../../../../runtime/weights/quant/gpu-blocks.js";
import { decodeQ4_0, encodeQ4_0 } from "../../../../runtime/weights/quant/q4_0.js";
import { decodeQ8_0, encodeQ8_0 } from "../../../../runtime/weights/quant/q8_0.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../../helpers/gpu-context.js";
import { expectClose } from "../../../helpers/numerics.js";
import { e4m3 } from "../../../helpers/quant-packers.js";
import { normals, rng } from "../../../helpers/random.js";

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

const gemv = (rows: number, lanes: number, cols: number): GemvShape => ({ kind: "gemv", rows, lanes, cols, vec4: true });

/** One dispatch over T rows; returns `out`. */
async function dispatch(format: GpuBlockFormat, residual: boolean, shape: GemvShape, values: Record<string, number>, data: Record<string, Float32Array | Uint32Array>, T: number, ntn: number): Promise<Float32Array> {
  const { device } = gpu;
  const kernel = linearKernel("f32", residual, shape, format);
  const owned: GPUBuffer[] = [];
  const buf = (a: Float32Array | Uint32Array) => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(a.byteLength / 16) * 16), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    device.queue.writeBuffer(b, 0, a.buffer, a.byteOffset, a.byteLength);
    owned.push(b);
    return b;
  };
  try {
    const res: Record<string, GPUBuffer> = { run: uniformBuffer(device, [T, 0, 0, 0], "run"), params: uniformBuffer(device, kernel.params(values), "params") };
    owned.push(res["run"]!, res["params"]!);
    for (const [name, a] of Object.entries(data)) res[name] = buf(a);
    const { pipeline, layout } = await gpu.pipelines.get(kernel.spec);
    const bindGroup = device.createBindGroup({ layout, entries: kernel.spec.bindings.map((b, i) => ({ binding: i, resource: { buffer: res[b.name]! } })) });
    const bytes = data["out"]!.byteLength;
    const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    owned.push(staging);
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...denseGrid(ntn, shape, gpu.limits.maxComputeWorkgroupsPerDimension)(T));
    pass.end();
    enc.copyBufferToBuffer(res["out"]!, 0, staging, 0, bytes);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const raw = staging.getMappedRange().slice(0);
    staging.unmap();
    return new Float32Array(raw);
  } finally {
    for (const b of owned) b.destroy();
  }
}

interface Case {
  format: GpuBlockFormat;
  T: number;
  N: number;
  K: number;
  shape: GemvShape;
  /** ggml blocks of the chunk's rows [g0, g1) and their values as the reference reads them. */
  blocks?: { bytes: Uint8Array; values: Float32Array };
  lda?: number;
  aOff?: number;
  g0?: number;
  g1?: number;
  bias?: boolean;
  residual?: boolean;
}

async function check(c: Case, seed: number): Promise<void> {
  const r = rng(seed);
  const lda = c.lda ?? c.K;
  const aOff = c.aOff ?? 0;
  const g0 = c.g0 ?? 0;
  const g1 = c.g1 ?? c.N;
  const rowsBound = g1 - g0;
  let blocks = c.blocks;
  let packed: GpuBlocks;
  if (c.format === "fp8_e4m3") {
    const w = normals(r, rowsBound * c.K);
    packed = quantizeForGpu("fp8_e4m3", w, rowsBound, c.K, "test.weight");
    const scales = new Float32Array(packed.scales.buffer);
    const values = Float32Array.from(w, (_, i) => e4m3((packed.values[i >> 2]! >>> (8 * (i & 3))) & 0xff) * scales[Math.floor(i / 128)]!);
    blocks = { bytes: new Uint8Array(0), values };
  } else {
    if (!blocks) {
      const w = normals(r, rowsBound * c.K);
      const bytes = c.format === "q8_0" ? encodeQ8_0(w) : encodeQ4_0(w);
      blocks = { bytes, values: c.format === "q8_0" ? decodeQ8_0(bytes, w.length) : decodeQ4_0(bytes, w.length) };
    }
    packed = repackGgmlBlocks(c.format, blocks.bytes, rowsBound, c.K, "test.weight");
  }
  const a = normals(r, c.T * lda);
  const bias = normals(r, c.N);
  const res = normals(r, c.T * c.N);
  const out0 = normals(r, c.T * c.N); // columns outside the chunk keep what the output held
  const p = linearParams({ rows: 0, N: c.N, K: c.K, g0, g1, bias: c.bias ?? false, lda, aOff, shape: c.shape, ...(c.residual !== undefined ? { residual: c.residual } : {}) });
  const data: Record<string, Float32Array | Uint32Array> = { a, weight: packed.values, weight_scale: packed.scales, b: bias, out: out0.slice() };
  if (c.residual !== undefined) data["res"] = res;
  const got = await dispatch(c.format, c.residual !== undefined, c.shape, p.values, data, c.T, p.ntn);
  const want = Float64Array.from(out0);
  for (let t = 0; t < c.T; t++) {
    for (let n = g0; n < g1; n++) {
      let s = 0;
      for (let k = 0; k < c.K; k++) s += a[t * lda + aOff + k]! * blocks.values[(n - g0) * c.K + k]!;
      if (c.bias) s += bias[n]!;
      if (c.residual) s += res[t * c.N + n]!;
      want[t * c.N + n] = s;
    }
  }
  expectClose(got, want, 2e-5, 2e-5, `${c.format} T=${c.T} N=${c.N} K=${c.K} ${JSON.stringify(c.shape)}`);
}

/** f16 bits of 0.5 and 0.25. */
const HALF = 0x3800;
const QUARTER = 0x3400;

/** Q4_0 blocks by hand: block b of `n` has d = 0.5 (even b) or 0.25 (odd b); byte j holds nibble
 *  (j + b) mod 16 low (element j) and 15 − j high (element j + 16), so element j is ((j + b) mod 16 − 8)·d
 *  and element j + 16 is (7 − j)·d. */
function handQ4_0(n: number): { bytes: Uint8Array; values: Float32Array } {
  const bytes = new Uint8Array(n * 18);
  const values = new Float32Array(n * 32);
  for (let b = 0; b < n; b++) {
    const d = b % 2 === 0 ? 0.5 : 0.25;
    const bits = b % 2 === 0 ? HALF : QUARTER;
    bytes[b * 18] = bits & 0xff;
    bytes[b * 18 + 1] = bits >> 8;
    for (let j = 0; j < 16; j++) {
      bytes[b * 18 + 2 + j] = ((j + b) % 16) | ((15 - j) << 4);
      values[b * 32 + j] = (((j + b) % 16) - 8) * d;
      values[b * 32 + j + 16] = (7 - j) * d;
    }
  }
  return { bytes, values };
}

/** Q8_0 blocks by hand: d = 0.25; element i of block b is q = (i·7 + b·13) mod 255 − 127 (every int8 from −127 to 127 occurs). */
function handQ8_0(n: number): { bytes: Uint8Array; values: Float32Array } {
  const bytes = new Uint8Array(n * 34);
  const values = new Float32Array(n * 32);
  for (let b = 0; b < n; b++) {
    bytes[b * 34] = QUARTER & 0xff;
    bytes[b * 34 + 1] = QUARTER >> 8;
    for (let i = 0; i < 32; i++) {
      const q = ((i * 7 + b * 13) % 255) - 127;
      bytes[b * 34 + 2 + i] = q & 0xff;
      values[b * 32 + i] = q * 0.25;
    }
  }
  return { bytes, values };
}

describeGpu("the fused-dequantization gemv loop (Q8_0, Q4_0) vs float64 on the dequantized weights", () => {
  itGpu("hand-packed blocks of known values, one row (a decode step's shape on a CPU adapter)", async () => {
    // N = 5 columns of K = 64 (two blocks per row): an odd column count leaves a thread's second column outside.
    await check({ format: "q8_0", T: 1, N: 5, K: 64, shape: gemv(1, 4, 2), blocks: handQ8_0(10), bias: true }, 1);
    await check({ format: "q4_0", T: 1, N: 5, K: 64, shape: gemv(1, 4, 2), blocks: handQ4_0(10), bias: true }, 2);
    // The CPU adapter's decode shape (gemm-shape.ts): 2 lanes × 4 columns.
    await check({ format: "q4_0", T: 1, N: 5, K: 64, shape: gemv(1, 2, 4), blocks: handQ4_0(10) }, 7);
  }, 180_000);

  itGpu("encoded random weights: a few rows, GPU lanes, a chunk of rows, a column span of A", async () => {
    // 3 rows on a 4-row group; the bound chunk holds rows [8, 40) of N = 48; A is the K columns at 4 of rows of 100.
    await check({ format: "q4_0", T: 3, N: 48, K: 96, shape: gemv(4, 16, 2), g0: 8, g1: 40, lda: 100, aOff: 4 }, 3);
    await check({ format: "q8_0", T: 3, N: 48, K: 96, shape: gemv(4, 16, 2), g0: 8, g1: 40, lda: 100, aOff: 4 }, 4);
  }, 180_000);

  // One pipeline per test: a cold lavapipe compile of the 8-row tile takes ~12 s.
  itGpu("Q8_0, more than 8 rows on the register tile, with the residual epilogue", async () => {
    await check({ format: "q8_0", T: 11, N: 40, K: 64, shape: gemv(8, 1, 4), residual: true }, 5);
  }, 180_000);
  itGpu("Q4_0, more than 8 rows on the register tile, with the residual epilogue", async () => {
    await check({ format: "q4_0", T: 11, N: 40, K: 64, shape: gemv(8, 1, 4), residual: true }, 6);
  }, 180_000);
});

describeGpu("the fused-dequantization gemv loop over FP8 E4M3 (128-blocks walked as quarters) vs float64 on the dequantized weights", () => {
  itGpu("a chunk of rows, GPU lanes, a column span of A; K = 384: three 128-blocks a row, lanes crossing blocks", async () => {
    await check({ format: "fp8_e4m3", T: 3, N: 48, K: 384, shape: gemv(4, 16, 2), g0: 8, g1: 40, lda: 400, aOff: 4, bias: true }, 8);
  }, 180_000);
  itGpu("one row on the CPU adapter's decode shape (2 lanes × 4 columns), an odd column count", async () => {
    await check({ format: "fp8_e4m3", T: 1, N: 5, K: 256, shape: gemv(1, 2, 4) }, 9);
  }, 180_000);
});

describe("the fused-dequantization design", () => {
  it("refuses a shape it cannot run (scalar loads), naming the kernel", () => {
    expect(() => linearKernel("f32", false, { kind: "gemv", rows: 1, lanes: 4, cols: 2, vec4: false }, "q8_0")).toThrow(/GEMM 'linear': q8_0 weights need a vec4 gemv shape/);
  });
});
