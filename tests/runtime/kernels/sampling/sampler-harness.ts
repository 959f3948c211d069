// Runs the GPU sampler on host data for the sampler tests: uploads logits [B, V] and seen masks,
// records `steps` sampler steps (one submit each, as the decode loop does), and reads back the
// ids of every step, the done flags and the final seen masks.

import { createBuffer, STORAGE_USAGE } from "../../../../runtime/gpu/buffers.js";
import type { GpuContext } from "../../../../runtime/gpu/device.js";
import { GpuSampler, type SamplerConfig } from "../../../../runtime/kernels/sampling/gpu-sampler.js";
import { seenMask, seenWordsPerRow } from "../../../../runtime/kernels/sampling/seen-mask.js";

export interface SamplerRun {
  /** ids[s][b]: row b's token at step s. */
  ids: Int32Array[];
  done: Uint32Array;
  seen: Uint32Array;
}

async function readBack(gpu: GpuContext, src: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const staging = gpu.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = gpu.device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, staging, 0, bytes);
  gpu.device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return out;
}

export async function runSampler(
  gpu: GpuContext,
  logits: Float32Array,
  vocab: number,
  config: SamplerConfig,
  opts: { prompts?: number[][]; steps?: number; firstStep?: number; outOffset?: number; idsElements?: number; logitsStride?: number } = {},
): Promise<SamplerRun> {
  const { device } = gpu;
  const rows = logits.length / (opts.logitsStride ?? vocab);
  const steps = opts.steps ?? 1;
  const logitsBuf = createBuffer(device, logits.byteLength, STORAGE_USAGE(), "test.logits");
  device.queue.writeBuffer(logitsBuf, 0, logits);
  const seen = createBuffer(device, rows * seenWordsPerRow(vocab) * 4, STORAGE_USAGE(), "test.seen");
  device.queue.writeBuffer(seen, 0, seenMask(vocab, opts.prompts ?? Array.from({ length: rows }, () => [])));
  const stride = config.idsStride ?? 1;
  const idsElements = opts.idsElements ?? (opts.outOffset ?? 0) + rows * stride;
  const ids = createBuffer(device, idsElements * 4, STORAGE_USAGE(), "test.ids");
  device.queue.writeBuffer(ids, 0, new Int32Array(idsElements).fill(-7));
  const done = createBuffer(device, rows * 4, STORAGE_USAGE(), "test.done");
  const sampler = await GpuSampler.create(gpu, { rows, vocab, ...(opts.logitsStride ? { logitsStride: opts.logitsStride } : {}) }, config, { logits: logitsBuf, seen, ids, done });
  const out: Int32Array[] = [];
  try {
    for (let s = 0; s < steps; s++) {
      sampler.setStep((opts.firstStep ?? 0) + s, opts.outOffset ?? 0);
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      sampler.encode(pass);
      pass.end();
      device.queue.submit([enc.finish()]);
      out.push(new Int32Array(await readBack(gpu, ids, idsElements * 4)));
    }
    return {
      ids: out,
      done: new Uint32Array(await readBack(gpu, done, rows * 4)),
      seen: new Uint32Array(await readBack(gpu, seen, rows * seenWordsPerRow(vocab) * 4)),
    };
  } finally {
    sampler.dispose();
    for (const b of [logitsBuf, seen, ids, done]) b.destroy();
  }
}
