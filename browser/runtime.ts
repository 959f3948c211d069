// The runtime in a browser: a device from navigator.gpu (acquireGpuFrom), weights from random
// seeds or safetensors given as bytes, a Blob/File (read in slices) or a URL, and the same
// executor and kernels as Node. Same seed, same numbers as Node's createRuntime.
import type { IrProgram } from "../compiler/ir/ir.js";
import { acquireGpuFrom, GpuUnavailableError, type GpuContext } from "../runtime/gpu/device.js";
import { createExecutor } from "../runtime/executor/executor.js";
import { executorProgram, type ExecutorProgram } from "../runtime/executor-program.js";
import { randomWeights } from "../runtime/weights/random-weights.js";
import { bindWeights } from "../runtime/weights/bind-weights.js";
import { WeightsError } from "../runtime/weights/weights-error.js";
import { parseSafetensors, type SafetensorsFile } from "../runtime/safetensors/parse.js";
import { readSafetensorsBlob } from "../runtime/safetensors/read-blob.js";
import { SafetensorsError } from "../runtime/safetensors/errors.js";
import { loadCheckpointModel, type BrowserCheckpoint, type BrowserModel } from "./checkpoint.js";

/** Safetensors bytes, a Blob or File (read in slices), or a URL to fetch. */
export type WeightsSource = ArrayBuffer | Uint8Array | Blob | string;

export interface BrowserLoadOptions {
  /** Seeded random weights, N(0, 1/fan_in): the same as `moec run --random-weights --seed S`. */
  randomSeed?: number;
  /** …or a safetensors checkpoint in any form of LANGUAGE.md §7. */
  weights?: WeightsSource;
  /** Router state (e_bias, …) from another safetensors file. */
  state?: WeightsSource;
  dtype?: "f32" | "f16";
  /** Compute routing statistics (LANGUAGE.md §10) every run: `lastStats`. */
  stats?: boolean;
  updateState?: boolean;
  lastLogits?: boolean;
}

export interface BrowserRuntime {
  readonly gpu: GpuContext;
  load(program: IrProgram, opts: BrowserLoadOptions): Promise<ExecutorProgram>;
  /** A Hugging Face checkpoint opened with openCheckpointFiles: its imported program compiled
   *  (with `set`) and its weights, tokenizer and generation settings loaded. */
  loadCheckpoint(ckpt: BrowserCheckpoint, opts?: { set?: Record<string, string | number | boolean>; dtype?: "f32" | "f16" }): Promise<BrowserModel>;
  dispose(): void;
}

const NO_WEBGPU =
  "this browser has no WebGPU (navigator.gpu is undefined): use a recent Chrome, Edge or Safari, " +
  "or Firefox with WebGPU enabled; pages must be served over https or from localhost";

/** A runtime over `opts.gpu`, or the page's navigator.gpu. */
export async function createRuntime(opts: { gpu?: GPU; adapter?: string; powerPreference?: GPUPowerPreference } = {}): Promise<BrowserRuntime> {
  const api = opts.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!api) throw new GpuUnavailableError(NO_WEBGPU);
  const gpu = await acquireGpuFrom(api, { adapter: opts.adapter, powerPreference: opts.powerPreference }, { installHelp: "the browser offers WebGPU but no adapter: check that hardware acceleration is on (chrome://gpu)" });
  return {
    gpu,
    async load(program, lopts) {
      checkDtype(gpu, lopts.dtype);
      const weights = await resolveWeights(program, lopts);
      const exec = await createExecutor(gpu, program, weights, {
        dtype: lopts.dtype, stats: lopts.stats, updateState: lopts.updateState, lastLogits: lopts.lastLogits,
      });
      return executorProgram(program, exec);
    },
    async loadCheckpoint(ckpt, opts = {}) {
      checkDtype(gpu, opts.dtype);
      return loadCheckpointModel(gpu, ckpt, ckpt.compile(opts.set), { dtype: opts.dtype });
    },
    dispose: () => gpu.dispose(),
  };
}

/** f16 storage needs the adapter's shader-f16 (SwiftShader and many browsers lack it); f32 runs everywhere. */
function checkDtype(gpu: GpuContext, dtype: string | undefined): void {
  if (dtype === "f16" && !gpu.features.f16) throw new GpuUnavailableError(`adapter '${gpu.adapterInfo.description || gpu.adapterInfo.vendor}' lacks the 'shader-f16' feature required for dtype f16; use dtype f32`);
}

async function resolveWeights(program: IrProgram, opts: BrowserLoadOptions): Promise<Map<string, Float32Array>> {
  if (opts.weights === undefined) {
    if (opts.randomSeed === undefined) throw new TypeError("load() needs `weights` or `randomSeed`");
    return randomWeights(program, opts.randomSeed);
  }
  const read = async (source: WeightsSource, role: string): Promise<SafetensorsFile | { tensor: string; message: string }> => {
    try {
      return await readSafetensorsFrom(source, role);
    } catch (e) {
      if (e instanceof SafetensorsError) return { tensor: e.tensor ?? "", message: e.message };
      throw e;
    }
  };
  const weights = await read(opts.weights, "the weights");
  const state = opts.state === undefined ? undefined : await read(opts.state, "the state");
  const errors = [weights, state].filter((f): f is { tensor: string; message: string } => f !== undefined && "message" in f);
  if (errors.length) throw new WeightsError(errors);
  const r = bindWeights(program, weights as SafetensorsFile, state as SafetensorsFile | undefined);
  if (!r.ok) throw new WeightsError(r.errors);
  return r.weights;
}

/** Parses safetensors from bytes, a Blob (in slices) or a URL (fetched; its status named on failure). */
export async function readSafetensorsFrom(source: WeightsSource, role = "the weights"): Promise<SafetensorsFile> {
  if (typeof source === "string") {
    let response: Response;
    try {
      response = await fetch(source);
    } catch (e) {
      throw new SafetensorsError(source, `${source}: cannot fetch ${role} (${(e as Error).message}).`);
    }
    if (!response.ok) throw new SafetensorsError(source, `${source}: cannot fetch ${role} (HTTP ${response.status} ${response.statusText}).`);
    return readSafetensorsBlob(await response.blob(), source);
  }
  if (typeof Blob !== "undefined" && source instanceof Blob) return readSafetensorsBlob(source);
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(source as ArrayBuffer);
  return parseSafetensors({ size: bytes.byteLength, read: (o, n) => bytes.subarray(o, o + n) }, "<bytes>");
}
