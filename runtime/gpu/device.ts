// Adapter selection and device creation over any WebGPU implementation: a browser's
// navigator.gpu, or Dawn's (the `webgpu` npm package, created in dawn.ts for Node).
//
// We ask for every optional feature the kernels can use (shader-f16, subgroups, timestamp-query)
// that the adapter has, and for the adapter's *maximum* limits: WebGPU hands out small defaults
// (128 MiB bindings, 16 KiB workgroup storage) unless asked.

import { PipelineCache } from "./pipeline-cache.js";
import type { TuningTable } from "../tune/tuning-table.js";

/** Thrown when no WebGPU adapter can be found; the message says what to install. */
export class GpuUnavailableError extends Error {
  override name = "GpuUnavailableError";
}

export interface AcquireGpuOptions {
  /** Substring (case-insensitive) of the adapter's description, vendor, device or architecture;
   *  defaults to the MOEC_ADAPTER environment variable. */
  adapter?: string;
  powerPreference?: GPUPowerPreference;
  /** Fail unless the adapter offers `shader-f16`. */
  requireF16?: boolean;
  /** Inject a navigator.gpu-like object (tests, browsers); in Node, by default Dawn's is created. */
  gpu?: GPU;
}

export interface GpuFeatures {
  f16: boolean;
  subgroups: boolean;
  timestamps: boolean;
}

export interface GpuLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBuffersPerShaderStage: number;
  minStorageBufferOffsetAlignment: number;
  minUniformBufferOffsetAlignment: number;
}

export interface GpuContext {
  /** Kept referenced for the device's lifetime: if dawn.node's GPU instance or adapter is garbage
   *  collected while a device lives, async pipeline compilation crashes the process (seen on
   *  lavapipe: futex / std::system_error aborts). */
  readonly gpu: GPU;
  readonly adapter: GPUAdapter;
  readonly adapterInfo: { vendor: string; architecture: string; device: string; description: string };
  readonly device: GPUDevice;
  readonly features: GpuFeatures;
  readonly limits: GpuLimits;
  readonly pipelines: PipelineCache;
  /** The host's memory in bytes, where known (Node: the machine's; a browser does not say):
   *  a CPU adapter's buffers live there, so device-fit checks against it. */
  readonly hostMemoryBytes?: number;
  /** The GEMM tuning table measured on this adapter (runtime/tune/), where the host found one:
   *  the CLI's GPU commands attach the cached one; executors use it unless told otherwise. */
  tuning?: TuningTable;
  /** Destroys the device (dawn.node keeps a thread busy while a device lives). Idempotent. */
  dispose(): void;
}

const OPTIONAL_FEATURES = ["shader-f16", "subgroups", "timestamp-query"] as const;
const LIMIT_NAMES: (keyof GpuLimits)[] = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "minStorageBufferOffsetAlignment",
  "minUniformBufferOffsetAlignment",
];
// Limits we request at the adapter's maximum (alignments are minimums: keep their defaults).
const REQUESTED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "maxBindingsPerBindGroup",
  "maxUniformBufferBindingSize",
] as const;

function describe(info: GPUAdapterInfo): GpuContext["adapterInfo"] {
  return {
    vendor: info.vendor ?? "",
    architecture: info.architecture ?? "",
    device: info.device ?? "",
    description: info.description ?? "",
  };
}

function matches(info: GpuContext["adapterInfo"], filter: string): boolean {
  const f = filter.toLowerCase();
  return [info.vendor, info.architecture, info.device, info.description].some((s) => s.toLowerCase().includes(f));
}

/** Where the defaults came from, for messages and the context: Node's acquireGpu fills these in. */
export interface GpuHostDefaults {
  /** The adapter filter's origin when not given in `opts` ("MOEC_ADAPTER"). */
  adapterFrom?: { filter: string; name: string };
  hostMemoryBytes?: number;
  /** Appended to "no WebGPU adapter found." (what to install). */
  installHelp?: string;
}

/** Picks an adapter of `gpu` (by `opts.adapter`, else the first) and creates a device on it with
 *  every optional feature it has and its maximum limits. */
export async function acquireGpuFrom(gpu: GPU, opts: AcquireGpuOptions = {}, host: GpuHostDefaults = {}): Promise<GpuContext> {
  const filter = opts.adapter ?? host.adapterFrom?.filter;

  // Dawn returns one adapter per request; try both power preferences to see what exists.
  const prefs: (GPUPowerPreference | undefined)[] = opts.powerPreference
    ? [opts.powerPreference]
    : [undefined, "high-performance", "low-power"];
  const seen: GPUAdapter[] = [];
  for (const p of prefs) {
    const a = await gpu.requestAdapter(p ? { powerPreference: p } : undefined);
    if (a && !seen.some((s) => describe(s.info).description === describe(a.info).description)) seen.push(a);
  }
  if (seen.length === 0) throw new GpuUnavailableError(`no WebGPU adapter found.${host.installHelp ? `\n${host.installHelp}` : ""}`);
  const adapter = filter ? seen.find((a) => matches(describe(a.info), filter)) : seen[0];
  if (!adapter) {
    const names = seen.map((a) => `'${describe(a.info).description || describe(a.info).vendor}'`).join(", ");
    throw new GpuUnavailableError(
      `no WebGPU adapter matches '${filter}' (from ${opts.adapter ? "the adapter option" : (host.adapterFrom?.name ?? "the adapter option")}); available: ${names}`,
    );
  }
  if (opts.requireF16 && !adapter.features.has("shader-f16")) {
    throw new GpuUnavailableError(
      `adapter '${describe(adapter.info).description}' lacks the 'shader-f16' feature required for dtype f16; use dtype f32`,
    );
  }

  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const requiredLimits: Record<string, number> = {};
  const adapterLimits = adapter.limits as unknown as Record<string, number>;
  for (const name of REQUESTED_LIMITS) {
    if (typeof adapterLimits[name] === "number") requiredLimits[name] = adapterLimits[name];
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const deviceLimits = device.limits as unknown as Record<string, number>;
  const limits = Object.fromEntries(LIMIT_NAMES.map((n) => [n, deviceLimits[n]])) as unknown as GpuLimits;

  let disposed = false;
  const ctx: GpuContext = {
    gpu,
    adapter,
    adapterInfo: describe(adapter.info),
    device,
    features: {
      f16: device.features.has("shader-f16"),
      subgroups: device.features.has("subgroups"),
      timestamps: device.features.has("timestamp-query"),
    },
    limits,
    pipelines: new PipelineCache(device),
    ...(host.hostMemoryBytes !== undefined ? { hostMemoryBytes: host.hostMemoryBytes } : {}),
    dispose() {
      if (disposed) return;
      disposed = true;
      device.destroy();
    },
  };
  return ctx;
}
