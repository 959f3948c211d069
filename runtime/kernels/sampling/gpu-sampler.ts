// Host side of the sampler: validates the options, the stop ids and the buffers once, owns the
// kernel's uniform blocks, and records the ONE sampler dispatch of a decode step into a compute
// pass (or the executor's Recorder). The decode loop calls setStep before each step's submit and
// reads back only the new ids; the logits, seen masks, ids and done flags stay on the GPU.

import { bytesPer, createBuffer, STORAGE_USAGE, type StorageDtype, uniformBuffer } from "../../gpu/buffers.js";
import type { GpuContext } from "../../gpu/device.js";
import { grid2D } from "../wgsl-common.js";
import { samplerKernel, SAMPLER_STEP_WORDS } from "./sampler-kernel.js";
import { resolveSamplingOptions, type ResolvedSamplingOptions, type SamplingOptions } from "./sampling-options.js";
import { seenWordsPerRow } from "./seen-mask.js";

export class SamplerSetupError extends Error {
  override name = "SamplerSetupError";
}

export interface SamplerShape {
  /** B: rows of logits (sequences decoded together). */
  rows: number;
  /** V: the vocabulary (row width); below 2^24 so counts stay exact in f32. */
  vocab: number;
  /** Storage dtype of the logits (f32 by default). */
  dtype?: StorageDtype;
  /** Elements between logits rows (default V): the model's vocabulary when only ids below V are drawn. */
  logitsStride?: number;
}

export interface SamplerBuffers {
  /** [B, V] logits in the storage dtype. */
  logits: GPUBuffer;
  /** [B, ceil(V/32)] u32 seen bitmasks (seen-mask.ts); the drawn ids are added. */
  seen: GPUBuffer;
  /** I32 ids: row b's token goes to element outOffset + b · idsStride. */
  ids: GPUBuffer;
  /** [B] u32 done flags, set to 1 on a stop id (never cleared by the sampler). */
  done: GPUBuffer;
}

export interface SamplerConfig {
  options: SamplingOptions;
  /** Ids that end a sequence (the §11.2 stop set); each in [0, V). */
  stopIds?: readonly number[];
  /** Element stride between rows in `ids` (1 by default: the next step's embedding reads ids[0..B)). */
  idsStride?: number;
}

/** Anything that takes a dispatch: the executor's Recorder, or a pass wrapper. */
export interface DispatchSink {
  dispatch(pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, grid: [number, number, number]): void;
}

const U32_MAX = 0xffffffff;

export class GpuSampler {
  /** Dispatches one step costs. */
  static readonly DISPATCHES_PER_STEP = 1;

  private constructor(
    private readonly gpu: GpuContext,
    readonly shape: Required<SamplerShape>,
    readonly options: ResolvedSamplingOptions,
    private readonly idsStride: number,
    private readonly idsElements: number,
    private readonly pipeline: GPUComputePipeline,
    private readonly bindGroup: GPUBindGroup,
    private readonly stepUniform: GPUBuffer,
    private readonly owned: GPUBuffer[],
  ) {}

  static async create(gpu: GpuContext, shape: SamplerShape, config: SamplerConfig, buffers: SamplerBuffers): Promise<GpuSampler> {
    const options = resolveSamplingOptions(config.options);
    const dtype = shape.dtype ?? "f32";
    const { rows: B, vocab: V } = shape;
    if (!Number.isInteger(B) || B < 1) throw new SamplerSetupError(`sampler: rows must be an integer ≥ 1, got ${B}`);
    if (!Number.isInteger(V) || V < 1 || V >= 2 ** 24) throw new SamplerSetupError(`sampler: vocab must be an integer in [1, 2^24), got ${V}`);
    if (B * V > U32_MAX) throw new SamplerSetupError(`sampler: ${B} rows × ${V} ids exceed the u32 index range`);
    const LD = shape.logitsStride ?? V;
    if (!Number.isInteger(LD) || LD < V || B * LD > U32_MAX) throw new SamplerSetupError(`sampler: logitsStride must be an integer ≥ vocab (${V}) with ${B} rows in the u32 index range, got ${LD}`);
    const stride = config.idsStride ?? 1;
    if (!Number.isInteger(stride) || stride < 1) throw new SamplerSetupError(`sampler: idsStride must be an integer ≥ 1, got ${stride}`);
    const stopIds = config.stopIds ?? [];
    stopIds.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new SamplerSetupError(`sampler: stop id ${id} (position ${i}) is outside the vocabulary [0, ${V})`);
    });
    const W = seenWordsPerRow(V);
    const need = (name: keyof SamplerBuffers, bytes: number): void => {
      if (buffers[name].size < bytes) throw new SamplerSetupError(`sampler: buffer '${name}' has ${buffers[name].size} bytes, needs ${bytes} for ${B} rows × ${V} ids`);
    };
    need("logits", ((B - 1) * LD + V) * bytesPer(dtype));
    need("seen", B * W * 4);
    need("done", B * 4);

    const kernel = samplerKernel(dtype);
    const { device } = gpu;
    const params = kernel.params({
      V,
      W,
      greedy: options.temperature === 0 ? 1 : 0,
      top_k: options.topK,
      n_stop: stopIds.length,
      out_stride: stride,
      seed_lo: options.seed % 2 ** 32,
      seed_hi: Math.floor(options.seed / 2 ** 32),
      tau: options.temperature === 0 ? 1 : options.temperature,
      penalty: options.repetitionPenalty,
      top_p: options.topP,
      min_p: options.minP,
      LD,
    });
    const owned: GPUBuffer[] = [];
    const own = (b: GPUBuffer): GPUBuffer => (owned.push(b), b);
    const run = own(uniformBuffer(device, [B, 0, 0, 0], "sampler.run"));
    const paramsBuf = own(uniformBuffer(device, params, "sampler.params"));
    const stepUniform = own(uniformBuffer(device, new Array(SAMPLER_STEP_WORDS).fill(0), "sampler.step"));
    const stop = own(createBuffer(device, Math.max(1, stopIds.length) * 4, STORAGE_USAGE(), "sampler.stop"));
    if (stopIds.length > 0) device.queue.writeBuffer(stop, 0, Int32Array.from(stopIds));

    const { pipeline, layout } = await gpu.pipelines.get(kernel.spec);
    const resources: Record<string, GPUBuffer> = { run, params: paramsBuf, logits: buffers.logits, seen: buffers.seen, stop, ids: buffers.ids, done: buffers.done, step: stepUniform };
    const entries = kernel.spec.bindings.map((b, i) => ({ binding: i, resource: { buffer: resources[b.name]! } }));
    const bindGroup = device.createBindGroup({ label: kernel.spec.name, layout, entries });
    return new GpuSampler(gpu, { rows: B, vocab: V, dtype, logitsStride: LD }, options, stride, Math.floor(buffers.ids.size / 4), pipeline, bindGroup, stepUniform, owned);
  }

  /**
   * The step's counter (the generator's position: a sequence's k-th token uses step k) and where
   * its ids go. A queue write: it lands before the next command buffer is submitted, so record
   * one sampler step per submit.
   */
  setStep(step: number, outOffset = 0): void {
    if (!Number.isInteger(step) || step < 0 || step > U32_MAX) throw new SamplerSetupError(`sampler: step must be an integer in [0, 2^32), got ${step}`);
    const last = outOffset + (this.shape.rows - 1) * this.idsStride;
    if (!Number.isInteger(outOffset) || outOffset < 0 || last >= this.idsElements) {
      throw new SamplerSetupError(`sampler: ids offset ${outOffset} puts row ${this.shape.rows - 1} at element ${last}, past the ids buffer's ${this.idsElements} elements`);
    }
    this.gpu.device.queue.writeBuffer(this.stepUniform, 0, new Uint32Array([step, outOffset, 0, 0]));
  }

  /** Records the step's one dispatch. */
  record(sink: DispatchSink): void {
    sink.dispatch(this.pipeline, this.bindGroup, grid2D(this.shape.rows, this.gpu.limits.maxComputeWorkgroupsPerDimension));
  }

  /** Records the step into a raw compute pass. */
  encode(pass: GPUComputePassEncoder): void {
    this.record({
      dispatch(pipeline, bindGroup, grid) {
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
      },
    });
  }

  dispose(): void {
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
  }
}
