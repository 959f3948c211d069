// The device-fit check made before any upload: the bytes a program needs on the device (every
// canonical weight at the storage dtype, or at its block bytes where the store keeps it as Q8_0/Q4_0
// blocks (block-plan.ts), state in f32, and the activations of one token) against
// the bytes the device offers. WebGPU has no memory query (Dawn's memory-heaps adapter property
// is not exposed by the `webgpu` package), so what the device offers is the caller's
// `deviceMemoryBytes`, else the host's memory for a CPU adapter, whose buffers live there;
// otherwise only the per-buffer binding limit applies (the weight store splits larger tensors).

import type { IrProgram } from "../../compiler/ir/ir.js";
import { bytesPer, type StorageDtype } from "../gpu/buffers.js";
import type { GpuContext } from "../gpu/device.js";
import { canonicalLayout } from "../weights/canonical-layout.js";
import { isCpuAdapter } from "../gpu/adapter-class.js";
import { gpuBlockBytes, type GpuBlockFormat } from "../weights/quant/gpu-blocks.js";
import { blockMatrices } from "./block-plan.js";
import type { FineSchedule } from "./lower-moe-fine.js";

/** How the store keeps weights beyond the dtype: ExecutorOptions.weightFormat, and the schedule
 *  (a forced expert or dense schedule reads routed pools in the dtype). */
export interface WeightStorage {
  weightFormat?: GpuBlockFormat;
  schedule?: FineSchedule;
}

export class DeviceMemoryError extends Error {
  override name = "DeviceMemoryError";
  constructor(message: string, readonly neededBytes: number, readonly offeredBytes: number) {
    super(message);
  }
}

const numel = (s: readonly number[]) => s.reduce((a, d) => a * d, 1);

/** Bytes of weights and of one token's activations that `program` puts on the device. */
export function deviceBytesNeeded(program: IrProgram, dtype: StorageDtype, storage: WeightStorage = {}): { weights: number; activations: number } {
  const layout = canonicalLayout(program);
  const blocks = blockMatrices(program, storage.weightFormat, storage.schedule);
  let weights = 0;
  for (const t of [...layout.tensors, ...layout.poolTensors]) {
    const m = blocks.get(t.name);
    if (m && storage.weightFormat && t.role === "param" && m.rows * m.K === numel(t.shape)) weights += gpuBlockBytes(storage.weightFormat, m.rows, m.K);
    else weights += numel(t.shape) * (t.role === "state" ? 4 : bytesPer(dtype));
  }
  let activations = 0;
  for (const v of program.values) activations += v.width * (v.dtype === "i32" ? 4 : bytesPer(dtype));
  return { weights, activations };
}

/** What the device offers and why we believe it, or undefined when nothing is known. */
export function deviceMemoryOffered(gpu: GpuContext, override?: number): { bytes: number; source: string } | undefined {
  if (override !== undefined) return { bytes: override, source: "as given (deviceMemoryBytes / --device-memory)" };
  if (isCpuAdapter(gpu.adapterInfo) && gpu.hostMemoryBytes !== undefined) return { bytes: gpu.hostMemoryBytes, source: "the host's memory, which a CPU adapter's buffers live in" };
  return undefined;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** Throws DeviceMemoryError when the weights, one token's activations and the KV cache (`kv`: a
 *  generation's, by context; `uploaded`: the weights are on the device already) exceed what the device offers. */
export function checkDeviceFit(gpu: GpuContext, program: IrProgram, dtype: StorageDtype, override?: number, kv?: { bytes: number; context: number; uploaded?: boolean }, storage: WeightStorage = {}): void {
  const offered = deviceMemoryOffered(gpu, override);
  if (!offered) return;
  const need = deviceBytesNeeded(program, dtype, storage);
  const total = need.weights + need.activations + (kv?.bytes ?? 0);
  if (total <= offered.bytes) return;
  const cache = kv ? ` and ${kv.bytes} bytes of KV cache for a context of ${kv.context}` : "";
  throw new DeviceMemoryError(
    `\`${program.entry}\` needs at least ${total} bytes (${mib(total)}) on the device: ${need.weights} bytes of weights at ${dtype}${storage.weightFormat ? ` (matrices kept as ${storage.weightFormat} blocks at their block size)` : ""}, ${need.activations} bytes of activations per token${cache}; ` +
      `the device offers ${offered.bytes} bytes (${mib(offered.bytes)}; ${offered.source}). ${kv?.uploaded ? "Nothing was allocated for the cache" : "Nothing was uploaded"}.`,
    total, offered.bytes,
  );
}
