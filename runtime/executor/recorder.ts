// Records one run: one command encoder and one compute pass for as long as nothing needs the
// CPU; counts dispatches (per op), command buffers and read-backs; optional timestamps per pass.
// `sync` (used only by the unfused baseline) ends the command buffer, reads buffers back and
// starts a new one; `finish` does the run's single output read-back. A run split into token
// chunks (token-chunks.ts) records every chunk into the same encoder, moving data with `copy`,
// and hands `finish` the staging buffers it copied its results into.

import type { OpDispatches, RunInfo } from "./types.js";

export interface ReadRequest {
  buffer: GPUBuffer;
  bytes: number;
  /** Byte offset in `buffer` (default 0; a multiple of 4). */
  offset?: number;
}

const MAX_PASSES = 512;

/** The device rejected the run's commands (an invalid command buffer runs nothing): a bug in moec. */
export class GpuValidationError extends Error {
  override name = "GpuValidationError";
}

export class Recorder {
  private encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | null = null;
  private readonly querySet: GPUQuerySet | null;
  private passes = 0;
  private currentOp: OpDispatches | null = null;
  readonly info: RunInfo;

  /** Per pass (with per-dispatch profiling): the kernel and op it ran. */
  private readonly passKernels: { kernel: string; op: number }[] = [];
  /** Validation results of submitted command buffers, checked before anything is read back. */
  private readonly submitChecks: Promise<GPUError | null>[] = [];

  constructor(
    private readonly device: GPUDevice,
    tokens: number,
    private readonly profile: boolean | "dispatch",
  ) {
    this.encoder = device.createCommandEncoder();
    this.querySet = profile ? device.createQuerySet({ type: "timestamp", count: 2 * MAX_PASSES }) : null;
    this.info = { tokens, dispatches: 0, dispatchesPerOp: [], commandBuffers: 0, readbacks: 0 };
  }

  /** Attributes the next dispatches to op `op` (again for every token chunk: counts add up). */
  beginOp(op: number, kind: string, name: string): void {
    const have = this.info.dispatchesPerOp.find((o) => o.op === op);
    if (have) {
      this.currentOp = have;
      return;
    }
    this.currentOp = { op, kind, name, dispatches: 0, workgroups: 0 };
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
    if (this.currentOp) {
      this.currentOp.dispatches++;
      this.currentOp.workgroups += grid[0] * grid[1] * grid[2];
    }
    if (this.profile === "dispatch") {
      this.passKernels.push({ kernel: pipeline.label, op: this.currentOp?.op ?? -1 });
      this.endPass();
    }
  }

  /** A buffer-to-buffer copy, ordered with the dispatches around it (ends the current pass).
   *  Offsets and size must be multiples of 4. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes <= 0) return;
    this.endPass();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Submits what was recorded so far (no read-back) and continues in a new command buffer. */
  submit(): void {
    this.endPass();
    this.submitEncoder();
    this.encoder = this.device.createCommandEncoder();
  }

  /**
   * Dawn reports an invalid command buffer (e.g. a buffer bound read-only and writable in one
   * dispatch) only as an uncaptured warning, and the run would return stale data: submit inside a
   * validation error scope, and fail the run before reading back.
   */
  private submitEncoder(): void {
    this.device.pushErrorScope("validation");
    this.device.queue.submit([this.encoder.finish()]);
    this.submitChecks.push(this.device.popErrorScope());
    this.info.commandBuffers++;
  }

  private async checkSubmits(): Promise<void> {
    const errors = await Promise.all(this.submitChecks.splice(0));
    const first = errors.find((e) => e !== null);
    if (first) throw new GpuValidationError(`the GPU rejected this run's commands (a bug in moec, please report it): ${first.message}`);
  }

  /** Zero-fills a buffer (outside any pass: ends the current one). */
  clear(buffer: GPUBuffer): void {
    this.endPass();
    this.encoder.clearBuffer(buffer);
  }

  /**
   * Submits and maps: `reads` are copied into one new staging buffer; `staged` are MAP_READ
   * buffers the run already copied data into (consumed: destroyed here). All are mapped after the
   * one submit and awaited together, which counts as ONE read-back. Returns the reads' data, then
   * each staged buffer's whole contents.
   */
  private async readBack(
    reads: ReadRequest[],
    withTimestamps: boolean,
    staged: GPUBuffer[] = [],
  ): Promise<{ data: ArrayBuffer[]; timestamps?: BigUint64Array }> {
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
    // Without reads or timestamps, the staged buffers are all there is to map.
    const staging =
      reads.length > 0 || resolve || staged.length === 0
        ? this.device.createBuffer({ size: Math.max(4, total), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST })
        : null;
    let off = 0;
    reads.forEach((r, i) => {
      if (sizes[i]! > 0) this.encoder.copyBufferToBuffer(r.buffer, r.offset ?? 0, staging!, off, sizes[i]!);
      off += sizes[i]!;
    });
    if (resolve) this.encoder.copyBufferToBuffer(resolve, 0, staging!, tsOffset, 16 * this.passes);
    this.submitEncoder();
    try {
      await this.checkSubmits();
    } catch (e) {
      staging?.destroy();
      resolve?.destroy();
      for (const s of staged) s.destroy();
      this.encoder = this.device.createCommandEncoder();
      throw e;
    }
    await Promise.all([staging?.mapAsync(GPUMapMode.READ), ...staged.map((s) => s.mapAsync(GPUMapMode.READ))]);
    this.info.readbacks++;
    const data: ArrayBuffer[] = [];
    let timestamps: BigUint64Array | undefined;
    if (staging) {
      const mapped = staging.getMappedRange();
      off = 0;
      for (const size of sizes) {
        data.push(mapped.slice(off, off + size));
        off += size;
      }
      timestamps = resolve ? new BigUint64Array(mapped.slice(tsOffset, tsOffset + 16 * this.passes)) : undefined;
      staging.unmap();
      staging.destroy();
    }
    for (const s of staged) {
      data.push(s.getMappedRange().slice(0));
      s.unmap();
      s.destroy();
    }
    resolve?.destroy();
    this.encoder = this.device.createCommandEncoder();
    return { data, timestamps };
  }

  /**
   * Submits and reads `reads` back through `staging`, a MAP_READ buffer the caller keeps (a decode
   * step creates no buffer): the reads are copied into it back to back, mapped, copied out and
   * unmapped. One read-back.
   */
  async finishInto(staging: GPUBuffer, reads: ReadRequest[]): Promise<ArrayBuffer[]> {
    this.endPass();
    const sizes = reads.map((r) => Math.ceil(r.bytes / 4) * 4);
    let off = 0;
    reads.forEach((r, i) => {
      this.encoder.copyBufferToBuffer(r.buffer, r.offset ?? 0, staging, off, sizes[i]!);
      off += sizes[i]!;
    });
    this.submitEncoder();
    try {
      await this.checkSubmits();
    } finally {
      this.encoder = this.device.createCommandEncoder();
    }
    await staging.mapAsync(GPUMapMode.READ, 0, Math.max(4, off));
    this.info.readbacks++;
    const mapped = staging.getMappedRange(0, Math.max(4, off));
    const data: ArrayBuffer[] = [];
    off = 0;
    for (const size of sizes) {
      data.push(mapped.slice(off, off + size));
      off += size;
    }
    staging.unmap();
    this.querySet?.destroy();
    return data;
  }

  /** Mid-run read-back (unfused baseline only): submits what was recorded so far. */
  async sync(reads: ReadRequest[]): Promise<ArrayBuffer[]> {
    return (await this.readBack(reads, false)).data;
  }

  /** Submits the rest of the run and reads back the outputs (and timestamps); `staged`: see readBack. */
  async finish(reads: ReadRequest[], staged: GPUBuffer[] = []): Promise<ArrayBuffer[]> {
    const { data, timestamps } = await this.readBack(reads, true, staged);
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
