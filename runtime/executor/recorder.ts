// Records one run: one command encoder and one compute pass for as long as nothing needs the
// CPU; counts dispatches (per op), command buffers and read-backs; optional timestamps per pass.
// `sync` (used only by the unfused baseline) ends the command buffer, reads buffers back and
// starts a new one; `finish` does the run's single output read-back.

import type { OpDispatches, RunInfo } from "./types.js";

export interface ReadRequest {
  buffer: GPUBuffer;
  bytes: number;
}

const MAX_PASSES = 512;

export class Recorder {
  private encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | null = null;
  private readonly querySet: GPUQuerySet | null;
  private passes = 0;
  private currentOp: OpDispatches | null = null;
  readonly info: RunInfo;

  /** Per pass (with per-dispatch profiling): the kernel and op it ran. */
  private readonly passKernels: { kernel: string; op: number }[] = [];

  constructor(
    private readonly device: GPUDevice,
    tokens: number,
    private readonly profile: boolean | "dispatch",
  ) {
    this.encoder = device.createCommandEncoder();
    this.querySet = profile ? device.createQuerySet({ type: "timestamp", count: 2 * MAX_PASSES }) : null;
    this.info = { tokens, dispatches: 0, dispatchesPerOp: [], commandBuffers: 0, readbacks: 0 };
  }

  beginOp(op: number, kind: string, name: string): void {
    this.currentOp = { op, kind, name, dispatches: 0 };
    this.info.dispatchesPerOp.push(this.currentOp);
  }

  private ensurePass(): GPUComputePassEncoder {
    if (!this.pass) {
      if (this.querySet && this.passes >= MAX_PASSES) throw new Error(`profiling supports at most ${MAX_PASSES} compute passes per run`);
      this.pass = this.encoder.beginComputePass(
        this.querySet
          ? { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * this.passes, endOfPassWriteIndex: 2 * this.passes + 1 } }
          : {},
      );
      this.passes++;
    }
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  dispatch(pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, grid: [number, number, number]): void {
    const pass = this.ensurePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    this.info.dispatches++;
    if (this.currentOp) this.currentOp.dispatches++;
    if (this.profile === "dispatch") {
      this.passKernels.push({ kernel: pipeline.label, op: this.currentOp?.op ?? -1 });
      this.endPass();
    }
  }

  /** Zero-fills a buffer (outside any pass: ends the current one). */
  clear(buffer: GPUBuffer): void {
    this.endPass();
    this.encoder.clearBuffer(buffer);
  }

  private async readBack(reads: ReadRequest[], withTimestamps: boolean): Promise<{ data: ArrayBuffer[]; timestamps?: BigUint64Array }> {
    this.endPass();
    const sizes = reads.map((r) => Math.ceil(r.bytes / 4) * 4);
    let total = sizes.reduce((a, b) => a + b, 0);
    const tsOffset = Math.ceil(total / 8) * 8;
    let resolve: GPUBuffer | null = null;
    if (withTimestamps && this.querySet && this.passes > 0) {
      resolve = this.device.createBuffer({ size: 16 * this.passes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      this.encoder.resolveQuerySet(this.querySet, 0, 2 * this.passes, resolve, 0);
      total = tsOffset + 16 * this.passes;
    }
    const staging = this.device.createBuffer({ size: Math.max(4, total), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    let off = 0;
    reads.forEach((r, i) => {
      if (sizes[i]! > 0) this.encoder.copyBufferToBuffer(r.buffer, 0, staging, off, sizes[i]!);
      off += sizes[i]!;
    });
    if (resolve) this.encoder.copyBufferToBuffer(resolve, 0, staging, tsOffset, 16 * this.passes);
    this.device.queue.submit([this.encoder.finish()]);
    this.info.commandBuffers++;
    await staging.mapAsync(GPUMapMode.READ);
    this.info.readbacks++;
    const mapped = staging.getMappedRange();
    off = 0;
    const data = reads.map((_, i) => {
      const copy = mapped.slice(off, off + sizes[i]!);
      off += sizes[i]!;
      return copy;
    });
    const timestamps = resolve ? new BigUint64Array(mapped.slice(tsOffset, tsOffset + 16 * this.passes)) : undefined;
    staging.unmap();
    staging.destroy();
    resolve?.destroy();
    this.encoder = this.device.createCommandEncoder();
    return { data, timestamps };
  }

  /** Mid-run read-back (unfused baseline only): submits what was recorded so far. */
  async sync(reads: ReadRequest[]): Promise<ArrayBuffer[]> {
    return (await this.readBack(reads, false)).data;
  }

  /** Submits the rest of the run and reads back the outputs (and timestamps). */
  async finish(reads: ReadRequest[]): Promise<ArrayBuffer[]> {
    const { data, timestamps } = await this.readBack(reads, true);
    if (timestamps) {
      let ns = 0n;
      for (let i = 0; i < this.passes; i++) {
        const a = timestamps[2 * i]!;
        const b = timestamps[2 * i + 1]!;
        if (b > a) ns += b - a;
      }
      this.info.gpuNs = Number(ns);
      if (this.profile === "dispatch") {
        this.info.kernels = this.passKernels.map((k, i) => ({ ...k, ns: Number(timestamps[2 * i + 1]! - timestamps[2 * i]!) }));
      }
    }
    this.querySet?.destroy();
    return data;
  }
}
