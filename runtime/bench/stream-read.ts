// The adapter's streaming bandwidth, measured the way a decode step is: a plain read kernel
// (kernels/stream-read-kernel.ts) over `bytes` of device memory, one command buffer and one
// 4-byte read-back per run, timed by wall clock from recording to the mapped result. The data is
// split into buffers no larger than the binding limit, one dispatch each, all in one compute pass.

import { createBuffer, STORAGE_USAGE, uniformBuffer } from "../gpu/buffers.js";
import type { GpuContext } from "../gpu/device.js";
import { STREAM_READ_WG, streamReadKernel, streamReadParams, streamReadWorkgroups } from "../kernels/stream-read-kernel.js";

/** The value every f32 of the read data holds: thread sums are then exact small integers. */
export const STREAM_READ_FILL = 1;

interface Part {
  nVec4: number;
  workgroups: number;
  bindGroup: GPUBindGroup;
  out: GPUBuffer;
}

export interface StreamReadRun {
  /** Wall-clock milliseconds: record, submit, wait, map. */
  ms: number;
  /** Thread 0's sum in the first buffer (4 × the vec4 words it read): proof the data was read. */
  firstSum: number;
}

export class StreamRead {
  private constructor(
    private readonly gpu: GpuContext,
    /** Bytes one run reads (the request rounded up to whole vec4 words). */
    readonly bytes: number,
    private readonly parts: Part[],
    private readonly pipeline: GPUComputePipeline,
    private readonly staging: GPUBuffer,
    private readonly owned: GPUBuffer[],
  ) {}

  /** Buffers the data is split into (one dispatch each). */
  get buffers(): number {
    return this.parts.length;
  }

  /** Workgroups of the first buffer's dispatch (the thread count decides thread 0's sum). */
  get firstWorkgroups(): number {
    return this.parts[0]!.workgroups;
  }

  static async create(gpu: GpuContext, bytes: number): Promise<StreamRead> {
    if (!Number.isFinite(bytes) || bytes < 16) throw new Error(`internal: StreamRead needs at least 16 bytes, got ${bytes}`);
    const { device } = gpu;
    const total = Math.ceil(bytes / 16) * 16;
    const maxPart = Math.floor(Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize) / 16) * 16;
    const kernel = streamReadKernel();
    const { pipeline, layout } = await gpu.pipelines.get(kernel.spec);
    const owned: GPUBuffer[] = [];
    const own = (b: GPUBuffer): GPUBuffer => (owned.push(b), b);
    const run = own(uniformBuffer(device, [0, 0, 0, 0], "stream_read.run"));
    // Written in pieces of at most 16 MiB, so the host never holds a copy of the whole data.
    const fill = new Float32Array(Math.min(total, 16 << 20) / 4).fill(STREAM_READ_FILL);
    const parts: Part[] = [];
    try {
      for (let offset = 0; offset < total; offset += maxPart) {
        const size = Math.min(maxPart, total - offset);
        const x = own(createBuffer(device, size, STORAGE_USAGE(), `stream_read.x${parts.length}`));
        for (let at = 0; at < size; at += fill.byteLength) device.queue.writeBuffer(x, at, fill.buffer, 0, Math.min(fill.byteLength, size - at));
        const nVec4 = size / 16;
        const workgroups = streamReadWorkgroups(nVec4);
        const out = own(createBuffer(device, workgroups * STREAM_READ_WG * 4, STORAGE_USAGE(), `stream_read.out${parts.length}`));
        const params = own(uniformBuffer(device, kernel.params(streamReadParams(nVec4)), `stream_read.params${parts.length}`));
        const resources: Record<string, GPUBuffer> = { run, params, x, out };
        const entries = kernel.spec.bindings.map((b, i) => ({ binding: i, resource: { buffer: resources[b.name]! } }));
        parts.push({ nVec4, workgroups, out, bindGroup: device.createBindGroup({ label: kernel.spec.name, layout, entries }) });
      }
      const staging = own(device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: "stream_read.staging" }));
      return new StreamRead(gpu, total, parts, pipeline, staging, owned);
    } catch (e) {
      for (const b of owned) b.destroy();
      throw e;
    }
  }

  async run(): Promise<StreamReadRun> {
    const { device } = this.gpu;
    const t0 = performance.now();
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.pipeline);
    for (const part of this.parts) {
      pass.setBindGroup(0, part.bindGroup);
      pass.dispatchWorkgroups(part.workgroups);
    }
    pass.end();
    encoder.copyBufferToBuffer(this.parts[0]!.out, 0, this.staging, 0, 4);
    device.queue.submit([encoder.finish()]);
    await this.staging.mapAsync(GPUMapMode.READ);
    const firstSum = new Float32Array(this.staging.getMappedRange().slice(0))[0]!;
    this.staging.unmap();
    return { ms: performance.now() - t0, firstSum };
  }

  dispose(): void {
    for (const b of this.owned) b.destroy();
  }
}
