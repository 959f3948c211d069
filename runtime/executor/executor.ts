// The GPU executor of an IrProgram: weights uploaded once; per token capacity a plan (activation
// buffers, bind groups, recorded steps) built once and reused; each run writes the inputs and T,
// records every op into ONE command buffer (fused) and reads all outputs back in ONE map.

import type { HostWeights } from "../weights/host-weights.js";
import { checkDeviceFit } from "./device-fit.js";
import type { IrOp, IrProgram, ValueId } from "../../compiler/ir/ir.js";
import { bytesPer, type StorageDtype, writeFloats } from "../gpu/buffers.js";
import type { GpuContext } from "../gpu/device.js";
import { fromF16 } from "../gpu/f16.js";
import { ActivationTooLargeError, BuildContext, type Lowering } from "./build-context.js";
import { lowerSimpleOp } from "./lower-ops.js";
import { lowerAttention } from "./lower-attention.js";
import { lowerMoeAgents } from "./lower-moe-agents.js";
import { lowerPeerAttention } from "./lower-peer-attention.js";
import { lowerMla } from "./lower-mla.js";
import { lowerAddNorm, lowerEmbed, lowerLastLogits, lowerNorm } from "./lower-model-ops.js";
import { type Fusions, planFusions } from "./fuse.js";
import { lowerRoutedPool, lowerSharedPool } from "./lower-pools.js";
import type { FineSchedule } from "./lower-moe-fine.js";
import { lowerMoeUnfused, lowerSharedUnfused } from "./lower-moe-unfused.js";
import { Recorder, type ReadRequest } from "./recorder.js";
import type { Executor, ExecutorOptions, RoutingResult, RunInfo, RunOptions, SampledToken, SamplingTarget, StepSample } from "./types.js";
import { WeightStore } from "./weight-store.js";
import { GPU_BLOCK_FORMATS, type GpuBlockFormat } from "../weights/quant/gpu-blocks.js";
import { assertChunkable, chunkSize, ioBytes, largestFitting, runChunked, SizingContext } from "./token-chunks.js";
import { readRouterState, writeRouterState } from "./lower-router.js";
import { allocateKvCache, kvCacheBytes, type KvCache } from "./kv-cache.js";
import { groupStepState } from "../kernels/attention/group-decode.js";
import type { GenerationBuild } from "./build-context.js";
import { finishStats, type RouterStats } from "../stats/router-stats.js";
import type { TuningTable } from "../tune/tuning-table.js";

export class ExecutorInputError extends Error {
  override name = "ExecutorInputError";
}

/** A decode step past the KV cache's last position (executor option `decode.context`). */
export class ContextFullError extends Error {
  override name = "ContextFullError";
}

/** The generation state of an executor created with `decode` (docs/generation.md). */
interface Generation {
  cache: KvCache;
  /** The position the next decode step is recorded for (read by the decode plan's grids). */
  position: { pos0: number };
  /** Tokens in the cache: the next decode step's position. */
  length: number;
  prefillPlan?: Plan;
  decodePlan?: Plan;
  /** The I32 input buffer of the decode plan (one id). */
  tokenBuffer?: GPUBuffer;
  /** MAP_READ buffer a decode step's logits come back through (kept, so a step creates no buffer). */
  staging?: GPUBuffer;
}

/** Batched decoding's state (ensureBatch): B cache slots, the rows' positions, the T = B plan. */
interface BatchGeneration {
  rows: number;
  cache: KvCache;
  /** B u32 positions, written before each step (read by q/k prepare, the cache write, attention). */
  positions: GPUBuffer;
  /** The longest row's position, for the plan's GenerationBuild. */
  position: { pos0: number };
  lengths: number[];
  /** Whether the last prefillRow placed its logits row for a batch sampler. */
  logitsPlaced?: boolean;
  plan?: Plan;
  tokenBuffer?: GPUBuffer;
  staging?: GPUBuffer;
}

/**
 * Group Think's state (ensureGroup; group-decode.ts): N threads over ONE cache that keeps every row
 * (prompt rows, then step-major rows P + k·N + n), the threads' position buffer (all P + k), the
 * step buffer `grp`, and per thread how many of its tokens the cache holds (`seen`).
 */
interface GroupGeneration {
  threads: number;
  /** The prompt's prefill state over the shared cache (its plans write rows 0…P−1). */
  prompt: Generation;
  positions: GPUBuffer;
  grp: GPUBuffer;
  /** The next step k (0 after the prompt), and each thread's tokens in the cache. */
  step: number;
  seen: number[];
  /** Whether each thread's row carried its own token at every step so far. */
  live: boolean[];
  plan?: Plan;
  tokenBuffer?: GPUBuffer;
  staging?: GPUBuffer;
}

interface Plan {
  cap: number;
  build: BuildContext;
  values: Map<ValueId, GPUBuffer>;
  lowerings: Lowering[];
}

/** An op whose work a neighbour's lowering does (fuse.ts): no dispatch of its own. */
function absorbed(index: number, kind: string, name: string): Lowering {
  return { op: index, kind, name, clears: [], encode() {} };
}

/**
 * The op index of a model's LM head (the `linear` that writes its one output), for `lastLogits`;
 * anything else is an error that says what the program is instead.
 */
export function lmHeadIndex(program: IrProgram, dtype: StorageDtype): number {
  if (!program.model) throw new ExecutorInputError(`lastLogits applies to a model; \`${program.entry}\` is a layer or graph`);
  if (program.outputs.length !== 1) throw new ExecutorInputError(`lastLogits: model \`${program.entry}\` has ${program.outputs.length} outputs; it needs one, its logits`);
  const out = program.outputs[0]!;
  const i = program.ops.findIndex((op) => op.out === out.value);
  const op = program.ops[i];
  if (!op || op.op !== "linear") throw new ExecutorInputError(`lastLogits: the output \`${out.name}\` of model \`${program.entry}\` is written by ${op ? `a \`${op.op}\` op` : "no op"}, not by an LM head (\`lm_head\` or \`linear\`)`);
  if (program.ops.some((o, j) => j !== i && (o.op === "binary" ? o.a === out.value || o.b === out.value : o.op === "embed" ? o.ids === out.value : o.x === out.value))) {
    throw new ExecutorInputError(`lastLogits: the logits \`${out.name}\` of model \`${program.entry}\` are read by another op, which needs every position`);
  }
  const K = program.values[op.x]!.width;
  if ((K * bytesPer(dtype)) % 4 !== 0) {
    throw new ExecutorInputError(`lastLogits: the LM head '${op.weight}' reads rows of ${K} values, which in ${dtype} are not a multiple of 4 bytes (the last row is copied at a 4-byte offset); use f32 storage or an even width`);
  }
  return i;
}

/** The LM head's op index where a last-position head applies (lmHeadIndex's conditions), else −1. */
function lastLogitsHead(program: IrProgram, dtype: StorageDtype): number {
  try {
    return lmHeadIndex(program, dtype);
  } catch (e) {
    if (e instanceof ExecutorInputError) return -1;
    throw e;
  }
}

/** Generation needs a model over one I32 input (the token ids) with one output (the logits). */
function checkDecodable(program: IrProgram, decode: { context: number; kvDtype?: string }): void {
  if (!Number.isInteger(decode.context) || decode.context < 1) throw new ExecutorInputError(`decode.context must be a positive integer, got ${decode.context}`);
  if (decode.kvDtype !== undefined && decode.kvDtype !== "f32" && decode.kvDtype !== "f16") throw new ExecutorInputError(`decode.kvDtype must be "f32" or "f16", got ${String(decode.kvDtype)}`);
  if (!program.model) throw new ExecutorInputError(`decode applies to a model; \`${program.entry}\` is a layer or graph`);
  const ids = program.inputs.length === 1 ? program.values[program.inputs[0]!.value] : undefined;
  if (!ids || ids.dtype !== "i32") throw new ExecutorInputError(`decode: model \`${program.entry}\` needs one input of token ids; it has ${program.inputs.map((i) => `'${i.name}'`).join(", ") || "none"}`);
  if (program.outputs.length !== 1) throw new ExecutorInputError(`decode: model \`${program.entry}\` has ${program.outputs.length} outputs; it needs one, its logits`);
  // A cached decode step sees only its new rows, never the whole sequence's mean (§11.1).
  const perSequence = program.ops.find((op) => op.op === "moe" && op.router.unit === "sequence");
  if (perSequence?.op === "moe") {
    throw new ExecutorInputError(`decode: router '${perSequence.router.key}' of model \`${program.entry}\` routes per sequence (one decision from the mean of the whole sequence), which a cached decode step cannot reproduce; run the model with \`moec run\` instead`);
  }
}

/** Records a plan's clears, then every lowering's dispatches for T tokens, into `rec`. */
async function encodePlan(plan: Plan, rec: Recorder, T: number): Promise<Recorder> {
  for (const l of plan.lowerings) for (const c of l.clears) rec.clear(c);
  for (const l of plan.lowerings) {
    rec.beginOp(l.op, l.kind, l.name);
    await l.encode(rec, T);
  }
  return rec;
}

function opName(program: IrProgram, op: IrOp): string {
  return program.values.find((v) => v.id === op.out)?.name ?? `%${op.out}`;
}

class GpuExecutor implements Executor {
  readonly dtype: StorageDtype;
  readonly fused: boolean;
  get weightFormat(): GpuBlockFormat | undefined {
    return this.weights.blockFormat;
  }
  get weightBytes(): number {
    return this.weights.bytes;
  }
  get blockBytesSaved(): { whole: number; routed: number; gathered: number } {
    return { whole: this.weights.blockBytesSaved("whole"), routed: this.weights.blockBytesSaved("routed"), gathered: this.weights.blockBytesSaved("gathered") };
  }
  private readonly fineSchedule: FineSchedule;
  private readonly gemmLoops: "auto" | "tile";
  private readonly gemmWeights: "auto" | "nk" | "kn";
  private readonly tuning: TuningTable | undefined;
  private readonly deviceMemoryBytes: number | undefined;
  private readonly subgroups: boolean;
  lastRunInfo: RunInfo | undefined;
  lastRouting: Map<string, RoutingResult> | undefined;
  lastStats: Map<string, RouterStats> | undefined;
  private readonly stats: boolean;
  /** Router state updates after each run: layers yes; models only when asked (§13.0). */
  private readonly updateState: boolean;
  private plan: Plan | undefined;
  /** The device context plans are built with: its binding limit lowered to `maxActivationBytes`. */
  private readonly buildGpu: GpuContext;
  /** Largest token capacity whose buffers fit (known once a plan hit the limit; token-chunks.ts). */
  private maxChunk: number | undefined;
  private readonly runUniform: GPUBuffer;
  /** Residual adds absorbed by the ops around them (fuse.ts). */
  private readonly fusions: Fusions;
  private disposed = false;
  private busy = false;
  /** With `lastLogits`: the LM head's op index (its output has one row); else -1. */
  private readonly headIndex: number;
  /** The head a generation's prefill plan computes for the last position only (a prefill reads
   *  only that row): headIndex, else the model's LM head where lastLogits could apply, else −1. */
  private readonly prefillHead: number;
  /** With `decode`: the KV cache and the prefill and decode plans. */
  private generation: Generation | undefined;
  private batch: BatchGeneration | undefined;
  private group: GroupGeneration | undefined;

  constructor(
    private readonly gpu: GpuContext,
    readonly program: IrProgram,
    private readonly weights: WeightStore,
    opts: ExecutorOptions,
  ) {
    this.dtype = opts.dtype ?? "f32";
    this.fused = opts.fused ?? true;
    this.fineSchedule = opts.fineSchedule ?? "auto";
    this.gemmLoops = opts.gemmLoops ?? "auto";
    // A generation executor's time goes to one-row decode steps, whose GEMVs over weights larger
    // than the caches stream faster from [N, K] (bench/RESULTS.md, "Transposed weights").
    this.gemmWeights = opts.gemmWeights ?? (opts.decode ? "nk" : "auto");
    this.tuning = opts.tuning === null ? undefined : (opts.tuning ?? gpu.tuning);
    this.deviceMemoryBytes = opts.deviceMemoryBytes;
    this.subgroups = gpu.features.subgroups && opts.subgroups !== false;
    this.stats = opts.stats ?? false;
    this.updateState = opts.updateState ?? !program.model;
    this.headIndex = opts.lastLogits ? lmHeadIndex(program, this.dtype) : -1;
    this.prefillHead = this.headIndex >= 0 ? this.headIndex : opts.decode ? lastLogitsHead(program, this.dtype) : -1;
    this.runUniform = gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: "run" });
    this.fusions = this.fused ? planFusions(program) : { residual: new Map(), addNorm: new Map(), absorbed: new Set() };
    const activationLimit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize, opts.maxActivationBytes ?? Infinity);
    this.buildGpu = { ...gpu, limits: { ...gpu.limits, maxStorageBufferBindingSize: activationLimit } };
    if (opts.decode) {
      checkDecodable(program, opts.decode);
      this.generation = { cache: allocateKvCache(gpu, program, opts.decode.context, opts.decode.kvDtype ?? "f32"), position: { pos0: 0 }, length: 0 };
    }
  }

  /**
   * Builds (or reuses) the plan for at least min(tokens, largest capacity that fits) tokens;
   * capacity grows by powers of two. When a plan's buffers exceed the binding limit, the largest
   * capacity that fits is measured (sizing builds, binary search) and runs above it are chunked.
   */
  async ensurePlan(tokens: number): Promise<Plan> {
    const want = Math.min(tokens, this.maxChunk ?? Infinity);
    if (this.plan && this.plan.cap >= want) return this.plan;
    const cap = Math.min(Math.max(1, 2 ** Math.ceil(Math.log2(want))), this.maxChunk ?? Infinity);
    try {
      return await this.buildPlan(cap);
    } catch (e) {
      if (!(e instanceof ActivationTooLargeError) || this.maxChunk !== undefined) throw e;
    }
    const limit = this.buildGpu.limits.maxStorageBufferBindingSize;
    const { device } = this.gpu;
    device.pushErrorScope("validation"); // sizing lowerings may write into placeholders
    try {
      const measure = async (c: number) => {
        const p = await this.buildPlan(c, true);
        p.build.dispose();
        return (p.build as SizingContext).largest;
      };
      this.maxChunk = await largestFitting(cap - 1, async (c) => (await measure(c)).bytes <= limit);
      if (this.maxChunk === 0) {
        const one = await measure(1);
        throw new ActivationTooLargeError(
          `buffer '${one.label}' needs ${one.bytes} bytes for a single token, above the storage binding limit of ${limit} bytes`,
        );
      }
    } finally {
      await device.popErrorScope();
    }
    return this.buildPlan(Math.min(cap, this.maxChunk));
  }

  /** Builds the plan for `cap` tokens and installs it; `sizing`: only measures its buffers;
   *  `generation`: a generation's prefill or decode plan, returned and not installed. */
  private async buildPlan(cap: number, sizing = false, generation?: GenerationBuild): Promise<Plan> {
    const values = new Map<ValueId, GPUBuffer>();
    const head = generation?.mode === "prefill" ? this.prefillHead : this.headIndex;
    const build = new (sizing ? SizingContext : BuildContext)(this.buildGpu, this.program, this.dtype, cap, this.runUniform, this.weights, values, this.subgroups, { stats: this.stats, updateState: this.updateState }, generation, this.gemmLoops, this.tuning, this.gemmWeights);
    try {
      for (const v of this.program.values) {
        values.set(v.id, build.storage(this.rows(v.id, cap, head) * v.width, `value ${v.name}`, v.dtype === "i32" ? 4 : bytesPer(this.dtype)));
      }
      // All ops' pipelines compile concurrently; residual adds are absorbed by their neighbours.
      const ops = this.program.ops;
      const lowerings = await Promise.all(
        ops.map((op, i) => {
          const name = opName(this.program, op);
          if (this.fusions.absorbed.has(i)) return absorbed(i, op.op, name);
          const addNorm = this.fusions.addNorm.get(i);
          if (i === head && op.op === "linear") return lowerLastLogits(build, op, i, name);
          if (addNorm !== undefined && op.op === "binary") return lowerAddNorm(build, op, ops[addNorm] as Extract<IrOp, { op: "norm" }>, i, name);
          switch (op.op) {
            case "moe":
              return this.fused ? lowerRoutedPool(build, op, i, name, this.fineSchedule) : lowerMoeUnfused(build, op, i, name);
            case "shared":
              return this.fused ? lowerSharedPool(build, op, i, name) : lowerSharedUnfused(build, op, i, name);
            case "embed":
              return lowerEmbed(build, op, i, name);
            case "norm":
              return lowerNorm(build, op, i, name);
            case "attention":
              return lowerAttention(build, op, i, name, this.fusions.residual.get(i));
            case "mla":
              return lowerMla(build, op, i, name, this.fusions.residual.get(i));
            case "peer_attention":
              return lowerPeerAttention(build, op, i, name);
            case "moe_agents":
              return lowerMoeAgents(build, op, i, name);
            default:
              return lowerSimpleOp(build, op, i, name);
          }
        }),
      );
      if (sizing || generation) return { cap, build, values, lowerings };
      this.plan?.build.dispose();
      this.plan = { cap, build, values, lowerings };
      return this.plan;
    } catch (e) {
      build.dispose();
      throw e;
    }
  }

  /** Rows a value holds in a run of T tokens: T, or 1 for the logits of a last-position head. */
  private rows(value: ValueId, T: number, head = this.headIndex): number {
    return head >= 0 && this.program.ops[head]!.out === value ? 1 : T;
  }

  private validate(inputs: Map<string, Float32Array | Int32Array>, tokens: number): void {
    if (!Number.isInteger(tokens) || tokens < 1) throw new ExecutorInputError(`tokens must be a positive integer, got ${tokens}`);
    for (const name of inputs.keys()) {
      if (!this.program.inputs.some((i) => i.name === name)) {
        throw new ExecutorInputError(`unknown input '${name}'; the program's inputs are ${this.program.inputs.map((i) => `'${i.name}'`).join(", ")}`);
      }
    }
    for (const inp of this.program.inputs) {
      const v = this.program.values.find((x) => x.id === inp.value)!;
      const data = inputs.get(inp.name);
      if (data instanceof Int32Array) this.checkIds(inp.name, inp.value, data);
      const want = `${v.dtype === "i32" ? "Int32Array" : "Float32Array"} of tokens × ${v.width} = ${tokens * v.width} values`;
      if (!data) throw new ExecutorInputError(`missing input '${inp.name}' (expected a ${want})`);
      const okType = v.dtype === "i32" ? data instanceof Int32Array : data instanceof Float32Array;
      if (!okType) throw new ExecutorInputError(`input '${inp.name}' is a ${data.constructor.name}, expected a ${want}`);
      if (data.length !== tokens * v.width) {
        throw new ExecutorInputError(`input '${inp.name}' has ${data.length} values, expected a ${want}`);
      }
    }
  }

  /** Token ids must index every embedding that reads them (LANGUAGE.md §13.1): the first bad one is named. */
  private checkIds(name: string, value: ValueId, ids: Int32Array): void {
    for (const op of this.program.ops) {
      if (op.op !== "embed" || op.ids !== value) continue;
      for (let t = 0; t < ids.length; t++) {
        const id = ids[t]!;
        if (id < 0 || id >= op.vocab) throw new ExecutorInputError(`input '${name}': token ${t} is id ${id}, outside the vocabulary 0…${op.vocab - 1} of '${op.weight}'`);
      }
    }
  }

  async run(inputs: Map<string, Float32Array | Int32Array>, tokens: number, opts: RunOptions = {}): Promise<Map<string, Float32Array>> {
    if (this.disposed) throw new Error("executor is disposed");
    if (this.busy) throw new Error("executor.run is already in progress; await the previous run");
    this.validate(inputs, tokens);
    if (opts.profile && !this.gpu.features.timestamps) throw new Error("profile needs the timestamp-query feature, which this adapter lacks");
    this.busy = true;
    try {
      const plan = await this.ensurePlan(tokens);
      const { device } = this.gpu;
      const returnRouting = opts.returnRouting ?? false;
      const maxBufferSize = this.gpu.limits.maxBufferSize;
      const chunk = chunkSize(tokens, plan.cap, ioBytes(this.program, this.dtype, plan.lowerings, returnRouting), maxBufferSize);
      if (chunk < tokens) {
        // Token chunks (token-chunks.ts): one command buffer, one read-back, as below.
        assertChunkable(this.program, plan.lowerings, tokens, chunk, `buffers for more tokens exceed the ${this.buildGpu.limits.maxStorageBufferBindingSize}-byte binding limit`);
        const rec = new Recorder(device, tokens, opts.profile ?? false);
        const res = await runChunked({
          device, program: this.program, dtype: this.dtype, fused: this.fused, values: plan.values, lowerings: plan.lowerings,
          runUniform: this.runUniform, inputs, tokens, chunk, maxBufferSize, rec, returnRouting,
        });
        if (res.stats) this.lastStats = new Map([...res.stats].map(([k, s]) => [k, finishStats(s as Parameters<typeof finishStats>[0])]));
        if (res.routing) this.lastRouting = res.routing;
        this.lastRunInfo = { ...rec.info, chunks: { count: res.chunks, tokens: chunk } };
        return res.outputs;
      }
      device.queue.writeBuffer(this.runUniform, 0, new Uint32Array([tokens, 0, 0, 0]));
      for (const inp of this.program.inputs) {
        const data = inputs.get(inp.name)!;
        const buf = plan.values.get(inp.value)!;
        if (data instanceof Int32Array) device.queue.writeBuffer(buf, 0, data);
        else writeFloats(device, buf, 0, data, this.dtype);
      }

      const rec = await encodePlan(plan, new Recorder(device, tokens, opts.profile ?? false), tokens);

      const reads: ReadRequest[] = this.program.outputs.map((o) => ({
        buffer: plan.values.get(o.value)!,
        bytes: this.rows(o.value, tokens) * plan.build.width(o.value) * bytesPer(this.dtype),
      }));
      const routed = opts.returnRouting ? plan.lowerings.filter((l) => l.routing) : [];
      for (const l of routed) {
        const r = l.routing!;
        reads.push({ buffer: r.tokCount, bytes: tokens * 4 }, { buffer: r.ids, bytes: tokens * r.maxPerToken * 4 }, { buffer: r.wts, bytes: tokens * r.maxPerToken * 4 });
      }
      // Routing statistics (executor option `stats`) come back in the same read-back.
      const statted = plan.lowerings.filter((l) => l.routerStats);
      const statReads = statted.map((l) => l.routerStats!.reads(tokens));
      const statBase = reads.length;
      for (const r of statReads) reads.push(...r);
      const data = await rec.finish(reads);
      if (statted.length) {
        this.lastStats = new Map();
        let at = statBase;
        statted.forEach((l, j) => {
          const n = statReads[j]!.length;
          this.lastStats!.set(l.routerStats!.key, finishStats(l.routerStats!.decode(data.slice(at, at + n), tokens)));
          at += n;
        });
      }

      const result = new Map<string, Float32Array>();
      this.program.outputs.forEach((o, i) => {
        const n = this.rows(o.value, tokens) * plan.build.width(o.value);
        const raw = data[i]!;
        result.set(o.name, this.dtype === "f16" ? fromF16(new Uint16Array(raw, 0, n)) : new Float32Array(raw, 0, n));
      });
      if (opts.returnRouting) {
        this.lastRouting = new Map();
        routed.forEach((l, j) => {
          const r = l.routing!;
          const base = this.program.outputs.length + 3 * j;
          this.lastRouting!.set(r.key, {
            key: r.key,
            maxPerToken: r.maxPerToken,
            counts: new Uint32Array(data[base]!, 0, tokens),
            ids: new Uint32Array(data[base + 1]!, 0, tokens * r.maxPerToken),
            weights: new Float32Array(data[base + 2]!, 0, tokens * r.maxPerToken),
          });
        });
      }
      this.lastRunInfo = rec.info;
      return result;
    } finally {
      this.busy = false;
    }
  }

  ensureGeneration(decode: { context: number; kvDtype?: "f32" | "f16" }): void {
    if (this.disposed) throw new Error("executor is disposed");
    if (this.busy) throw new Error("ensureGeneration: a run or step is already in progress; await it");
    const kvDtype = decode.kvDtype ?? "f32";
    const have = this.generation;
    if (have && have.cache.context >= decode.context && have.cache.dtype === kvDtype) return;
    checkDecodable(this.program, decode);
    if (kvDtype === "f16" && !this.gpu.features.f16) throw new Error(`decode.kvDtype f16 needs the 'shader-f16' feature, which adapter '${this.gpu.adapterInfo.description}' lacks; use kvDtype f32`);
    this.checkCacheFit(kvCacheBytes(this.program, decode.context, kvDtype), decode.context);
    const cache = allocateKvCache(this.gpu, this.program, decode.context, kvDtype);
    if (have) this.disposeGeneration(have);
    this.generation = { cache, position: { pos0: 0 }, length: 0 };
  }

  /** The device-fit check for a KV cache about to be allocated (the weights are uploaded already). */
  private checkCacheFit(bytes: number, context: number): void {
    checkDeviceFit(this.gpu, this.program, this.dtype, this.deviceMemoryBytes, { bytes, context, uploaded: true }, { ...(this.weightFormat ? { weightFormat: this.weightFormat } : {}), schedule: this.fused ? this.fineSchedule : "expert" });
  }

  ensureBatch(batch: { rows: number; context: number; kvDtype?: "f32" | "f16" }): void {
    if (this.disposed) throw new Error("executor is disposed");
    if (this.busy) throw new Error("ensureBatch: a run or step is already in progress; await it");
    const { rows, context } = batch;
    const kvDtype = batch.kvDtype ?? "f32";
    if (!Number.isInteger(rows) || rows < 1) throw new ExecutorInputError(`ensureBatch: rows must be a positive integer, got ${rows}`);
    if (this.headIndex >= 0) throw new ExecutorInputError("ensureBatch: batched decoding needs every row's logits; create the executor without lastLogits");
    const have = this.batch;
    if (have && have.rows === rows && have.cache.context === context && have.cache.dtype === kvDtype) return;
    // Prompts are prefilled through the one-sequence cache, which must have the same rings.
    const single = this.generation;
    if (!single || single.cache.context !== context || single.cache.dtype !== kvDtype) {
      if (single) this.disposeGeneration(single);
      this.generation = undefined;
      this.ensureGeneration({ context, kvDtype });
    }
    this.checkCacheFit(kvCacheBytes(this.program, context, kvDtype, rows), context);
    const cache = allocateKvCache(this.gpu, this.program, context, kvDtype, rows);
    if (have) this.disposeBatch(have);
    const positions = this.gpu.device.createBuffer({ size: Math.max(16, rows * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, label: "batch positions" });
    this.batch = { rows, cache, positions, position: { pos0: 0 }, lengths: new Array<number>(rows).fill(0) };
  }

  ensureGroup(group: { threads: number; context: number; kvDtype?: "f32" | "f16" }): void {
    if (this.disposed) throw new Error("executor is disposed");
    if (this.busy) throw new Error("ensureGroup: a run or step is already in progress; await it");
    const { threads, context } = group;
    const kvDtype = group.kvDtype ?? "f32";
    if (!Number.isInteger(threads) || threads < 1) throw new ExecutorInputError(`ensureGroup: threads must be a positive integer, got ${threads}`);
    if (this.headIndex >= 0) throw new ExecutorInputError("ensureGroup: Group Think needs every thread's logits; create the executor without lastLogits");
    checkDecodable(this.program, { context, kvDtype });
    if (kvDtype === "f16" && !this.gpu.features.f16) throw new Error(`kvDtype f16 needs the 'shader-f16' feature, which adapter '${this.gpu.adapterInfo.description}' lacks; use kvDtype f32`);
    const have = this.group;
    if (have && have.threads === threads && have.prompt.cache.context >= context && have.prompt.cache.dtype === kvDtype) return;
    this.checkCacheFit(kvCacheBytes(this.program, context, kvDtype, 1, true), context);
    const cache = allocateKvCache(this.gpu, this.program, context, kvDtype, 1, true);
    if (have) this.disposeGroup(have);
    const { device } = this.gpu;
    const positions = device.createBuffer({ size: Math.max(16, threads * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, label: "group positions" });
    const grp = device.createBuffer({ size: Math.max(16, (3 + threads) * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, label: "group step" });
    this.group = { threads, prompt: { cache, position: { pos0: 0 }, length: 0 }, positions, grp, step: 0, seen: new Array<number>(threads).fill(0), live: new Array<boolean>(threads).fill(true) };
  }

  private grouping(what: string): GroupGeneration {
    if (this.disposed) throw new Error("executor is disposed");
    if (!this.group) throw new ExecutorInputError(`${what} needs ensureGroup({ threads, context }) first`);
    if (this.busy) throw new Error(`${what}: a run or step is already in progress; await it`);
    return this.group;
  }

  async prefillGroup(ids: Int32Array): Promise<Float32Array> {
    const gg = this.grouping("prefillGroup");
    this.busy = true;
    try {
      // Group Think's steps run the group plan; the prompt needs no T = 1 decode plan.
      const { rec, row } = await this.recordPrefill(gg.prompt, ids, false);
      const lead = row.offset % 4;
      const [raw] = await rec.finish([{ buffer: row.buffer, bytes: row.vocab * bytesPer(this.dtype) + lead, offset: row.offset - lead }]);
      this.lastRunInfo = rec.info;
      gg.prompt.length = ids.length;
      gg.step = 0;
      gg.seen.fill(0);
      gg.live.fill(true);
      return this.dtype === "f16" ? fromF16(new Uint16Array(raw!, lead, row.vocab)) : new Float32Array(raw!, 0, row.vocab);
    } finally {
      this.busy = false;
    }
  }

  async decodeGroup(ids: Int32Array, live: readonly boolean[]): Promise<Float32Array> {
    const gg = this.grouping("decodeGroup");
    const N = gg.threads, P = gg.prompt.length, k = gg.step;
    if (P === 0) throw new ExecutorInputError("decodeGroup: no prompt in the shared cache; call prefillGroup(ids) first");
    if (ids.length !== N || live.length !== N) throw new ExecutorInputError(`decodeGroup: ${ids.length} ids and ${live.length} live flags for ${N} threads; give one of each per thread`);
    live.forEach((l, n) => {
      if (l && !gg.live[n]) throw new ExecutorInputError(`decodeGroup: thread ${n} stopped at step ${gg.seen[n]}; a stopped thread cannot write again`);
    });
    const rows = P + (k + 1) * N;
    if (rows > gg.prompt.cache.context) throw new ContextFullError(`decodeGroup: context full: step ${k} of ${N} threads needs ${rows} cache rows (the prompt's ${P}, then ${N} per step), above the shared cache's ${gg.prompt.cache.context}`);
    const input = this.program.inputs[0]!;
    this.checkIds(input.name, input.value, ids);
    this.busy = true;
    try {
      const plan = await this.groupPlan(gg);
      const { device } = this.gpu;
      gg.prompt.position.pos0 = P + k;
      device.queue.writeBuffer(this.runUniform, 0, new Uint32Array([N, 0, 0, 0]));
      device.queue.writeBuffer(gg.positions, 0, new Uint32Array(N).fill(P + k));
      device.queue.writeBuffer(gg.grp, 0, groupStepState(P, N, k, gg.seen));
      device.queue.writeBuffer(gg.tokenBuffer!, 0, ids);
      const rec = await encodePlan(plan, new Recorder(device, N, false), N);
      const out = this.program.outputs[0]!.value;
      const vocab = plan.build.width(out);
      const [raw] = await rec.finishInto(gg.staging!, [{ buffer: plan.values.get(out)!, bytes: N * vocab * bytesPer(this.dtype) }]);
      this.lastRunInfo = rec.info;
      // This step's live rows are now cached tokens the next steps read.
      live.forEach((l, n) => {
        if (l) gg.seen[n]!++;
        else gg.live[n] = false;
      });
      gg.step++;
      return this.dtype === "f16" ? fromF16(new Uint16Array(raw!, 0, N * vocab)) : new Float32Array(raw!, 0, N * vocab);
    } finally {
      this.busy = false;
    }
  }

  /** The T = N group plan over the shared cache, built once, with its token buffer and read-back staging. */
  private async groupPlan(gg: GroupGeneration): Promise<Plan> {
    if (gg.plan) return gg.plan;
    const plan = await this.buildPlan(gg.threads, false, { mode: "group", cache: gg.prompt.cache, position: gg.prompt.position, positions: gg.positions, group: gg.grp });
    gg.tokenBuffer = plan.values.get(this.program.inputs[0]!.value)!;
    const bytes = gg.threads * plan.build.width(this.program.outputs[0]!.value) * bytesPer(this.dtype);
    gg.staging = this.gpu.device.createBuffer({ size: Math.max(4, Math.ceil(bytes / 4) * 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: "group logits staging" });
    gg.plan = plan;
    return plan;
  }

  private disposeGroup(gg: GroupGeneration): void {
    gg.plan?.build.dispose();
    gg.staging?.destroy();
    gg.positions.destroy();
    gg.grp.destroy();
    this.disposeGeneration(gg.prompt);
  }

  get batchPositions(): readonly number[] {
    return this.batch?.lengths ?? [];
  }

  private batching(what: string): BatchGeneration {
    if (this.disposed) throw new Error("executor is disposed");
    if (!this.batch) throw new ExecutorInputError(`${what} needs ensureBatch({ rows, context }) first`);
    if (this.busy) throw new Error(`${what}: a run or step is already in progress; await it`);
    return this.batch;
  }

  /** The T = B decode plan, built once, with its token buffer and read-back staging. */
  private async batchPlan(bg: BatchGeneration): Promise<Plan> {
    if (bg.plan) return bg.plan;
    const plan = await this.buildPlan(bg.rows, false, { mode: "batch", cache: bg.cache, position: bg.position, positions: bg.positions });
    bg.tokenBuffer = plan.values.get(this.program.inputs[0]!.value)!;
    const bytes = bg.rows * plan.build.width(this.program.outputs[0]!.value) * bytesPer(this.dtype);
    bg.staging = this.gpu.device.createBuffer({ size: Math.max(4, Math.ceil(bytes / 4) * 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: "batch logits staging" });
    bg.plan = plan;
    return plan;
  }

  async prefillRow(row: number, ids: Int32Array): Promise<Float32Array> {
    const bg = this.batching("prefillRow");
    if (!Number.isInteger(row) || row < 0 || row >= bg.rows) throw new ExecutorInputError(`prefillRow: row ${row} is outside the batch of ${bg.rows} rows`);
    const plan = await this.batchPlan(bg);
    const single = this.generation!;
    this.busy = true;
    try {
      const { rec, row: last } = await this.recordPrefill(single, ids);
      // The prompt's cache rows into slot `row`, and its last logits into row `row` of the batch
      // plan's logits (where a batch sampler reads), in the same command buffer.
      for (const [key, blk] of single.cache.blocks) {
        const slotBytes = blk.ring * blk.rowWidth * bytesPer(single.cache.dtype);
        rec.copy(blk.buffer, 0, bg.cache.blocks.get(key)!.buffer, row * slotBytes, slotBytes);
      }
      const rowBytes = last.vocab * bytesPer(this.dtype);
      const aligned = rowBytes % 4 === 0 && last.offset % 4 === 0;
      if (aligned) rec.copy(last.buffer, last.offset, plan.values.get(this.program.outputs[0]!.value)!, row * rowBytes, rowBytes);
      const lead = last.offset % 4;
      const [raw] = await rec.finish([{ buffer: last.buffer, bytes: rowBytes + lead, offset: last.offset - lead }]);
      this.lastRunInfo = rec.info;
      single.length = ids.length;
      bg.lengths[row] = ids.length;
      bg.logitsPlaced = aligned;
      return this.dtype === "f16" ? fromF16(new Uint16Array(raw!, lead, last.vocab)) : new Float32Array(raw!, 0, last.vocab);
    } finally {
      this.busy = false;
    }
  }

  async batchSamplingTarget(): Promise<SamplingTarget> {
    const bg = this.batching("batchSamplingTarget");
    const plan = await this.batchPlan(bg);
    const out = this.program.outputs[0]!.value;
    const vocab = plan.build.width(out);
    if ((vocab * bytesPer(this.dtype)) % 4 !== 0) throw new ExecutorInputError(`batched sampling: a logits row of ${vocab} ${this.dtype} values is not a multiple of 4 bytes, so prompts' rows cannot be placed for the sampler; use f32 storage or an even vocabulary`);
    return { logits: plan.values.get(out)!, tokens: bg.tokenBuffer!, vocab, dtype: this.dtype };
  }

  async sampleBatch(sample: StepSample): Promise<SampledToken[]> {
    const bg = this.batching("sampleBatch");
    if (bg.lengths.some((n) => n === 0) || !bg.logitsPlaced) throw new ExecutorInputError("sampleBatch: every row needs its prompt (prefillRow) first");
    this.busy = true;
    try {
      return await this.finishBatchSampled(new Recorder(this.gpu.device, bg.rows, false), bg, sample);
    } finally {
      this.busy = false;
    }
  }

  async decodeBatchSampled(sample: StepSample): Promise<SampledToken[]> {
    const bg = this.batching("decodeBatchSampled");
    this.busy = true;
    try {
      const rec = await this.recordBatch(bg, undefined);
      const tokens = await this.finishBatchSampled(rec, bg, sample);
      for (let b = 0; b < bg.rows; b++) bg.lengths[b]!++;
      return tokens;
    } finally {
      this.busy = false;
    }
  }

  /** Records the sampler on all B rows and reads back only the B ids and B stop flags. */
  private async finishBatchSampled(rec: Recorder, bg: BatchGeneration, sample: StepSample): Promise<SampledToken[]> {
    rec.beginOp(-1, "sample", "sampler");
    sample.record(rec);
    const [ids, done] = await rec.finishInto(bg.staging!, [{ buffer: bg.tokenBuffer!, bytes: 4 * bg.rows }, { buffer: sample.done, bytes: 4 * bg.rows }]);
    this.lastRunInfo = rec.info;
    const idv = new Int32Array(ids!);
    const dv = new Uint32Array(done!);
    return Array.from({ length: bg.rows }, (_, b) => ({ id: idv[b]!, done: dv[b] !== 0 }));
  }

  /** Records one step of every row at its own position (ids: written here, else left by the sampler). */
  private async recordBatch(bg: BatchGeneration, ids: Int32Array | undefined): Promise<Recorder> {
    if (ids && ids.length !== bg.rows) throw new ExecutorInputError(`decodeBatch: ${ids.length} ids for a batch of ${bg.rows} rows; give one id per row`);
    bg.lengths.forEach((n, b) => {
      if (n === 0) throw new ExecutorInputError(`decodeBatch: row ${b} has no prompt in its slot; call prefillRow(${b}, ids) first`);
      if (n >= bg.cache.context) throw new ContextFullError(`decodeBatch: row ${b}: context full: position ${n} is past the KV cache's last position ${bg.cache.context - 1} (context = ${bg.cache.context})`);
    });
    const input = this.program.inputs[0]!;
    if (ids) this.checkIds(input.name, input.value, ids);
    const plan = await this.batchPlan(bg);
    const { device } = this.gpu;
    const B = bg.rows;
    bg.position.pos0 = Math.max(...bg.lengths);
    // Per step: the run uniform [T = B], the B positions and the B ids (queue writes, no buffers).
    device.queue.writeBuffer(this.runUniform, 0, new Uint32Array([B, 0, 0, 0]));
    device.queue.writeBuffer(bg.positions, 0, Uint32Array.from(bg.lengths));
    if (ids) device.queue.writeBuffer(bg.tokenBuffer!, 0, ids);
    return encodePlan(plan, new Recorder(device, B, false), B);
  }

  async decodeBatch(ids: Int32Array): Promise<Float32Array> {
    const bg = this.batching("decodeBatch");
    this.busy = true;
    try {
      const rec = await this.recordBatch(bg, ids);
      const plan = bg.plan!;
      const out = this.program.outputs[0]!.value;
      const vocab = plan.build.width(out);
      const B = bg.rows;
      const [raw] = await rec.finishInto(bg.staging!, [{ buffer: plan.values.get(out)!, bytes: B * vocab * bytesPer(this.dtype) }]);
      this.lastRunInfo = rec.info;
      for (let b = 0; b < B; b++) bg.lengths[b]!++;
      return this.dtype === "f16" ? fromF16(new Uint16Array(raw!, 0, B * vocab)) : new Float32Array(raw!, 0, B * vocab);
    } finally {
      this.busy = false;
    }
  }

  private disposeBatch(bg: BatchGeneration): void {
    bg.plan?.build.dispose();
    bg.staging?.destroy();
    bg.positions.destroy();
    bg.cache.dispose();
  }

  private disposeGeneration(g: Generation): void {
    g.prefillPlan?.build.dispose();
    g.decodePlan?.build.dispose();
    g.staging?.destroy();
    g.cache.dispose();
  }

  get position(): number {
    return this.generation?.length ?? 0;
  }

  get decodeTokenBuffer(): GPUBuffer | undefined {
    return this.generation?.tokenBuffer;
  }

  private generating(what: string): Generation {
    if (this.disposed) throw new Error("executor is disposed");
    if (!this.generation) throw new ExecutorInputError(`${what} needs an executor created with the option decode: { context }`);
    if (this.busy) throw new Error(`${what}: a run or step is already in progress; await it`);
    return this.generation;
  }

  /** Builds the decode plan (T = 1) once per executor, with its token buffer and read-back staging. */
  private async decodePlan(g: Generation): Promise<Plan> {
    if (g.decodePlan) return g.decodePlan;
    const plan = await this.buildPlan(1, false, { mode: "decode", cache: g.cache, position: g.position });
    g.tokenBuffer = plan.values.get(this.program.inputs[0]!.value)!;
    const bytes = plan.build.width(this.program.outputs[0]!.value) * bytesPer(this.dtype);
    g.staging = this.gpu.device.createBuffer({ size: Math.max(4, Math.ceil(bytes / 4) * 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: "decode logits staging" });
    g.decodePlan = plan;
    return plan;
  }

  async prefill(ids: Int32Array): Promise<Float32Array> {
    const g = this.generating("prefill");
    this.busy = true;
    try {
      const { rec, row } = await this.recordPrefill(g, ids);
      const rowBytes = row.vocab * bytesPer(this.dtype);
      // Copies start at a multiple of 4 bytes, so an f16 row of odd width is read from 2 bytes before it.
      const lead = row.offset % 4;
      const [raw] = await rec.finish([{ buffer: row.buffer, bytes: rowBytes + lead, offset: row.offset - lead }]);
      this.lastRunInfo = rec.info;
      g.length = ids.length;
      return this.dtype === "f16" ? fromF16(new Uint16Array(raw!, lead, row.vocab)) : new Float32Array(raw!, 0, row.vocab);
    } finally {
      this.busy = false;
    }
  }

  async decodeStep(id?: number): Promise<Float32Array> {
    const g = this.generating("decodeStep");
    this.busy = true;
    try {
      const { rec, row } = await this.recordDecode(g, id);
      const [raw] = await rec.finishInto(g.staging!, [{ buffer: row.buffer, bytes: row.vocab * bytesPer(this.dtype) }]);
      this.lastRunInfo = rec.info;
      g.length++;
      return this.dtype === "f16" ? fromF16(new Uint16Array(raw!, 0, row.vocab)) : new Float32Array(raw!, 0, row.vocab);
    } finally {
      this.busy = false;
    }
  }

  async samplingTarget(): Promise<SamplingTarget> {
    return this.target(this.generating("samplingTarget"));
  }

  private async target(g: Generation): Promise<SamplingTarget> {
    const plan = await this.decodePlan(g);
    const out = this.program.outputs[0]!.value;
    return { logits: plan.values.get(out)!, tokens: g.tokenBuffer!, vocab: plan.build.width(out), dtype: this.dtype };
  }

  async prefillSampled(ids: Int32Array, sample: StepSample): Promise<SampledToken> {
    const g = this.generating("prefillSampled");
    this.busy = true;
    try {
      const { rec, row } = await this.recordPrefill(g, ids);
      // The sampler reads the decode plan's logits row; the prompt's last row is copied there.
      const target = await this.target(g);
      if (row.buffer !== target.logits || row.offset !== 0) rec.copy(row.buffer, row.offset, target.logits, 0, Math.ceil((row.vocab * bytesPer(this.dtype)) / 4) * 4);
      const token = await this.finishSampled(rec, g, sample);
      g.length = ids.length;
      return token;
    } finally {
      this.busy = false;
    }
  }

  async decodeSampled(sample: StepSample): Promise<SampledToken> {
    const g = this.generating("decodeSampled");
    this.busy = true;
    try {
      const { rec } = await this.recordDecode(g, undefined);
      const token = await this.finishSampled(rec, g, sample);
      g.length++;
      return token;
    } finally {
      this.busy = false;
    }
  }

  /** Records the sampler after the step and reads back only the new id and its stop flag (8 bytes). */
  private async finishSampled(rec: Recorder, g: Generation, sample: StepSample): Promise<SampledToken> {
    rec.beginOp(-1, "sample", "sampler");
    sample.record(rec);
    const [id, done] = await rec.finishInto(g.staging!, [{ buffer: g.tokenBuffer!, bytes: 4 }, { buffer: sample.done, bytes: 4 }]);
    this.lastRunInfo = rec.info;
    return { id: new Int32Array(id!)[0]!, done: new Uint32Array(done!)[0] !== 0 };
  }

  /** Records the prompt's prefill from position 0 (filling the KV cache); where its last logits row is. */
  private async recordPrefill(g: Generation, ids: Int32Array, withDecodePlan = true): Promise<{ rec: Recorder; row: { buffer: GPUBuffer; offset: number; vocab: number } }> {
    const P = ids.length;
    if (P < 1) throw new ExecutorInputError("prefill: the prompt is empty; it needs at least one token id");
    if (P > g.cache.context) throw new ContextFullError(`prefill: the prompt has ${P} tokens, more than the KV cache's context of ${g.cache.context} positions`);
    const input = this.program.inputs[0]!;
    this.checkIds(input.name, input.value, ids);
    if (withDecodePlan) await this.decodePlan(g);
    if (!g.prefillPlan || g.prefillPlan.cap < P) {
      g.prefillPlan?.build.dispose();
      g.prefillPlan = undefined;
      const cap = Math.max(1, 2 ** Math.ceil(Math.log2(P)));
      g.prefillPlan = await this.buildPlan(cap, false, { mode: "prefill", cache: g.cache, position: g.position });
    }
    const plan = g.prefillPlan;
    const { device } = this.gpu;
    g.length = 0;
    device.queue.writeBuffer(this.runUniform, 0, new Uint32Array([P, 0, 0, 0]));
    device.queue.writeBuffer(plan.values.get(input.value)!, 0, ids);
    const rec = await encodePlan(plan, new Recorder(device, P, false), P);
    const out = this.program.outputs[0]!.value;
    const vocab = plan.build.width(out);
    // The last position's row (the only one under lastLogits).
    return { rec, row: { buffer: plan.values.get(out)!, offset: (this.rows(out, P, this.prefillHead) - 1) * vocab * bytesPer(this.dtype), vocab } };
  }

  /** Records one decode step at position `position`; its logits row [V]. */
  private async recordDecode(g: Generation, id: number | undefined, into?: Recorder): Promise<{ rec: Recorder; row: { buffer: GPUBuffer; offset: number; vocab: number } }> {
    if (g.length === 0) throw new ExecutorInputError("decodeStep: no prompt in the KV cache; call prefill first");
    if (g.length >= g.cache.context) {
      throw new ContextFullError(`decodeStep: context full: position ${g.length} is past the KV cache's last position ${g.cache.context - 1} (decode.context = ${g.cache.context})`);
    }
    const input = this.program.inputs[0]!;
    if (id !== undefined) this.checkIds(input.name, input.value, Int32Array.of(id));
    const plan = await this.decodePlan(g);
    const { device } = this.gpu;
    const pos = g.length;
    g.position.pos0 = pos;
    // The position: one 16-byte queue write of the run uniform per step ([T = 1, pos0]).
    device.queue.writeBuffer(this.runUniform, 0, new Uint32Array([1, pos, 0, 0]));
    if (id !== undefined) device.queue.writeBuffer(g.tokenBuffer!, 0, Int32Array.of(id));
    const rec = await encodePlan(plan, into ?? new Recorder(device, 1, false), 1);
    const out = this.program.outputs[0]!.value;
    return { rec, row: { buffer: plan.values.get(out)!, offset: 0, vocab: plan.build.width(out) } };
  }

  /**
   * One decode step of each executor (on one device), recorded into ONE command buffer with one
   * read-back: the independent steps of a decoding graph's agents (decodeStepsTogether).
   */
  static async decodeTogether(execs: readonly GpuExecutor[], ids: readonly number[]): Promise<Float32Array[]> {
    if (execs.length !== ids.length) throw new ExecutorInputError(`decodeStepsTogether: ${ids.length} ids for ${execs.length} executors; give one id each`);
    if (new Set(execs).size !== execs.length) throw new ExecutorInputError("decodeStepsTogether: an executor is given twice; each steps once");
    const device = execs[0]!.gpu.device;
    if (execs.some((e) => e.gpu.device !== device)) throw new ExecutorInputError("decodeStepsTogether: the executors are on different devices; one command buffer needs one device");
    const gens = execs.map((e) => e.generating("decodeStepsTogether"));
    for (const e of execs) e.busy = true;
    try {
      const rec = new Recorder(device, execs.length, false);
      const rows: { buffer: GPUBuffer; offset: number; vocab: number }[] = [];
      for (let i = 0; i < execs.length; i++) rows.push((await execs[i]!.recordDecode(gens[i]!, ids[i]!, rec)).row);
      const raws = await rec.finish(rows.map((r, i) => ({ buffer: r.buffer, bytes: r.vocab * bytesPer(execs[i]!.dtype) })));
      return execs.map((e, i) => {
        e.lastRunInfo = rec.info;
        gens[i]!.length++;
        const v = rows[i]!.vocab;
        return e.dtype === "f16" ? fromF16(new Uint16Array(raws[i]!, 0, v)) : new Float32Array(raws[i]!, 0, v);
      });
    } finally {
      for (const e of execs) e.busy = false;
    }
  }

  /** Current router state (e_bias, …) by tensor name, as `--state-out` writes it. */
  async readState(): Promise<Map<string, Float32Array>> {
    if (this.disposed) throw new Error("executor is disposed");
    const plan = await this.ensurePlan(1);
    return readRouterState(this.gpu.device, plan.lowerings.flatMap((l) => (l.routerState ? [l.routerState] : [])));
  }

  /** Sets router state vectors by tensor name (e.g. `r.elastic_k`) for the next runs. */
  async writeState(values: Map<string, ArrayLike<number>>): Promise<void> {
    if (this.disposed) throw new Error("executor is disposed");
    const plan = await this.ensurePlan(1);
    writeRouterState(this.gpu.device, plan.lowerings.flatMap((l) => (l.routerState ? [l.routerState] : [])), values);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.plan?.build.dispose();
    this.plan = undefined;
    if (this.generation) this.disposeGeneration(this.generation);
    if (this.batch) this.disposeBatch(this.batch);
    if (this.group) this.disposeGroup(this.group);
    this.weights.dispose();
    this.runUniform.destroy();
  }
}

/**
 * One decode step of each executor, all in one command buffer and one read-back (they must share a
 * device; each executor once): the logits [V] of each. Agents of a decoding graph whose steps are
 * independent (an ensemble's, a vote's, one debate round's) step together this way.
 */
export async function decodeStepsTogether(execs: readonly Executor[], ids: readonly number[]): Promise<Float32Array[]> {
  if (execs.some((e) => !(e instanceof GpuExecutor))) throw new ExecutorInputError("decodeStepsTogether: every executor must come from createExecutor");
  return GpuExecutor.decodeTogether(execs as GpuExecutor[], ids);
}

/**
 * Creates a GPU executor for `program`. Weights use the canonical stacked layout (see
 * docs/kernels.md); they are validated and uploaded here, once.
 */
export async function createExecutor(
  ctx: GpuContext,
  program: IrProgram,
  weights: HostWeights,
  opts: ExecutorOptions = {},
): Promise<Executor> {
  const dtype = opts.dtype ?? "f32";
  if (dtype === "f16" && !ctx.features.f16) {
    throw new Error(`dtype f16 needs the 'shader-f16' feature, which adapter '${ctx.adapterInfo.description}' lacks; use dtype f32`);
  }
  if (opts.lastLogits) lmHeadIndex(program, dtype); // a clear error before any upload
  if (opts.decode) {
    checkDecodable(program, opts.decode);
    if (opts.decode.kvDtype === "f16" && !ctx.features.f16) throw new Error(`decode.kvDtype f16 needs the 'shader-f16' feature, which adapter '${ctx.adapterInfo.description}' lacks; use kvDtype f32`);
  }
  const maxBinding = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize, opts.maxBindingBytes ?? Infinity);
  // Refuse a model the device cannot hold before a single byte is uploaded.
  const kv = opts.decode ? { bytes: kvCacheBytes(program, opts.decode.context, opts.decode.kvDtype ?? "f32"), context: opts.decode.context } : undefined;
  if (opts.weightFormat !== undefined && !GPU_BLOCK_FORMATS.includes(opts.weightFormat)) throw new Error(`weightFormat '${String(opts.weightFormat)}' is not one of ${GPU_BLOCK_FORMATS.join(", ")}`);
  if (opts.fineSchedule !== undefined && !["auto", "token", "expert", "dense"].includes(opts.fineSchedule)) throw new Error(`fineSchedule '${String(opts.fineSchedule)}' is not one of auto, token, expert, dense`);
  checkDeviceFit(ctx, program, dtype, opts.deviceMemoryBytes, kv, { ...(opts.weightFormat ? { weightFormat: opts.weightFormat } : {}), schedule: opts.fused === false ? "expert" : (opts.fineSchedule ?? "auto") }); // the unfused baseline reads pools in the dtype
  if (opts.gemmWeights !== undefined && !["auto", "nk", "kn"].includes(opts.gemmWeights)) throw new Error(`gemmWeights '${String(opts.gemmWeights)}' is not one of auto, nk, kn`);
  const store = new WeightStore(ctx.device, weights, dtype, maxBinding, opts.weightFormat);
  const exec = new GpuExecutor(ctx, program, store, opts);
  try {
    // Validate and upload every weight now (and compile the pipelines) with a 1-token plan.
    await exec.ensurePlan(1);
  } catch (e) {
    exec.dispose();
    throw e;
  }
  return exec;
}

