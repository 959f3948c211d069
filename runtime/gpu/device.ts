// Adapter selection and device creation over Dawn (the `webgpu` npm package).
//
// We ask for every optional feature the kernels can use (shader-f16, subgroups, timestamp-query)
// that the adapter has, and for the adapter's *maximum* limits: WebGPU hands out small defaults
// (128 MiB bindings, 16 KiB workgroup storage) unless asked.

import { withoutDawnLimitWarnings } from "./dawn-stderr.js";
import { PipelineCache } from "./pipeline-cache.js";

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
  /** Inject a navigator.gpu-like object (tests); by default Dawn's is created. */
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
  /** Destroys the device (dawn.node keeps a thread busy while a device lives). Idempotent. */
  dispose(): void;
}

const INSTALL_HELP =
  "moec needs a WebGPU adapter (Dawn over Vulkan, Metal or D3D12).\n" +
  "  - Linux with a GPU: install the vendor's Vulkan driver (e.g. `apt-get install mesa-vulkan-drivers` for AMD/Intel, the NVIDIA driver for NVIDIA).\n" +
  "  - Linux without a GPU (CI): Mesa's lavapipe CPU Vulkan driver from Debian 12 backports:\n" +
  "      echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list\n" +
  "      apt-get update && apt-get install -t bookworm-backports mesa-vulkan-drivers\n" +
  "    (Debian 12's own Mesa 22 is too old for Dawn), or run `bash scripts/setup.sh`.\n" +
  "  - Set XDG_RUNTIME_DIR if it is unset; check with `vulkaninfo --summary`.";

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

/** The process's one Dawn instance. Every acquireGpu shares it: an instance that is garbage
 *  collected while another instance's device compiles pipelines has aborted the process on
 *  lavapipe under load (a test running a dozen GPU commands in one process lost its worker), and
 *  one instance per process is all Dawn needs. */
let dawnInstance: Promise<GPU> | undefined;

function dawnGpu(): Promise<GPU> {
  dawnInstance ??= createDawnGpu().catch((e) => {
    dawnInstance = undefined;
    throw e;
  });
  return dawnInstance;
}

async function createDawnGpu(): Promise<GPU> {
  let mod: { create(flags: string[]): GPU; globals: object };
  try {
    mod = (await import("webgpu")) as unknown as typeof mod;
  } catch (e) {
    throw new GpuUnavailableError(
      `the 'webgpu' package (Dawn) could not be loaded: ${(e as Error).message}\n` +
        "Run `npm ci` at the repository root; Dawn ships prebuilt for linux-x64, darwin and win32-x64.\n" +
        INSTALL_HELP,
    );
  }
  // The enums (GPUBufferUsage, GPUMapMode, ...) must be globals for code written against the spec.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  // Dawn quantizes timestamps by default (a privacy measure for browsers); we measure kernels.
  const gpu = mod.create(["disable-dawn-features=timestamp_quantization"]);
  // The instance's first adapter request enumerates the physical devices, synchronously, and that is
  // where Dawn prints its limit warnings; later requests reuse the enumeration and print nothing.
  const first = withoutDawnLimitWarnings(() => gpu.requestAdapter());
  await first.catch(() => null);
  return gpu;
}

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

export async function acquireGpu(opts: AcquireGpuOptions = {}): Promise<GpuContext> {
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = "/tmp";
  const gpu = opts.gpu ?? (await dawnGpu());
  const filter = opts.adapter ?? process.env.MOEC_ADAPTER;

  // Dawn returns one adapter per request; try both power preferences to see what exists.
  const prefs: (GPUPowerPreference | undefined)[] = opts.powerPreference
    ? [opts.powerPreference]
    : [undefined, "high-performance", "low-power"];
  const seen: GPUAdapter[] = [];
  for (const p of prefs) {
    const a = await gpu.requestAdapter(p ? { powerPreference: p } : undefined);
    if (a && !seen.some((s) => describe(s.info).description === describe(a.info).description)) seen.push(a);
  }
  if (seen.length === 0) throw new GpuUnavailableError(`no WebGPU adapter found.\n${INSTALL_HELP}`);
  const adapter = filter ? seen.find((a) => matches(describe(a.info), filter)) : seen[0];
  if (!adapter) {
    const names = seen.map((a) => `'${describe(a.info).description || describe(a.info).vendor}'`).join(", ");
    throw new GpuUnavailableError(
      `no WebGPU adapter matches '${filter}' (from ${opts.adapter ? "the adapter option" : "MOEC_ADAPTER"}); available: ${names}`,
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
    dispose() {
      if (disposed) return;
      disposed = true;
      device.destroy();
    },
  };
  return ctx;
}
