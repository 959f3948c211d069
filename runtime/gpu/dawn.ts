// The Node way to a GPU: Dawn (the `webgpu` npm package), one instance per process, with
// MOEC_ADAPTER, XDG_RUNTIME_DIR and the host's memory filled in. Browsers use acquireGpuFrom
// (device.ts) over navigator.gpu instead; nothing here is bundled for them.
import { totalmem } from "node:os";
import { withoutDawnLimitWarnings } from "./dawn-stderr.js";
import { GpuUnavailableError, acquireGpuFrom, type AcquireGpuOptions, type GpuContext } from "./device.js";

const INSTALL_HELP =
  "moec needs a WebGPU adapter (Dawn over Vulkan, Metal or D3D12).\n" +
  "  - Linux with a GPU: install the vendor's Vulkan driver (e.g. `apt-get install mesa-vulkan-drivers` for AMD/Intel, the NVIDIA driver for NVIDIA).\n" +
  "  - Linux without a GPU (CI): Mesa's lavapipe CPU Vulkan driver from Debian 12 backports:\n" +
  "      echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list\n" +
  "      apt-get update && apt-get install -t bookworm-backports mesa-vulkan-drivers\n" +
  "    (Debian 12's own Mesa 22 is too old for Dawn), or run `bash scripts/setup.sh`.\n" +
  "  - Set XDG_RUNTIME_DIR if it is unset; check with `vulkaninfo --summary`.";

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

/** A device on Dawn's adapter (or `opts.gpu`'s): MOEC_ADAPTER picks one when `opts.adapter` does not. */
export async function acquireGpu(opts: AcquireGpuOptions = {}): Promise<GpuContext> {
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = "/tmp";
  const gpu = opts.gpu ?? (await dawnGpu());
  const env = process.env.MOEC_ADAPTER;
  return acquireGpuFrom(gpu, opts, {
    ...(env ? { adapterFrom: { filter: env, name: "MOEC_ADAPTER" } } : {}),
    hostMemoryBytes: totalmem(),
    installHelp: INSTALL_HELP,
  });
}
