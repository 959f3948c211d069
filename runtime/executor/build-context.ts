// What every op lowering needs while building a plan for a token capacity: buffers it owns
// (checked against the binding limit), uniform buffers, pipelines and bind groups.

import type { IrProgram, ValueId } from "../../compiler/ir/ir.js";
import { bytesPer, createBuffer, STORAGE_USAGE, type StorageDtype, uniformBuffer } from "../gpu/buffers.js";
import type { GpuContext } from "../gpu/device.js";
import type { BufferDecl, Kernel, ParamValues, UniformType } from "../kernels/define-kernel.js";
import type { KernelSpec } from "../kernels/kernel-spec.js";
import type { Recorder } from "./recorder.js";
import type { RouterStateHandle, RouterStatsReadback, RoutingOptions } from "./lower-router.js";
import type { WeightStore } from "./weight-store.js";
import type { KvCache, KvCacheBlock } from "./kv-cache.js";
import type { TuningTable } from "../tune/tuning-table.js";

/**
 * How attention blocks are lowered in a plan (docs/generation.md): `prefill` as a run from
 * position 0 that also writes each block's keys and values into the KV cache; `decode` one new
 * position (T = 1) at `position.pos0`, appending to the cache and attending over it.
 */
export interface GenerationBuild {
  /** `batch`: a decode step of B = T rows, row b at its own position positions[b], in cache slot b.
   *  `group`: Group Think's step of N = T threads over one shared cache (group-decode.ts). */
  mode: "prefill" | "decode" | "batch" | "group";
  cache: KvCache;
  /** The position a decode step is recorded for (set by the executor before it records; the
   *  decode attention's grid depends on it, the kernels read it from the run uniform). */
  position: { pos0: number };
  /** `batch`, `group`: the rows' positions, B u32 (written by the executor before each step). */
  positions?: GPUBuffer;
  /** `group`: the step's [P, N, k, seen…] (group-decode.ts), written before each step. */
  group?: GPUBuffer;
}

export class ActivationTooLargeError extends Error {
  override name = "ActivationTooLargeError";
}

/** A recorded dispatch: grid(T) gives the workgroup grid for a run of T tokens (null: skip). */
export interface Step {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  grid(T: number): [number, number, number] | null;
}

export interface RoutingBuffers {
  key: string;
  maxPerToken: number;
  tokCount: GPUBuffer;
  ids: GPUBuffer;
  wts: GPUBuffer;
}

export interface Lowering {
  op: number;
  kind: string;
  name: string;
  /** Buffers zeroed at the start of every run (of every token chunk), before the first pass. */
  clears: GPUBuffer[];
  /**
   * Records the op for T tokens. A run above the activation limit calls it once per token chunk
   * (token-chunks.ts), all into ONE command buffer: record everything through `rec` (T also
   * reaches the kernels through the run uniform); a host write (queue.writeBuffer) made here lands
   * before the whole command buffer runs, so it would see only the last chunk's T.
   */
  encode(rec: Recorder, T: number): void | Promise<void>;
  /** Set when the op needs every token of the run in one pass (it cannot be split into token
   *  chunks): why, for the TokenChunkError that names it. */
  wholeRun?: string;
  routing?: RoutingBuffers;
  /** Routing statistics to read back with the outputs (executor option `stats`). */
  routerStats?: RouterStatsReadback;
  /** A router with state (e_bias, …): read back by `readState()`. */
  routerState?: RouterStateHandle;
}

export class BuildContext {
  private owned: GPUBuffer[] = [];
  /** Set in a scoped context (an agents-pool member): run.T is a count written on the GPU, so
   *  nothing may be computed on the host from T (expert choice's capacity reads a table). */
  tokensOnGpu = false;

  constructor(
    readonly gpu: GpuContext,
    readonly program: IrProgram,
    readonly dtype: StorageDtype,
    /** Token capacity of this plan. */
    readonly cap: number,
    readonly runUniform: GPUBuffer,
    readonly weights: WeightStore,
    private readonly values: Map<ValueId, GPUBuffer>,
    /** Use subgroup kernels (the adapter has `subgroups` and the executor was not told otherwise). */
    readonly useSubgroups: boolean,
    /** Routing passes: statistics on or off (lower-router.ts). */
    readonly routing: RoutingOptions = { stats: false, updateState: true },
    /** Set in a generation's prefill and decode plans; undefined for a plain run. */
    readonly generation?: GenerationBuild,
    /** `tile`: every GEMM on the 16 × 64 tile (ExecutorOptions.gemmLoops; gemm-shape.ts). */
    readonly gemmLoops: "auto" | "tile" = "auto",
    /** The tuning table gemm-shape.ts asks first (ExecutorOptions.tuning). */
    readonly tuning?: TuningTable,
    /** How linear GEMMs' weights are held (ExecutorOptions.gemmWeights; gemm-shape.ts). */
    readonly gemmWeights: "auto" | "nk" | "kn" = "auto",
  ) {}

  /** The KV cache block of attention block `key` (a generation plan only). */
  kvBlock(key: string): KvCacheBlock {
    const blk = this.generation?.cache.blocks.get(key);
    if (!blk) throw new Error(`internal: attention '${key}' has no KV cache block`);
    return blk;
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  value(id: ValueId): GPUBuffer {
    const b = this.values.get(id);
    if (!b) throw new Error(`internal: value %${id} has no buffer`);
    return b;
  }

  width(id: ValueId): number {
    const v = this.program.values.find((x) => x.id === id);
    if (!v) throw new Error(`internal: unknown value %${id}`);
    return v.width;
  }

  /** A storage buffer of `elements` × `elementBytes` (default: the storage dtype). */
  storage(elements: number, label: string, elementBytes = bytesPer(this.dtype)): GPUBuffer {
    const bytes = elements * elementBytes;
    const limit = this.gpu.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new ActivationTooLargeError(
        `buffer '${label}' needs ${bytes} bytes for ${this.cap} tokens, above the adapter's storage binding limit of ${limit} bytes; run fewer tokens per call`,
      );
    }
    return this.own(createBuffer(this.device, bytes, STORAGE_USAGE(), label));
  }

  private dummyBuffer: GPUBuffer | undefined;
  /** A 16-byte zero buffer for optional bindings a kernel will not read (flag off in its params). */
  dummy(): GPUBuffer {
    this.dummyBuffer ??= this.storage(4, "unused binding", 4);
    return this.dummyBuffer;
  }

  uniform(words: number[], label: string): GPUBuffer {
    return this.own(uniformBuffer(this.device, words, label));
  }

  /** The uniform buffer of a kernel's params (to share one block between kernels of the same layout). */
  params<U extends Record<string, UniformType>>(kernel: Kernel<U>, values: ParamValues<U>, label: string): GPUBuffer {
    return this.uniform(Array.from(kernel.params(values)), label);
  }

  /**
   * A dispatch of a kernel declared with defineKernel: `params` are its uniform values (or a
   * buffer made by `params()`), `buffers` one buffer per declared buffer, by name — a missing or
   * unknown name is an error here, at plan time.
   */
  async step<U extends Record<string, UniformType>, B extends Record<string, BufferDecl>>(
    kernel: Kernel<U, B>,
    params: ParamValues<U> | GPUBuffer | null,
    buffers: { [K in keyof B]: GPUBuffer },
    grid: Step["grid"],
  ): Promise<Step> {
    const spec = kernel.spec;
    const names = new Set(spec.bindings.map((x) => x.name));
    for (const n of Object.keys(buffers)) {
      if (!names.has(n) || n === "run" || n === "params") throw new Error(`internal: kernel '${spec.name}' has no buffer '${n}'`);
    }
    const resources: Record<string, GPUBuffer> = { ...(buffers as Record<string, GPUBuffer>) };
    if (names.has("params")) {
      if (params === null || params === undefined) throw new Error(`internal: kernel '${spec.name}' needs its params`);
      resources["params"] = isBuffer(params) ? params : this.params(kernel, params, `${spec.name}.params`);
    }
    return this.bindStep(spec, resources, grid);
  }

  protected async bindStep(spec: KernelSpec, resources: Record<string, GPUBuffer>, grid: Step["grid"]): Promise<Step> {
    const { pipeline, layout } = await this.gpu.pipelines.get(spec);
    const entries = spec.bindings.map((b, i) => {
      const buffer = b.name === "run" ? this.runUniform : resources[b.name];
      if (!buffer) throw new Error(`internal: kernel '${spec.name}' binding '${b.name}' has no buffer`);
      return { binding: i, resource: { buffer } };
    });
    return { pipeline, bindGroup: this.device.createBindGroup({ label: spec.name, layout, entries }), grid };
  }

  /**
   * A context for a nested body (an agents-pool member, lower-moe-agents.ts): this plan's device,
   * dtype, capacity, weights and buffer ownership (disposed with it), the body's own values and run
   * uniform (its token count), statistics and state updates off.
   */
  scoped(program: IrProgram, runUniform: GPUBuffer, values: Map<ValueId, GPUBuffer>): BuildContext {
    const Ctor = this.constructor as new (...args: ConstructorParameters<typeof BuildContext>) => BuildContext;
    const child = new Ctor(this.gpu, program, this.dtype, this.cap, runUniform, this.weights, values, this.useSubgroups, { stats: false, updateState: false });
    child.owned = this.owned;
    child.tokensOnGpu = true;
    return child;
  }

  /** Owns a buffer made elsewhere (a member's run uniform), so it is destroyed with the plan. */
  adoptUniform(buf: GPUBuffer): void {
    this.own(buf);
  }

  dispose(): void {
    this.disposed = true;
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
  }

  /** Set by dispose(): a build abandoned on an error (other ops' lowerings may still be running)
   *  destroys what they create afterwards instead of leaking it. */
  private disposed = false;

  private own(buf: GPUBuffer): GPUBuffer {
    if (this.disposed) buf.destroy();
    else this.owned.push(buf);
    return buf;
  }
}

/** A GPUBuffer (not a record of uniform values): uniform values are plain objects of numbers and arrays. */
function isBuffer(v: unknown): v is GPUBuffer {
  return typeof v === "object" && v !== null && typeof (v as GPUBuffer).destroy === "function" && typeof (v as GPUBuffer).size === "number";
}

/** Records a step if its grid is non-empty. */
export function record(rec: Recorder, step: Step, T: number): void {
  const g = step.grid(T);
  if (g) rec.dispatch(step.pipeline, step.bindGroup, g);
}
