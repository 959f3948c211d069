// Public types of the GPU executor.

import type { IrProgram } from "../../compiler/ir/ir.js";
import type { RouterStats } from "../stats/router-stats.js";
import type { TuningTable } from "../tune/tuning-table.js";
import type { GpuBlockFormat } from "../weights/quant/gpu-blocks.js";

export interface ExecutorOptions {
  /** Storage type of weights and activations; arithmetic is f32 either way. Default f32. */
  dtype?: "f32" | "f16";
  /** Keep the weights of `linear` (the LM head included), attention's q/k/v and output projections,
   *  routed pools' experts and embedding tables on the device as Q8_0 or Q4_0 blocks, quantized at upload with ggml's
   *  reference encoders, or as FP8 E4M3 with a scale per row and 128 columns (an FP8 checkpoint's
   *  own bytes and scales as read, else quantized at upload), and dequantize them inside the kernels' loads (docs/quantization.md); a
   *  routed pool with block experts runs token-centric at every T (unless fineSchedule forces
   *  another schedule, which then reads it in `dtype`). Matrices whose rows are not whole blocks (32
   *  values; 128 for fp8_e4m3), shared and dense FFN pools and router gates stay in `dtype`. Default: none. */
  weightFormat?: GpuBlockFormat;
  /** false: the unfused baseline lowering (per-expert host loop, selection read back). Default true. */
  fused?: boolean;
  /** `tile`: run every GEMM on the 16 × 64 workgroup-memory tile, never the few-row or register-
   *  tiled loop gemm-shape.ts would pick (tests of the tile on a CPU adapter, A/B). Default auto. */
  gemmLoops?: "auto" | "tile";
  /** How the weights of linear GEMMs (`linear`, attention projections, the LM head) are held:
   *  `kn` transposed once at upload to [K, N] for kn-loop.ts's register tile, `nk` as the
   *  checkpoint has them, `auto` the layout the tuning table chose for many-row products when it
   *  measured both, else `kn` on a CPU adapter, where it measured faster, `nk` elsewhere
   *  (gemm-shape.ts). Default: `nk` for an executor made with `decode` (its one-row GEMVs over
   *  weights larger than the caches stream faster from [N, K]), else `auto`. A table an embedding
   *  also gathers from keeps [N, K]. */
  gemmWeights?: "auto" | "nk" | "kn";
  /** The GEMM shapes measured per shape class (runtime/tune/, `moec tune`); default the context's
   *  `gpu.tuning`; null: none, the deterministic fallbacks of gemm-shape.ts. */
  tuning?: TuningTable | null;
  /** false: use the workgroup-memory kernels even where the adapter has `subgroups` (tests, A/B). */
  subgroups?: boolean;
  /** Schedule of routed pools (`--schedule`): token-centric gather–dot–axpy, expert-centric grouped
   *  GEMMs, dense GEMMs over the whole pool, or `auto` (per run, from T: for ffn pools the crossovers
   *  `moec tune` measured for the nearest pool class in `tuning`, else fixed rules — grouped GEMMs for
   *  ffn pools, token-centric for atom/lowrank ones, dense for those under dense selection from
   *  T = 16; decode plans and block weights token-centric). Default auto (docs/kernels.md). */
  fineSchedule?: "auto" | "token" | "expert" | "dense";
  /** Compute routing statistics (LANGUAGE.md §10) on the GPU every run: `lastStats`. */
  stats?: boolean;
  /** Update router state (e.g. the aux-free bias) after each run. Default: yes for layers and graphs,
   *  no for models, whose state is read-only while they run (LANGUAGE.md §13.0, `--update-state`). */
  updateState?: boolean;
  /** Largest weight binding, in bytes; defaults to the device's maxStorageBufferBindingSize.
   *  Lower it to exercise weight chunking on small pools (tests). */
  maxBindingBytes?: number;
  /** Largest activation buffer, in bytes (any [T, width] value, router scratch, expert-sorted rows);
   *  defaults to the device's maxStorageBufferBindingSize. A run whose buffers would exceed it is
   *  split into token chunks (docs/kernels.md); lower it to exercise chunking at small shapes. */
  maxActivationBytes?: number;
  /** Device memory the program may use, in bytes. WebGPU reports none, so by default a CPU
   *  adapter (lavapipe, SwiftShader) offers the host's memory and any other adapter is not
   *  checked in total (each buffer is still held to the binding limit). See device-fit.ts. */
  deviceMemoryBytes?: number;
  /** A model: compute the LM head (the `linear` that writes the logits) for the run's last position
   *  only, so its output is `logits [1, V]` (a prefill that only needs the next token's logits).
   *  Default false. */
  lastLogits?: boolean;
  /** A model that generates (docs/generation.md): a KV cache for `context` positions per attention
   *  block, allocated once here, in `kvDtype` (default f32; f16 needs the shader-f16 feature), and
   *  `prefill` / `decodeStep`. */
  decode?: { context: number; kvDtype?: "f32" | "f16" };
}

export interface RunOptions {
  /** Also read back each router's selection (exposed as `executor.lastRouting`), in the same read-back. */
  returnRouting?: boolean;
  /** Time every compute pass with GPU timestamps (needs timestamp-query); see `lastRunInfo.gpuNs`.
   *  "dispatch": one pass per dispatch (slower, changes nothing else) and `lastRunInfo.kernels`. */
  profile?: boolean | "dispatch";
}

export interface OpDispatches {
  op: number;
  kind: string;
  /** The op's value name (`moe#1`, `h`). */
  name: string;
  dispatches: number;
  /** Workgroups launched by those dispatches (the grids' products): how much of its output the op
   *  computed (e.g. the LM head's row tiles under `lastLogits`). */
  workgroups: number;
}

export interface RunInfo {
  tokens: number;
  /** Compute dispatches of the whole run. */
  dispatches: number;
  dispatchesPerOp: OpDispatches[];
  /** Command buffers submitted. */
  commandBuffers: number;
  /** GPU→CPU read-backs (one submit, then its staging buffers mapped together); 1 per run for the
   *  fused executor, token chunks included. */
  readbacks: number;
  /** Present when the run was split into token chunks: how many, of how many tokens (the last one
   *  the remainder). */
  chunks?: { count: number; tokens: number };
  /** Sum of compute-pass GPU times, when run with `profile` on an adapter with timestamps. */
  gpuNs?: number;
  /** Per dispatch, with `profile: "dispatch"`: kernel name, op index and GPU time. */
  kernels?: { kernel: string; op: number; ns: number }[];
}

export interface RoutingResult {
  /** Router key (`r`, `m.r`). */
  key: string;
  maxPerToken: number;
  /** Experts selected per token [T]. */
  counts: Uint32Array;
  /** Selected expert ids [T·maxPerToken]; slots ≥ counts[t] are unspecified. */
  ids: Uint32Array;
  /** Routing weights [T·maxPerToken], after post-select stages. */
  weights: Float32Array;
}

export interface Executor {
  readonly program: IrProgram;
  readonly dtype: "f32" | "f16";
  readonly fused: boolean;
  /** The block format dense products' weights are kept in (ExecutorOptions.weightFormat), or none. */
  readonly weightFormat: GpuBlockFormat | undefined;
  /** Device bytes the weights (and buffers derived from them) take now. */
  readonly weightBytes: number;
  /** Bytes the block-quantized matrices take less than in `dtype` (0 without weightFormat), by how
   *  a run reads them: `whole` (GEMMs' weights: what each decode step reads less), `routed` (routed
   *  experts: a step reads its selected experts' share), `gathered` (embedding tables: a step reads rows). */
  readonly blockBytesSaved: { whole: number; routed: number; gathered: number };
  /** Statistics of the latest run. */
  readonly lastRunInfo: RunInfo | undefined;
  /** Selections of the latest run made with `returnRouting`, keyed by router key. */
  readonly lastRouting: Map<string, RoutingResult> | undefined;
  /** Routing statistics of the latest run (executor option `stats`), keyed by router key. */
  readonly lastStats: Map<string, RouterStats> | undefined;
  /** Router state (e_bias, BatchNorm statistics, plugin state) as it is now, by tensor name. */
  readState(): Promise<Map<string, Float32Array>>;
  /** Sets router state vectors by tensor name for the next runs (elastic k, a bias, …). */
  writeState(values: Map<string, ArrayLike<number>>): Promise<void>;
  run(inputs: Map<string, Float32Array | Int32Array>, tokens: number, opts?: RunOptions): Promise<Map<string, Float32Array>>;
  /**
   * Generation (executor option `decode`): runs the prompt from position 0, filling the KV cache,
   * and returns the logits of its last position [V]. The next `decodeStep` is at position ids.length.
   */
  prefill(ids: Int32Array): Promise<Float32Array>;
  /**
   * One decode step at position `position` (then position + 1): embeds the token id held in
   * `decodeTokenBuffer` — written here when `id` is given, else by the GPU (a sampler) — appends
   * to the cache and returns the logits [V]. Position = context is a ContextFullError.
   */
  decodeStep(id?: number): Promise<Float32Array>;
  /** Makes sure a KV cache of at least `context` positions exists (allocating it once; an executor
   *  created without `decode` gets one here), so prefill/decode can run. */
  ensureGeneration(decode: { context: number; kvDtype?: "f32" | "f16" }): void;
  /** Where a GPU sampler reads a step's logits and writes the next token id (builds the decode plan). */
  samplingTarget(): Promise<SamplingTarget>;
  /** `prefill`, then the sampler in the same command buffer: reads back only the new id and its stop flag. */
  prefillSampled(ids: Int32Array, sample: StepSample): Promise<SampledToken>;
  /** `decodeStep` on the id the sampler wrote last, then the sampler again: one command buffer, 8 bytes read back. */
  decodeSampled(sample: StepSample): Promise<SampledToken>;
  /**
   * Batched decoding (docs/generation.md "Batches"): a KV cache of `rows` slots of `context`
   * positions each, and the decode plan for T = rows (allocated once). Refused for MLA models
   * (BatchDecodeUnsupportedError, when the plan is built) and under `lastLogits`.
   */
  ensureBatch(batch: { rows: number; context: number; kvDtype?: "f32" | "f16" }): void;
  /**
   * Group Think (LANGUAGE.md §11.2 `concurrent`; docs/generation.md "Group Think"): N threads over
   * ONE KV cache of `context` rows (the prompt's, then N per step), decoded as one batch of N rows.
   */
  ensureGroup(group: { threads: number; context: number; kvDtype?: "f32" | "f16" }): void;
  /** Prefills the prompt into the shared cache (rows 0…P−1); its last position's logits [V]. Starts step 0. */
  prefillGroup(ids: Int32Array): Promise<Float32Array>;
  /**
   * One step k of every thread in one command buffer: thread n embeds ids[n] at position P + k into
   * row P + k·N + n and reads the prompt, every thread's cached tokens and its own row; returns the
   * logits [N, V]. live[n] false: thread n has stopped (its row is written, never read); it stays stopped.
   */
  decodeGroup(ids: Int32Array, live: readonly boolean[]): Promise<Float32Array>;
  /** Prefills prompt `ids` into slot `row` (one prefill per prompt, then its cache rows copied into
   *  the slot); returns its last position's logits [V]. Row `row`'s next position is ids.length. */
  prefillRow(row: number, ids: Int32Array): Promise<Float32Array>;
  /** One decode step of every row in one command buffer: row b embeds ids[b] at its own position,
   *  in slot b; returns the logits [rows, V] (one read-back). A finished row may keep stepping
   *  (its logits are ignored by the caller) until its slot is full. */
  decodeBatch(ids: Int32Array): Promise<Float32Array>;
  /** Where a batch sampler (rows: B) reads the batch's logits [B, V] and writes the B next ids. */
  batchSamplingTarget(): Promise<SamplingTarget>;
  /** The sampler alone on every row (after each row's prefillRow): the first new tokens; B ids and B stop flags read back. */
  sampleBatch(sample: StepSample): Promise<SampledToken[]>;
  /** `decodeBatch` on the ids the sampler wrote last, then the sampler: one command buffer, 8·B bytes read back. */
  decodeBatchSampled(sample: StepSample): Promise<SampledToken[]>;
  /** Each row's next position (tokens in its slot). */
  readonly batchPositions: readonly number[];
  /** The position the next decode step takes (tokens in the cache); 0 before a prefill. */
  readonly position: number;
  /** The I32 buffer (one id) a decode step embeds; undefined without `decode`. */
  readonly decodeTokenBuffer: GPUBuffer | undefined;
  dispose(): void;
}

/** A generation's logits row and token buffer, for a sampler bound to them once. */
export interface SamplingTarget {
  /** The decode plan's logits [1, V] (a prefill's last row is copied here before sampling). */
  logits: GPUBuffer;
  /** The I32 id the next decode step embeds; the sampler writes it. */
  tokens: GPUBuffer;
  vocab: number;
  dtype: "f32" | "f16";
}

/** A sampler step the executor records after a step's logits (runtime/kernels/sampling/gpu-sampler.ts). */
export interface StepSample {
  record(sink: { dispatch(pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, grid: [number, number, number]): void }): void;
  /** The u32 stop flag the sampler sets (read back with the id). */
  readonly done: GPUBuffer;
}

export interface SampledToken {
  id: number;
  /** The id is a stop id (the sampler's done flag). */
  done: boolean;
}
